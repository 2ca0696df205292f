/**
 * Durable sends through the outbox (decision 0036), on the real stack: the API sends an accepted
 * message itself and records its event id (no workflow); a repeat is answered from the row; a row
 * left pending by an API that died — before its PUT, or after the homeserver took the message but
 * before the event id was recorded — is finished by the worker's sweeper, exactly once; a repeat
 * of a pending send is finished by the workflow at once; a permanent refusal is recorded, not
 * retried. Runs in both identity modes (jest.appservice.config.js).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { identityFor } from '../../adapters/identity/index.js';
import { sendMessageAs } from '../../adapters/matrix/message-send.js';
import { createMessageOutbox } from '../../adapters/store/outbox.js';
import { createUserStore } from '../../adapters/store/users.js';
import { OUTBOX_KEEP_MS } from '../../worker/outbox-sweeper.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { messageWorkflowId } from '../../vocabulary/ids.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { roomMessages } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('outbox');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('obx');
let worker: RunningProcess;
let api: TestApi;
const rooms: Record<string, string> = {};

interface Answer {
  status?: string;
  workflowId?: string;
  eventId?: string;
  errcode?: string;
}

interface Row {
  status: string;
  event_id: string | null;
  errcode: string | null;
  body: string | null;
}

async function send(user: string, txnId: string, body: string, slug = 'talk'): Promise<{ status: number; body: Answer }> {
  const res = await api.post(
    `/v1/tenants/${tenant}/rooms/event/${slug}/messages`,
    { txnId, body },
    await userToken(config, tenant, user),
  );
  return { status: res.status, body: (await res.json()) as Answer };
}

async function row(user: string, txnId: string): Promise<Row | undefined> {
  const r = await api.db.query<Row>(
    'SELECT status, event_id, errcode, body FROM message_outbox WHERE tenant = $1 AND user_slug = $2 AND txn_id = $3',
    [tenant, user, txnId],
  );
  return r.rows[0];
}

/** The row once its event id is recorded: the API answers first and records it just after (decision 0036). */
const recorded = (user: string, txnId: string): Promise<Row> =>
  eventually(
    async () => {
      const r = await row(user, txnId);
      return r?.status === 'sent' ? r : null;
    },
    5_000,
    `the row of ${txnId} recorded sent`,
  );

/**
 * What an API that died leaves behind: the accepted message recorded as pending, `agedMs` ago
 * (the sweeper takes rows pending for 10 s; an aged row spares the test the wait).
 */
async function leftPending(user: string, txnId: string, body: string, slug = 'talk', agedMs = 60_000): Promise<void> {
  await api.db.query(
    `INSERT INTO message_outbox (tenant, user_slug, txn_id, room_id, kind, slug, msgtype, body, updated_at)
     VALUES ($1, $2, $3, $4, 'event', $5, 'm.text', $6, now() - make_interval(secs => $7::float8 / 1000))`,
    [tenant, user, txnId, rooms[slug], slug, body, agedMs],
  );
}

/** The copies of a message in the room, read back from the homeserver as the bot. */
async function copies(txnId: string, slug = 'talk'): Promise<{ eventId: string; body: string }[]> {
  return (await roomMessages(config, rooms[slug]!))
    .filter((e) => e.txnId === txnId)
    .map((e) => ({ eventId: e.eventId, body: e.body }));
}

async function workflowStatus(user: string, txnId: string): Promise<string | null> {
  try {
    return (await api.temporal.workflow.getHandle(messageWorkflowId(tenant, user, txnId)).describe()).status.name;
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return null;
    throw err;
  }
}

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  for (const [slug, u] of [
    ['talk', 'alice'],
    ['talk', 'bob'],
    ['private', 'bob'],
  ] as const) {
    const res = await api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}/members/${u}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    rooms[slug] = ((await res.json()) as { roomId: string }).roomId;
  }
}, 240_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

describe('a send through the outbox', () => {
  it('is sent by the API itself: 200 with the event id, recorded on its row, no workflow; a repeat is answered from the row', async () => {
    const txnId = randomUUID();
    const first = await send('alice', txnId, 'straight through');
    expect(first).toMatchObject({ status: 200, body: { status: 'sent', workflowId: `msg:${tenant}:alice:${txnId}` } });
    expect(await recorded('alice', txnId)).toEqual({ status: 'sent', event_id: first.body.eventId, errcode: null, body: null });
    expect(await workflowStatus('alice', txnId)).toBeNull();

    const again = await send('alice', txnId, 'straight through');
    expect(again).toMatchObject({ status: 200, body: { status: 'sent', eventId: first.body.eventId } });
    expect(await workflowStatus('alice', txnId)).toBeNull();
    expect(await copies(txnId)).toEqual([{ eventId: first.body.eventId, body: 'straight through' }]);

    // Its operation is answered from the row.
    const op = await api.get(`/v1/operations/${encodeURIComponent(first.body.workflowId!)}`);
    expect(op.status).toBe(200);
    expect(await op.json()).toMatchObject({
      kind: 'msg',
      status: 'completed',
      result: { eventId: first.body.eventId, userSlug: 'alice', clientTxnId: txnId, roomId: rooms.talk },
    });
  }, 60_000);

  it('left pending by an API that died before its PUT: the sweeper sends it, once', async () => {
    const txnId = randomUUID();
    await leftPending('alice', txnId, 'recorded, never sent');
    const settled = await eventually(async () => {
      const r = await row('alice', txnId);
      return r?.status === 'sent' ? r : null;
    }, 30_000, 'the sweeper to finish the row');
    expect(await copies(txnId)).toEqual([{ eventId: settled.event_id, body: 'recorded, never sent' }]);
    expect(settled.body).toBeNull();
    expect(await workflowStatus('alice', txnId)).toBe('COMPLETED');
    // The client's repeat hears the same event.
    expect((await send('alice', txnId, 'recorded, never sent')).body).toMatchObject({ status: 'sent', eventId: settled.event_id });
  }, 60_000);

  it('left pending after the homeserver took it (the API died before recording the event id): the resend is deduplicated', async () => {
    const txnId = randomUUID();
    // What the dead API did: its PUT, as the user, with the send's Matrix transaction id.
    const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
    const { identity } = identityFor(config, createUserStore(api.db, cipher));
    const input = {
      tenant,
      userSlug: 'bob',
      kind: 'event' as const,
      slug: 'talk',
      roomId: rooms.talk!,
      clientTxnId: txnId,
      msgtype: 'm.text' as const,
      body: 'landed, not recorded',
    };
    const landed = await sendMessageAs(identity, config.matrix.homeserverUrl, {
      ...input,
      workflowId: messageWorkflowId(tenant, 'bob', txnId),
    });
    await leftPending('bob', txnId, 'landed, not recorded');
    const settled = await eventually(async () => {
      const r = await row('bob', txnId);
      return r?.status === 'sent' ? r : null;
    }, 30_000, 'the sweeper to finish the row');
    expect(settled.event_id).toBe(landed.eventId);
    expect(await copies(txnId)).toEqual([{ eventId: landed.eventId, body: 'landed, not recorded' }]);
  }, 60_000);

  it('a repeat of a send still pending (its API died a moment ago) is finished at once by the workflow, once', async () => {
    const txnId = randomUUID();
    await leftPending('bob', txnId, 'repeated after a crash', 'talk', 0);
    const repeat = await send('bob', txnId, 'repeated after a crash');
    expect(repeat).toMatchObject({ status: 200, body: { status: 'sent' } });
    expect(await workflowStatus('bob', txnId)).toBe('COMPLETED');
    expect(await row('bob', txnId)).toMatchObject({ status: 'sent', event_id: repeat.body.eventId });
    expect(await copies(txnId)).toEqual([{ eventId: repeat.body.eventId, body: 'repeated after a crash' }]);
    // In another room the same txnId is still another message: refused.
    expect(await send('bob', txnId, 'elsewhere', 'private')).toMatchObject({ status: 409, body: { errcode: 'OM_TXN_CONFLICT' } });
  }, 60_000);

  it('settled rows are pruned once old; pending ones never are', async () => {
    const [sent, pending] = [randomUUID(), randomUUID()];
    expect((await send('alice', sent, 'to be pruned')).status).toBe(200);
    await recorded('alice', sent);
    await leftPending('alice', pending, 'kept until sent', 'talk', 0);
    await api.db.query(
      `UPDATE message_outbox SET updated_at = now() - interval '8 days' WHERE tenant = $1 AND txn_id = ANY($2)`,
      [tenant, [sent, pending]],
    );
    await createMessageOutbox(api.db).prune(OUTBOX_KEEP_MS);
    expect(await row('alice', sent)).toBeUndefined();
    // Kept (this file's sweeper may be sending it by now: pending or sent, never gone).
    expect(await row('alice', pending)).toMatchObject({ status: expect.stringMatching(/^(pending|sent)$/) });
  }, 60_000);

  it('a pending send the homeserver refuses for good (not a member) is recorded failed, not retried', async () => {
    const txnId = randomUUID();
    // alice is not in the private room: what the homeserver answers the send's workflow is final.
    await api.db.query(
      `INSERT INTO message_outbox (tenant, user_slug, txn_id, room_id, kind, slug, msgtype, body, updated_at)
       VALUES ($1, 'alice', $2, $3, 'event', 'private', 'm.text', 'not mine to send', now() - interval '1 minute')`,
      [tenant, txnId, rooms.private],
    );
    const failed = await eventually(async () => {
      const r = await row('alice', txnId);
      return r?.status === 'failed' ? r : null;
    }, 45_000, 'the sweeper to record the refusal');
    expect(failed).toMatchObject({ status: 'failed', errcode: 'M_FORBIDDEN', event_id: null, body: null });
    expect(await workflowStatus('alice', txnId)).toBe('FAILED');
    expect(await copies(txnId, 'private')).toEqual([]);
  }, 60_000);
});
