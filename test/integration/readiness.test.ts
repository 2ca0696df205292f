/**
 * /readyz of the API app and of a real worker process follows the dependencies: 503 naming the
 * one that is down while PostgreSQL or Synapse is stopped, 200 again once it is back. /healthz
 * stays 200 throughout (the process itself is fine).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, testConfig, uniqueTaskQueue } from '../helpers/env.js';
import { startWorker, workerHttpUrl, type RunningProcess } from '../helpers/processes.js';
import { stack } from '../helpers/stack.js';

const config = testConfig();
let api: TestApi;
let worker: RunningProcess;
let workerUrl: string;

beforeAll(async () => {
  worker = await startWorker(uniqueTaskQueue('readiness'));
  workerUrl = workerHttpUrl(worker);
  api = await createTestApi(config);
});
afterAll(async () => {
  // Whatever happened, leave the stack running for the next file (`up` starts only what is stopped).
  await stack(['up', 'postgres']);
  await stack(['up', 'synapse']);
  await api?.close();
  await worker?.stop();
});

interface Readiness {
  status: number;
  body: { status: string; checks: Record<string, string> };
  text: string;
}

async function read(res: Response): Promise<Readiness> {
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Readiness['body'], text };
}
const probes = {
  api: async () => read(await api.app.request('/readyz')),
  worker: async () => read(await fetch(`${workerUrl}/readyz`)),
};
const healthz = {
  api: async () => (await api.app.request('/healthz')).status,
  worker: async () => (await fetch(`${workerUrl}/healthz`)).status,
};

/** Waits until `who`'s /readyz answers `status`, and returns that answer. */
function until(who: keyof typeof probes, status: number, what: string): Promise<Readiness> {
  return eventually(
    async () => {
      const r = await probes[who]();
      return r.status === status ? r : null;
    },
    60_000,
    `${who} /readyz ${status} (${what})`,
  );
}

const SECRETS = [config.matrix.adminPassword, config.matrix.asToken, new URL(config.databaseUrl).password];

describe('/readyz', () => {
  it('is 200 with every check ok while the stack is up', async () => {
    const a = await until('api', 200, 'stack up');
    expect(a.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok', homeserver: 'ok' } });
    const w = await until('worker', 200, 'stack up');
    expect(w.body).toEqual({
      status: 'ready',
      checks: { database: 'ok', temporal: 'ok', homeserver: 'ok', worker: 'ok' },
    });
  });

  it('turns 503 naming the database while PostgreSQL is stopped, and 200 once it is back', async () => {
    await stack(['stop', 'postgres']);
    for (const p of ['api', 'worker'] as const) {
      const r = await until(p, 503, 'PostgreSQL stopped');
      expect(r.body.status).toBe('unready');
      expect(r.body.checks.database).toMatch(/^error: \S/);
      expect(r.body.checks.temporal).toBe('ok');
      expect(r.body.checks.homeserver).toBe('ok');
      for (const secret of SECRETS) expect(r.text).not.toContain(secret);
      expect(await healthz[p]()).toBe(200);
    }

    await stack(['up', 'postgres']);
    for (const p of ['api', 'worker'] as const) {
      const r = await until(p, 200, 'PostgreSQL back');
      expect(r.body.checks.database).toBe('ok');
    }
  });

  it('turns 503 naming the homeserver while Synapse is stopped, and 200 once it is back', async () => {
    await stack(['stop', 'synapse']);
    for (const p of ['api', 'worker'] as const) {
      const r = await until(p, 503, 'Synapse stopped');
      expect(r.body.status).toBe('unready');
      expect(r.body.checks.homeserver).toMatch(/^error: \S/);
      expect(r.body.checks.database).toBe('ok');
      expect(r.body.checks.temporal).toBe('ok');
      for (const secret of SECRETS) expect(r.text).not.toContain(secret);
      expect(await healthz[p]()).toBe(200);
    }

    await stack(['up', 'synapse']);
    for (const p of ['api', 'worker'] as const) {
      const r = await until(p, 200, 'Synapse back');
      expect(r.body.checks.homeserver).toBe('ok');
    }
  });

  it('answers within the check timeout even when a dependency hangs', async () => {
    // A socket that accepts and never answers: the homeserver check must give up, not hang.
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const hung = await createTestApi(testConfig({ MATRIX_HOMESERVER_URL: `http://127.0.0.1:${port}` }));
    try {
      const started = Date.now();
      const r = await read(await hung.app.request('/readyz'));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(r.status).toBe(503);
      expect(r.body.checks).toEqual({
        database: 'ok',
        temporal: 'ok',
        homeserver: expect.stringMatching(/^error: .*(time|abort)/i),
      });
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
      await hung.close();
    }
  });
});
