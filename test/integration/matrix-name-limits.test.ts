/**
 * The longest names that fit Matrix's 255 bytes work end to end on the real homeserver, and one
 * byte more is a 400 naming the limit, never a 502 from the homeserver refusing it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { roomAliasLocalpart } from '../../workflows/ids.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('name-limits');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
// The longest tenant (32 characters), unique to this run.
const tenant = `lim-${randomBytes(14).toString('hex')}`;
let worker: RunningProcess;
let api: TestApi;

const call = async (method: string, path: string, body: unknown = {}) => {
  const res = await api.app.request(`/v1/tenants/${tenant}${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  expect(tenant).toHaveLength(32);
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
}, 120_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

describe(`names at Matrix's 255-byte limit (server "${config.matrix.serverName}")`, () => {
  it('the longest user slug (100 capitals, escaped to 200 characters) is provisioned', async () => {
    const slug = 'A'.repeat(100);
    const res = await call('POST', '/users', { slug, displayName: 'Long' });
    expect(res.status).toBe(200);
    expect(Buffer.byteLength(String(res.body.userId))).toBe(247 - 9 + Buffer.byteLength(config.matrix.serverName));
  }, 60_000);

  it('the longest event room slug gets its alias', async () => {
    const res = await call('PUT', `/rooms/event/${'A'.repeat(100)}`);
    expect(res.status).toBe(200);
    expect(res.body.alias).toBe(
      `#${roomAliasLocalpart('om', tenant, 'event', 'A'.repeat(100))}:${config.matrix.serverName}`,
    );
  }, 60_000);

  it('a DM whose alias is exactly 255 bytes is created; one byte more is a 400 naming the limit', async () => {
    const a = 'B' + 'a'.repeat(99); // escapes to 101 characters
    const b = 'C' + 'c'.repeat(99);
    const alias = (x: string, y: string) =>
      `#${roomAliasLocalpart('om', tenant, 'dm', [x, y].sort().join('~'))}:${config.matrix.serverName}`;
    expect(config.matrix.serverName).toBe('localhost');
    expect(Buffer.byteLength(alias(a, b))).toBe(255);
    const made = await call('POST', '/dms', { users: [a, b] });
    expect(made).toMatchObject({ status: 200, body: { alias: alias(a, b) } });

    const longer = 'C' + 'D' + 'c'.repeat(98); // 102 characters escaped
    expect(Buffer.byteLength(alias(a, longer))).toBe(256);
    expect(await call('POST', '/dms', { users: [a, longer] })).toEqual({
      status: 400,
      body: {
        errcode: 'M_INVALID_PARAM',
        error: expect.stringMatching(/the room alias would be 256 bytes, over Matrix's limit of 255/),
      },
    });
    // The same through the event intake.
    const intake = await call('POST', '/events', { type: 'chat.dm.created', data: { users: [a, longer] } });
    expect(intake).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
  }, 120_000);
});
