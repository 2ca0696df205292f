/**
 * A transparent HTTP proxy in the test process that records what a worker asks of Synapse: the
 * worker is pointed at it (MATRIX_HOMESERVER_URL), it forwards everything unchanged, and a test
 * reads which requests a step made — a repeat that must write nothing, a list that must write the
 * power levels once.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  status: number;
}

/** A transparent HTTP proxy to `target` that records each request's method, path and status. */
function recordingProxy(target: string): { server: Server; seen: Seen[] } {
  const seen: Seen[] = [];
  const to = new URL(target);
  const server = createServer((req, res) => {
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } },
      (up) => {
        seen.push({ method: req.method!, path: req.url!.split('?')[0]!, status: up.statusCode! });
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return { server, seen };
}

/**
 * A recording proxy to `homeserver` for the file's tests: listening before the fixture's own
 * beforeAll (call this before `serviceFixture`, passing `workerEnv` to it), closed after them.
 */
export function recordHomeserver(homeserver: string): { seen: Seen[]; workerEnv: Record<string, string> } {
  const proxy = recordingProxy(homeserver);
  const workerEnv: Record<string, string> = {};
  beforeAll(async () => {
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    workerEnv.MATRIX_HOMESERVER_URL = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy.server.closeAllConnections();
    await new Promise((resolve) => proxy.server.close(resolve));
  });
  return { seen: proxy.seen, workerEnv };
}
