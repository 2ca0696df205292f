/**
 * SIGTERM on real processes. The API (dist/api/main.js) stops accepting connections, lets every
 * request already in flight finish with its real answer (none reset), closes idle keep-alive
 * sockets instead of waiting for them, and exits 0. The worker lets the SDK drain, closes its
 * HTTP server and database pool, and exits 0. A request still open when the API's grace period
 * runs out is cut, and the API exits 1. Realtime sockets: new ones are refused from the signal on,
 * open ones closed with 1001, within the grace period.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect, createServer } from 'node:net';
import { serviceToken } from '../helpers/api.js';
import { sleep, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startProcess, startWorker, workerHttpUrl, type RunningProcess } from '../helpers/processes.js';
import { RelayClient, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('shutdown');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue });
const tenant = uniqueTenant('shut');
let worker: RunningProcess;
let api: RunningProcess | undefined;

beforeAll(async () => {
  worker = await startWorker(taskQueue);
});
afterAll(async () => {
  await api?.stop('SIGKILL');
  await worker?.stop();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Answer {
  status: number;
  body: string;
  connection: string | undefined;
}

/**
 * A POST whose body is sent in two halves: the request is in flight (the server is reading it)
 * until `finish()` sends the rest.
 */
function slowPost(
  agent: Agent,
  port: number,
  path: string,
  body: string,
  token: string,
): { sent: Promise<void>; finish: () => void; answer: Promise<Answer> } {
  const half = Math.floor(body.length / 2);
  let onSent: () => void = () => undefined;
  const sent = new Promise<void>((r) => (onSent = r));
  const req = request({
    host: '127.0.0.1',
    port,
    path,
    method: 'POST',
    agent,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }));
    });
  });
  req.write(body.slice(0, half), () => onSent());
  return { sent, finish: () => req.end(body.slice(half)), answer };
}

/** Whether a TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

it('on SIGTERM stops accepting, finishes the requests in flight, closes idle sockets and exits 0', async () => {
  const port = await freePort();
  api = await startProcess(
    'dist/api/main.js',
    { API_PORT: String(port), TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '30000', API_SHUTDOWN_GRACE_MS: '20000' },
    /api listening/,
  );
  const token = await serviceToken(config);
  const exited = new Promise<number | null>((resolve) => api!.child.once('exit', (code) => resolve(code)));

  // An idle keep-alive connection: shutdown must close it rather than wait for it.
  const idle = connect({ host: '127.0.0.1', port });
  const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
  idle.on('error', () => undefined);
  await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
  idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise<void>((resolve) => idle.once('data', () => resolve()));

  // Keep-alive clients: a `Connection: close` in the answers is the server's doing.
  const agent = new Agent({ keepAlive: true });
  const burst = Array.from({ length: 20 }, (_, i) =>
    slowPost(
      agent,
      port,
      `/v1/tenants/${tenant}/users`,
      JSON.stringify({ slug: `inflight${i}`, displayName: `In Flight ${i}` }),
      token,
    ),
  );
  await Promise.all(burst.map((b) => b.sent));
  await sleep(200); // the server has read the first halves

  const signalled = Date.now();
  api.child.kill('SIGTERM');
  await sleep(500);
  expect(await refused(port)).toBe(true);
  expect(api.child.exitCode).toBeNull(); // still serving the burst

  burst.forEach((b) => b.finish());
  const answers = await Promise.all(burst.map((b) => b.answer));
  for (const [i, a] of answers.entries()) {
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toMatchObject({ status: 'completed', userId: `@om_${tenant}_inflight${i}:localhost` });
    expect(a.connection).toBe('close');
  }

  expect(await exited).toBe(0);
  await idleClosed;
  expect(Date.now() - signalled).toBeLessThan(15_000);
  expect(api.output()).toMatch(/"outcome":"drained"/);
  agent.destroy();
});

it('a worker process on SIGTERM drains, closes its HTTP server (even with a scraper connected) and exits 0', async () => {
  const w = await startWorker(uniqueTaskQueue('shutdown-worker'));
  const url = new URL(workerHttpUrl(w));
  const port = Number(url.port);
  // A scraper holding a keep-alive connection must not keep the process alive.
  const scraper = connect({ host: '127.0.0.1', port });
  scraper.on('error', () => undefined);
  const scraperClosed = new Promise<void>((resolve) => scraper.once('close', () => resolve()));
  await new Promise<void>((resolve) => scraper.once('connect', () => resolve()));
  scraper.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise<void>((resolve) => scraper.once('data', () => resolve()));

  const signalled = Date.now();
  expect(await w.stop('SIGTERM')).toBe(0);
  expect(Date.now() - signalled).toBeLessThan(15_000);
  await scraperClosed;
  expect(await refused(port)).toBe(true);
  expect(w.output()).toMatch(/"msg":"worker stopped"/);
});

it('cuts a request still open when API_SHUTDOWN_GRACE_MS runs out, and exits 1 saying so', async () => {
  const port = await freePort();
  const proc = await startProcess(
    'dist/api/main.js',
    { API_PORT: String(port), TEMPORAL_TASK_QUEUE: taskQueue, API_SHUTDOWN_GRACE_MS: '1000' },
    /api listening/,
  );
  try {
    const agent = new Agent({ keepAlive: true });
    const body = JSON.stringify({ slug: 'never-finished', displayName: 'Never' });
    const stuck = slowPost(agent, port, `/v1/tenants/${tenant}/users`, body, await serviceToken(config));
    const cut = expect(stuck.answer).rejects.toThrow(/socket hang up|ECONNRESET/);
    await stuck.sent;
    await sleep(200);
    const signalled = Date.now();
    expect(await proc.stop('SIGTERM')).toBe(1);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - signalled).toBeLessThan(5000);
    await cut;
    expect(proc.output()).toMatch(/grace period over/);
    agent.destroy();
  } finally {
    await proc.stop('SIGKILL');
  }
});

it('on SIGTERM refuses new sockets at once (error frame, then 1001), closes the open ones with 1001, and exits 0 within the grace period', async () => {
  const port = await freePort();
  const proc = await startProcess(
    'dist/api/main.js',
    { API_PORT: String(port), TEMPORAL_TASK_QUEUE: taskQueue, API_SHUTDOWN_GRACE_MS: '5000' },
    /api listening/,
  );
  try {
    const url = `http://127.0.0.1:${port}`;
    const token = await userToken(config, tenant, 'alice');
    const polite = await RelayClient.connect(url, token);
    // A client that has stopped reading: it never answers the close, so closing the sockets takes a while.
    const deaf = await RelayClient.connect(url, token);
    await Promise.all([polite, deaf].map((c) => c.waitFor((f) => f.type === 'live')));
    (deaf.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));

    const signalled = Date.now();
    proc.child.kill('SIGTERM');
    expect(await polite.closed).toEqual({ code: 1001, reason: expect.stringMatching(/shutting down/) });
    // Reconnecting at once, as a client told 1001 does: refused, and told so.
    const again = await RelayClient.connect(url, token);
    expect(await again.closed).toEqual({ code: 1001, reason: expect.stringMatching(/shutting down/) });
    expect(again.frames).toEqual([
      expect.objectContaining({ type: 'error', errcode: 'OM_UNAVAILABLE', retryAfterMs: expect.any(Number) }),
    ]);
    expect(await exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(proc.output()).toMatch(/"outcome":"drained"/);
  } finally {
    await proc.stop('SIGKILL');
  }
});
