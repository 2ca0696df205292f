import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReadinessReport } from '../adapters/readiness.js';

export interface WorkerHttpOptions {
  host: string;
  /** 0 picks a free port; the bound one is in `url`. */
  port: number;
  metrics: () => Promise<string>;
  metricsContentType: string;
  readiness: () => Promise<ReadinessReport>;
  onError: (err: unknown, path: string) => void;
}

export interface WorkerHttp {
  url: string;
  close: () => Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The worker's operational endpoints: `GET /metrics` (Prometheus text), `GET /healthz` (the
 * process is alive) and `GET /readyz` (its dependencies answer). Nothing else is served.
 */
export async function startWorkerHttp(opts: WorkerHttpOptions): Promise<WorkerHttp> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz';
    if (!known) return json(res, 404, { errcode: 'M_UNRECOGNIZED', error: `no route for ${req.method} ${path}` });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, { errcode: 'M_UNRECOGNIZED', error: `${path} only answers GET` });
    }
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const report = await opts.readiness();
      return json(res, report.status === 'ready' ? 200 : 503, report);
    }
    const text = await opts.metrics();
    res.writeHead(200, { 'content-type': opts.metricsContentType, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.onError(err, req.url ?? '');
      if (!res.headersSent) json(res, 500, { errcode: 'M_UNKNOWN', error: 'internal error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    // Called once the worker has drained: nothing is left to report, so open scrapes are cut.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
