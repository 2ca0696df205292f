/**
 * With no worker polling the task queue, nobody can accept a change: the API must answer 503 in
 * bounded time instead of hanging, and the repeat, once a worker runs, must apply it exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { adminFor, adminToken, listUsers } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('no-worker');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '30000', API_ACCEPT_TIMEOUT_MS: '2000' });
const tenant = uniqueTenant('nowk');
let api: TestApi;
let worker: RunningProcess | undefined;

beforeAll(async () => {
  api = await createTestApi(config);
});
afterAll(async () => {
  await worker?.stop();
  // Only the pool: the Temporal SDK may still hold a retry timer of the aborted calls, which throws
  // from the timer once its connection is closed; the connection goes with the test process.
  await api?.db.end();
});

describe('a write nobody can accept', () => {
  it('answers 503 naming the problem within the accept timeout, for users and rooms alike', async () => {
    const started = Date.now();
    const user = await api.post(`/v1/tenants/${tenant}/users`, { slug: 'ada', displayName: 'Ada' });
    const userMs = Date.now() - started;
    expect(user.status).toBe(503);
    const body = (await user.json()) as { errcode: string; error: string };
    expect(body.errcode).toBe('OM_UNAVAILABLE');
    expect(body.error).toMatch(/no worker accepted the request within 2 s/);
    expect(userMs).toBeLessThan(15_000);

    const room = await api.app.request(`/v1/tenants/${tenant}/rooms/group/hikers`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(room.status).toBe(503);
    expect(((await room.json()) as { errcode: string }).errcode).toBe('OM_UNAVAILABLE');
  });

  it('applies the repeated request exactly once when a worker comes', async () => {
    worker = await startWorker(taskQueue);
    const again = await api.post(`/v1/tenants/${tenant}/users`, { slug: 'ada', displayName: 'Ada' });
    expect(again.status).toBe(200);
    const body = (await again.json()) as { userId: string; status: string };
    expect(body.status).toBe('completed');
    // The first (unaccepted) request and the repeat end in one user with one display name.
    const onServer = await adminFor(config).getUser(body.userId);
    expect(onServer).toMatchObject({ userId: body.userId, displayName: 'Ada', deactivated: false });
    const prefix = `${config.matrix.userPrefix}_${tenant}_`;
    expect(await listUsers(config, await adminToken(config), prefix)).toEqual([body.userId]);
  });
});
