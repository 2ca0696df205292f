/**
 * Against a Synapse on its own default rate limits (a second, Synapse-only stack): provisioning 30
 * users in parallel, and inviting and joining 40 users into one room, complete with every user
 * correct: rate limits are waited out, not surfaced, and nothing is reported done that is not.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { adminFor, adminToken, botView, listUsers, whoami } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { readStackEnv, stack } from '../helpers/stack.js';
import pg from 'pg';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';

const RL_STACK = { STACK_NAME: 'test-ratelimits', STACK_PORT_OFFSET: '11000', SYNAPSE_RATE_LIMITS: 'default' };
const taskQueue = uniqueTaskQueue('ratelimits');
const tenant = uniqueTenant('rl');
let api: TestApi;
let worker: RunningProcess;
let overrides: Record<string, string>;

beforeAll(async () => {
  await stack(['up', 'synapse'], RL_STACK);
  const rl = await readStackEnv('test-ratelimits');
  overrides = {
    TEMPORAL_TASK_QUEUE: taskQueue,
    API_WAIT_MS: '120000',
    MATRIX_HOMESERVER_URL: rl.MATRIX_HOMESERVER_URL!,
    MATRIX_ADMIN_PASSWORD: rl.MATRIX_ADMIN_PASSWORD!,
    MATRIX_AS_TOKEN: rl.MATRIX_AS_TOKEN!,
    MATRIX_HS_TOKEN: rl.MATRIX_HS_TOKEN!,
  };
  worker = await startWorker(taskQueue, overrides);
  api = await createTestApi(testConfig(overrides));
}, 180_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await stack(['down'], RL_STACK);
});

it('provisions 30 users in parallel under Synapse default rate limits, every one correct', async () => {
  const config = testConfig(overrides);
  const slugs = Array.from({ length: 30 }, (_, i) => `user${i}`);
  const responses = await Promise.all(slugs.map((slug) => api.post(`/v1/tenants/${tenant}/users`, { slug, displayName: `User ${slug}` })));
  expect(responses.map((r) => r.status)).toEqual(Array(30).fill(200));

  const t = await adminToken(config);
  const onServer = await listUsers(config, t, `om_${tenant}_`);
  expect(onServer.sort()).toEqual(slugs.map((s) => `@om_${tenant}_${s}:localhost`).sort());
  const admin = adminFor(config);
  const db = new pg.Pool({ connectionString: config.databaseUrl });
  try {
    const store = createUserStore(db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
    for (const slug of slugs) {
      const userId = `@om_${tenant}_${slug}:localhost`;
      expect((await admin.getUser(userId))?.displayName).toBe(`User ${slug}`);
      expect(await whoami(config, (await store.getToken(tenant, slug))!)).toBe(userId);
    }
  } finally {
    await db.end();
  }
});

it('invites and joins 40 users into one room under Synapse default rate limits, every one joined', async () => {
  const config = testConfig(overrides);
  const slugs = Array.from({ length: 40 }, (_, i) => `joiner${i}`);
  const path = `/v1/tenants/${tenant}/rooms/event/crowded`;
  const created = await api.app.request(path, {
    method: 'PUT',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Crowded' }),
  });
  expect(created.status).toBe(200);
  const { roomId } = (await created.json()) as { roomId: string };
  const responses = await Promise.all(
    slugs.map((slug) =>
      api.app.request(`${path}/members/${slug}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'member' }),
      }),
    ),
  );
  // 200 means done; 202 (still waiting out rate limits after API_WAIT_MS) must become done too.
  expect(responses.every((r) => r.status === 200 || r.status === 202)).toBe(true);
  const expected = ['@openmeet-bot:localhost', ...slugs.map((s) => `@om_${tenant}_${s}:localhost`)].sort();
  const done = responses.filter((r) => r.status === 200).length;
  if (done === 40) expect(await botView(config).joined(roomId)).toEqual(expected);
  await eventually(async () => JSON.stringify(await botView(config).joined(roomId)) === JSON.stringify(expected), 300_000, 'all 40 to be joined');
}, 600_000);
