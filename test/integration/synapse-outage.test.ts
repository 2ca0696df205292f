/**
 * With Synapse stopped mid-provisioning, the workflow waits (activities retry) and completes once
 * Synapse is back; the API answers 202 with the operation to follow meanwhile.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, sleep, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { adminFor } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { stack } from '../helpers/stack.js';

const taskQueue = uniqueTaskQueue('outage');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '2000' });
const tenant = uniqueTenant('outage');
let api: TestApi;
let worker: RunningProcess;

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
});
afterAll(async () => {
  await stack(['up', 'synapse']); // whatever happened, leave Synapse running for the next file
  await api?.close();
  await worker?.stop();
});

it('waits for a stopped Synapse and completes the provisioning once it is back', async () => {
  await stack(['stop', 'synapse']);
  const res = await api.post(`/v1/tenants/${tenant}/users`, { slug: 'patient', displayName: 'Patient Zero' });
  expect(res.status).toBe(202);
  const accepted = (await res.json()) as { status: string; operation: string; userId: string };
  expect(accepted.status).toBe('running');
  expect(res.headers.get('location')).toBe(accepted.operation);

  await sleep(4000);
  const during = (await (await api.get(accepted.operation)).json()) as { status: string };
  expect(during.status).toBe('running');
  // What an operator sees in the UI meanwhile: a pending activity with its attempts and last
  // failure (a reason the calls stay regular activities: decision 0015).
  const pending =
    (await api.temporal.workflow.getHandle(`user:${tenant}:patient`).describe()).raw.pendingActivities ?? [];
  expect(pending.map((a) => a.activityType?.name)).toEqual(['provisionMatrixUser']);
  expect(pending[0]!.attempt).toBeGreaterThanOrEqual(2);
  expect(pending[0]!.lastFailure?.message).toBeTruthy();

  await stack(['up', 'synapse']);
  const done = await eventually(
    async () => {
      const op = (await (await api.get(accepted.operation)).json()) as { status: string; state: { userId: string } };
      return op.status === 'completed' ? op : null;
    },
    60_000,
    'the operation to complete after Synapse came back',
  );
  expect(done.state.userId).toBe(accepted.userId);
  expect((await adminFor(config).getUser(accepted.userId))?.displayName).toBe('Patient Zero');
});

it('an operator can cancel an operation stuck on a stopped Synapse: it ends cancelled, not wedged', async () => {
  await stack(['stop', 'synapse']);
  try {
    const res = await api.post(`/v1/tenants/${tenant}/users`, { slug: 'stuck', displayName: 'Stuck' });
    expect(res.status).toBe(202);
    const handle = api.temporal.workflow.getHandle(`user:${tenant}:stuck`);
    await sleep(2000);
    await handle.cancel();
    const status = await eventually(
      async () => {
        const s = (await handle.describe()).status.name;
        return s === 'RUNNING' ? null : s;
      },
      30_000,
      'the cancelled workflow to end',
    );
    expect(status).toBe('CANCELLED');
  } finally {
    await stack(['up', 'synapse']);
  }
});
