/**
 * Against a Synapse on its own default rate limits (a second, Synapse-only stack), provisioning 30
 * users in parallel completes with every user correct: rate limits are waited out, not surfaced.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { adminFor, adminToken, listUsers, whoami } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { readStackEnv, stack } from '../helpers/stack.js';
import pg from 'pg';
import { createUserStore } from '../../activities/store/users.js';
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
    API_WAIT_MS: '90000',
    MATRIX_HOMESERVER_URL: rl.MATRIX_HOMESERVER_URL!,
    MATRIX_ADMIN_PASSWORD: rl.MATRIX_ADMIN_PASSWORD!,
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
