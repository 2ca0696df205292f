/**
 * Sends, typing and receipts over HTTP with a user JWT are limited per user (decision 0023): 429
 * `M_LIMIT_EXCEEDED` with `retry_after_ms` and `Retry-After`, then allowed again; other users and
 * the platform backend's service JWT are not held back.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { sleep, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('msg-rate');
const config = testConfig({
  TEMPORAL_TASK_QUEUE: taskQueue,
  RELAY_HTTP_RATE_PER_SECOND: '2',
  RELAY_HTTP_RATE_BURST: '3',
});
const tenant = uniqueTenant('rate');
let worker: RunningProcess;
let api: TestApi;

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  await eventRoomWith(api, tenant, 'chat', ['alice', 'bob']);
}, 240_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

describe('HTTP sends, typing and receipts per user', () => {
  const typing = async (slug: string, asService = false) =>
    api.app.request(`/v1/tenants/${tenant}/rooms/event/chat/typing`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${asService ? api.token : await userToken(config, tenant, slug)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(asService ? { typing: true, userSlug: slug } : { typing: true }),
    });

  it('answers a user JWT 429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After beyond the burst, per user, then allows again', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await typing('alice')).status);
    expect(statuses).toEqual([202, 202, 202]);
    const limited = await typing('alice');
    expect(limited.status).toBe(429);
    const body = (await limited.json()) as { errcode: string; error: string; retry_after_ms: number };
    expect(body).toEqual({
      errcode: 'M_LIMIT_EXCEEDED',
      error: 'too many requests: at most 2 per second per user (burst 3)',
      retry_after_ms: expect.any(Number),
    });
    expect(body.retry_after_ms).toBeGreaterThan(0);
    expect(body.retry_after_ms).toBeLessThanOrEqual(1_500);
    expect(Number(limited.headers.get('retry-after'))).toBe(Math.ceil(body.retry_after_ms / 1000));
    // Receipts and sends count against the same allowance.
    const receipt = await api.app.request(`/v1/tenants/${tenant}/rooms/event/chat/receipts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await userToken(config, tenant, 'alice')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ eventId: '$x' }),
    });
    expect(receipt.status).toBe(429);
    // Another user is not held back by alice; the platform backend (service JWT) acting for alice is not limited.
    expect((await typing('bob')).status).toBe(202);
    expect((await typing('alice', true)).status).toBe(202);
    await sleep(body.retry_after_ms + 50);
    expect((await typing('alice')).status).toBe(202);
  });
});
