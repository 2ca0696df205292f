/**
 * GET /v1/operations/{id} answers for every kind of workflow the service starts — user, user-auth,
 * room, reconcile (the schedule and its runs), msg, ephemeral — running, ended or unknown: 200 or
 * 404, never a 500, including the kinds that have no state query and a run no worker picks up.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ensureReconcileSchedule } from '../../lib/starters.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('ops-kinds');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('opk');
let worker: RunningProcess;
let api: TestApi;

async function operation(id: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await api.get(`/v1/operations/${encodeURIComponent(id)}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const call = (method: string, path: string, body: unknown = {}) =>
  api.app.request(path, {
    method,
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  expect((await call('PUT', `/v1/tenants/${tenant}/rooms/event/hall/members/alice`)).status).toBe(200);
}, 240_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

describe('GET /v1/operations/{id} of every kind', () => {
  it('user and room: their state', async () => {
    expect(await operation(`user:${tenant}:alice`)).toMatchObject({
      status: 200,
      body: { kind: 'user', status: 'completed' },
    });
    expect(await operation(`room:${tenant}:event:hall`)).toMatchObject({
      status: 200,
      body: { kind: 'room', status: 'completed' },
    });
  });

  it('msg: the send of one user, by its per-user id', async () => {
    const txnId = randomUUID();
    const sent = await call('POST', `/v1/tenants/${tenant}/rooms/event/hall/messages`, {
      txnId,
      body: 'hi',
      userSlug: 'alice',
    });
    expect(sent.status).toBe(200);
    expect(await operation(`msg:${tenant}:alice:${txnId}`)).toMatchObject({
      status: 200,
      body: { kind: 'msg', status: 'completed', result: { userSlug: 'alice', clientTxnId: txnId } },
    });
  });

  it('ephemeral: running while it debounces, failed once terminated (no state query either way)', async () => {
    const typing = await call('PUT', `/v1/tenants/${tenant}/rooms/event/hall/typing`, {
      typing: true,
      userSlug: 'alice',
    });
    expect(typing.status).toBe(202);
    const id = `ephemeral:${tenant}:alice:event:hall`;
    expect(await operation(id)).toMatchObject({
      status: 200,
      body: { kind: 'ephemeral', workflowStatus: 'RUNNING', status: 'running' },
    });
    await api.temporal.workflow.getHandle(id).terminate('test: an ended ephemeral workflow');
    expect(await operation(id)).toMatchObject({
      status: 200,
      body: { kind: 'ephemeral', workflowStatus: 'TERMINATED', status: 'failed' },
    });
  });

  it('user-auth: running with no worker to answer a query, then ended', async () => {
    // A run no worker polls: as when the workers are down. A state query would never be answered.
    const id = `user-auth:${tenant}:zed`;
    await api.temporal.workflow.start('reauthUserWorkflow', {
      workflowId: id,
      taskQueue: uniqueTaskQueue('nobody-polls'),
      args: [{ tenant, slug: 'zed', staleGeneration: 1 }],
    });
    const started = Date.now();
    expect(await operation(id)).toMatchObject({
      status: 200,
      body: { kind: 'user-auth', workflowStatus: 'RUNNING', status: 'running' },
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    await api.temporal.workflow.getHandle(id).terminate('test: an ended re-auth');
    expect(await operation(id)).toMatchObject({ status: 200, body: { kind: 'user-auth', status: 'failed' } });
  }, 30_000);

  it('reconcile: the schedule answers with its latest run, and the run by its own id', async () => {
    await ensureReconcileSchedule(api.temporal, config, tenant);
    expect(await operation(`reconcile:${tenant}`)).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
    await api.temporal.schedule.getHandle(`reconcile:${tenant}`).trigger();
    const latest = await eventually(
      async () => {
        const op = await operation(`reconcile:${tenant}`);
        return op.status === 200 && op.body.status === 'completed' ? op : null;
      },
      60_000,
      'the triggered reconcile run',
    );
    expect(latest.body).toMatchObject({
      kind: 'reconcile',
      workflowId: expect.stringMatching(new RegExp(`^reconcile:${tenant}-\\d{4}-`)),
    });
    expect(await operation(String(latest.body.workflowId))).toMatchObject({
      status: 200,
      body: { kind: 'reconcile', status: 'completed' },
    });
  }, 90_000);

  it.each([
    ['user', () => `user:${tenant}:nobody`],
    ['user-auth', () => `user-auth:${tenant}:nobody`],
    ['room', () => `room:${tenant}:group:nowhere`],
    ['msg', () => `msg:${tenant}:alice:never-sent`],
    ['ephemeral', () => `ephemeral:${tenant}:bob:event:hall`],
    ['reconcile', () => `reconcile:${uniqueTenant('none')}`],
    ['reconcile run', () => `reconcile:${tenant}-2020-01-01T00:00:00Z`],
  ])('%s that does not exist: 404', async (_kind, id) => {
    expect(await operation(id())).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
  });
});
