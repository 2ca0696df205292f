/**
 * Rotating the token encryption key: every stored token is re-encrypted under the new key and
 * still works on Matrix, and the old key can then be removed. A worker missing a key in use
 * refuses to start, naming it. Runs on a database of its own (rotation touches every row).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { createUserStore } from '../../adapters/store/users.js';
import { loadConfig } from '../../lib/config.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { ROOT, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { whoami } from '../helpers/matrix.js';
import { startProcess, startWorker, type RunningProcess } from '../helpers/processes.js';

const run = promisify(execFile);
const dbName = `rotation_${randomBytes(4).toString('hex')}`;
const databaseUrl = stackEnv().DATABASE_URL!.replace(/\/[^/]+$/, `/${dbName}`);
const oldKeys = stackEnv().TOKEN_ENCRYPTION_KEYS!;
const newKey = `k2:${randomBytes(32).toString('base64')}`;
const taskQueue = uniqueTaskQueue('rotation');
const tenant = uniqueTenant('rot');
const base = { DATABASE_URL: databaseUrl, TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' };
let admin: pg.Client;
let api: TestApi;
let worker: RunningProcess | undefined;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: stackEnv().DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  api = await createTestApi(testConfig(base));
});
afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

async function rows(): Promise<{ slug: string; token_key_id: string }[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await c.query('SELECT slug, token_key_id FROM matrix_users ORDER BY slug')).rows;
  } finally {
    await c.end();
  }
}

it('re-encrypts every token under the new key; tokens still work; the old key can go; a missing key stops the worker at start', async () => {
  worker = await startWorker(taskQueue, base);
  const slugs = ['ada', 'bo', 'cy'];
  for (const slug of slugs) expect((await api.post(`/v1/tenants/${tenant}/users`, { slug, displayName: slug })).status).toBe(200);
  await worker.stop();
  worker = undefined;
  expect((await rows()).map((r) => r.token_key_id)).toEqual(['k1', 'k1', 'k1']);

  // Before rotation, a worker that only knows the new key refuses to start and says why.
  const early = await startProcess('dist/worker/main.js', { ...base, WORKER_HTTP_PORT: '0', TOKEN_ENCRYPTION_KEYS: newKey }, /worker running/).then(
    async (p) => {
      await p.stop();
      return 'started';
    },
    (err: Error) => err.message,
  );
  expect(early).toMatch(/exited with 2/);
  expect(early).toMatch(/stored tokens are sealed with key "k1", which is not configured/);

  const env = { ...process.env, ...base, TOKEN_ENCRYPTION_KEYS: `${oldKeys},${newKey}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k2' };
  const { stdout } = await run(process.execPath, ['dist/scripts/rotate-keys.js'], { cwd: ROOT, env });
  expect(JSON.parse(stdout)).toEqual({ activeKeyId: 'k2', rotated: 3, alreadyActive: 0 });
  expect((await rows()).map((r) => r.token_key_id)).toEqual(['k2', 'k2', 'k2']);
  const again = await run(process.execPath, ['dist/scripts/rotate-keys.js'], { cwd: ROOT, env });
  expect(JSON.parse(again.stdout)).toEqual({ activeKeyId: 'k2', rotated: 0, alreadyActive: 3 });

  // The old key removed: tokens decrypt under the new key alone and still work on Matrix.
  const onlyNew = loadConfig({ ...stackEnv(), ...base, TOKEN_ENCRYPTION_KEYS: newKey });
  const db = new pg.Pool({ connectionString: databaseUrl });
  try {
    const store = createUserStore(db, new TokenCipher(onlyNew.tokens.keys, onlyNew.tokens.activeKeyId));
    for (const slug of slugs) expect(await whoami(onlyNew, (await store.getToken(tenant, slug))!)).toBe(`@om_${tenant}_${slug}:localhost`);
  } finally {
    await db.end();
  }
  worker = await startWorker(taskQueue, { ...base, TOKEN_ENCRYPTION_KEYS: newKey });
  expect((await api.post(`/v1/tenants/${tenant}/users`, { slug: 'ada', displayName: 'Ada L' })).status).toBe(200);
});
