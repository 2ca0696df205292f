/**
 * A webhook receiver for tests: a real HTTP server on loopback that keeps every request (headers
 * and raw body) and answers as its mode says: `up` 200, `gone` 410, `lose-ack-once` records the
 * next request then answers 500 (an acknowledgement lost on the way), `down` closes the port.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { freePort } from './relay.js';

export interface Received {
  id: string;
  signature: string;
  type: string;
  raw: string;
  body: Record<string, unknown>;
  at: number;
}

export type ReceiverMode = 'up' | 'gone' | 'lose-ack-once' | 'down';

const read = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export class WebhookReceiver {
  readonly received: Received[] = [];
  private server: Server | null = null;
  private mode: ReceiverMode = 'down';

  private constructor(readonly port: number) {}

  static async create(): Promise<WebhookReceiver> {
    return new WebhookReceiver(await freePort());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async set(mode: ReceiverMode): Promise<void> {
    this.mode = mode;
    if (mode === 'down') return this.close();
    if (this.server) return;
    const server = createServer((req, res) => {
      void read(req).then((raw) => {
        this.received.push({
          id: String(req.headers['x-om-delivery-id']),
          signature: String(req.headers['x-om-signature']),
          type: String(req.headers['x-om-event-type']),
          raw,
          body: JSON.parse(raw) as Record<string, unknown>,
          at: Date.now(),
        });
        const status = this.mode === 'gone' ? 410 : this.mode === 'lose-ack-once' ? 500 : 200;
        if (this.mode === 'lose-ack-once') this.mode = 'up';
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
