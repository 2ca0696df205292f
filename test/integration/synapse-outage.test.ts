/**
 * With Synapse stopped mid-provisioning, the workflow waits (activities retry) and completes once
 * Synapse is back; the API answers 202 with the operation to follow meanwhile.
 */
import { afterAll, expect, it } from '@jest/globals';
import { eventually, sleep } from '../helpers/env.js';
import { adminFor } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';
import { stack } from '../helpers/stack.js';
import { createEventLog } from '../../adapters/store/events.js';
import { matrixRequest } from '../../adapters/matrix/http.js';

const fx = serviceFixture('outage', { API_WAIT_MS: '2000' });
const { config, tenant } = fx;
afterAll(async () => {
  await stack(['up', 'synapse']); // whatever happened, leave Synapse running for the next file
});

it('waits for a stopped Synapse and completes the provisioning once it is back', async () => {
  await stack(['stop', 'synapse']);
  const res = await fx.api.post(`/v1/tenants/${tenant}/users`, { slug: 'patient', displayName: 'Patient Zero' });
  expect(res.status).toBe(202);
  const accepted = (await res.json()) as { status: string; operation: string; userId: string };
  expect(accepted.status).toBe('running');
  expect(res.headers.get('location')).toBe(accepted.operation);

  await sleep(4000);
  const during = (await (await fx.api.get(accepted.operation)).json()) as { status: string };
  expect(during.status).toBe('running');
  // What an operator sees in the UI meanwhile: a pending activity with its attempts and last
  // failure (a reason the calls stay regular activities: decision 0015).
  const pending =
    (await fx.api.temporal.workflow.getHandle(`user:${tenant}:patient`).describe()).raw.pendingActivities ?? [];
  expect(pending.map((a) => a.activityType?.name)).toEqual(['provisionMatrixUser']);
  expect(pending[0]!.attempt).toBeGreaterThanOrEqual(2);
  expect(pending[0]!.lastFailure?.message).toBeTruthy();

  await stack(['up', 'synapse']);
  const done = await eventually(
    async () => {
      const op = (await (await fx.api.get(accepted.operation)).json()) as { status: string; state: { userId: string } };
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
    const res = await fx.api.post(`/v1/tenants/${tenant}/users`, { slug: 'stuck', displayName: 'Stuck' });
    expect(res.status).toBe(202);
    const handle = fx.api.temporal.workflow.getHandle(`user:${tenant}:stuck`);
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

it('a message accepted while Synapse is down is sent once it is back, exactly once', async () => {
  const room = `/v1/tenants/${tenant}/rooms/group/outage-talk`;
  const joined = await fx.api.app.request(`${room}/members/talker`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${fx.api.token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(joined.status).toBe(200);
  const { roomId } = (await joined.json()) as { roomId: string };
  // The relay knows memberships from the homeserver's pushes; no API listens for them in this
  // file, so record the join as a push would have, and the send needs no homeserver to accept it.
  const userId = `@om_${tenant}_talker:localhost`;
  const join = {
    type: 'm.room.member',
    event_id: `$join-${tenant}`,
    room_id: roomId,
    sender: userId,
    state_key: userId,
    content: { membership: 'join' },
  };
  await createEventLog(fx.api.db).append(`outage-${tenant}`, [{ ephemeral: false, event: join }]);

  await stack(['stop', 'synapse']);
  let workflowId: string;
  try {
    const res = await fx.api.post(`${room}/messages`, {
      txnId: 'while-down-1',
      body: 'sent while down',
      userSlug: 'talker',
    });
    expect(res.status).toBe(202);
    workflowId = ((await res.json()) as { workflowId: string }).workflowId;
    // The quick local attempts gave up; the regular activity retries, visible as pending (decision 0016).
    const pending = await eventually(
      async () => {
        const p = (await fx.api.temporal.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
        return p.length ? p : null;
      },
      30_000,
      'the send to wait as a pending regular activity',
    );
    expect(pending.map((a) => a.activityType?.name)).toEqual(['sendMessageAsUser']);
  } finally {
    await stack(['up', 'synapse']);
  }
  const op = await eventually(
    async () => {
      const o = (await (await fx.api.get(`/v1/operations/${encodeURIComponent(workflowId)}`)).json()) as {
        status: string;
      };
      return o.status === 'completed' ? o : null;
    },
    90_000,
    'the send to complete after Synapse came back',
  );
  expect(op.status).toBe('completed');
  const page = await matrixRequest<{ chunk: { type: string; content: { body?: string } }[] }>(
    config.matrix.homeserverUrl,
    {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`,
      token: config.matrix.asToken,
      query: { dir: 'b', limit: '100' },
    },
  );
  expect(page.chunk.filter((e) => e.type === 'm.room.message' && e.content.body === 'sent while down')).toHaveLength(1);
});
