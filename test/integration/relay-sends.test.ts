/**
 * Durable sends through the HTTP API: 1,000 messages with random client transaction ids, a tenth
 * of them sent twice (at the same moment, or after the first finished) → the room on the
 * homeserver holds each exactly once. Plus the answers to sends that cannot be made.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { SENT_CHANNEL } from '../../adapters/store/sent-notices.js';
import { roomMessages } from '../helpers/matrix.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('sends');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '120000' });
const tenant = uniqueTenant('snd');
let worker: RunningProcess;
let api: TestApi;
let roomId: string;

interface SendAnswer {
  status: string;
  eventId?: string;
  errcode?: string;
  error?: string;
}

async function send(
  txnId: string,
  body: string,
  userSlug = 'alice',
  slug = 'bulk',
): Promise<{ status: number; body: SendAnswer }> {
  const res = await api.post(`/v1/tenants/${tenant}/rooms/event/${slug}/messages`, { txnId, body, userSlug });
  return { status: res.status, body: (await res.json()) as SendAnswer };
}

/** Every m.room.message in the room, read back from the homeserver as the bot. */
const messagesOnHomeserver = () => roomMessages(config, roomId);

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  for (const [slug, u] of [
    ['bulk', 'alice'],
    ['bulk', 'bob'],
    ['other', 'carol'],
  ]) {
    const res = await api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}/members/${u}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    if (slug === 'bulk') roomId = ((await res.json()) as { roomId: string }).roomId;
  }
}, 240_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

describe('durable sends', () => {
  it('1,000 messages with random client txn ids, 100 of them sent twice → each appears in the room exactly once', async () => {
    const messages = Array.from({ length: 1000 }, (_, i) => ({ txnId: randomUUID(), body: `bulk ${i}` }));
    const together = messages.slice(0, 50); // repeated while the first is in flight
    const later = messages.slice(50, 100); // repeated after the first completed
    const queue = [...messages, ...together].sort(() => Math.random() - 0.5);
    const answers = new Map<string, string[]>();
    const statuses: number[] = [];
    const worker = async (): Promise<void> => {
      for (let m = queue.pop(); m; m = queue.pop()) {
        const r = await send(m.txnId, m.body);
        statuses.push(r.status);
        answers.set(m.txnId, [...(answers.get(m.txnId) ?? []), r.body.eventId!]);
      }
    };
    await Promise.all(Array.from({ length: 25 }, worker));
    for (const m of later) {
      const r = await send(m.txnId, m.body);
      statuses.push(r.status);
      answers.get(m.txnId)!.push(r.body.eventId!);
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses).toHaveLength(1100);
    // A repeat is answered with the event of the first send.
    for (const m of [...together, ...later]) expect(new Set(answers.get(m.txnId)).size).toBe(1);

    const onServer = await messagesOnHomeserver();
    expect(onServer).toHaveLength(1000);
    const byTxn = new Map(onServer.map((e) => [e.txnId, e]));
    expect(byTxn.size).toBe(1000);
    for (const m of messages) {
      expect(byTxn.get(m.txnId)?.body).toBe(m.body);
      expect(byTxn.get(m.txnId)?.eventId).toBe(answers.get(m.txnId)![0]);
    }
  }, 600_000);

  // Transaction ids shared between users, or reused by one user elsewhere: txn-per-user.test.ts.
  it('refuses a room the user is not in (403), and names bad input (400)', async () => {
    const outsider = await send(randomUUID(), 'let me in', 'carol');
    expect(outsider.status).toBe(403);
    expect(outsider.body).toEqual({ errcode: 'M_FORBIDDEN', error: 'carol is not joined to event bulk' });
    const noRoom = await send(randomUUID(), 'x', 'alice', 'nowhere');
    expect(noRoom.status).toBe(404);
    expect(noRoom.body.errcode).toBe('M_NOT_FOUND');

    const badTxn = await send('has spaces', 'x');
    expect([badTxn.status, badTxn.body.errcode]).toEqual([400, 'M_INVALID_PARAM']);
    expect(badTxn.body.error).toMatch(/txnId/);
    const unknownField = await api.post(`/v1/tenants/${tenant}/rooms/event/bulk/messages`, {
      txnId: randomUUID(),
      body: 'x',
      userSlug: 'alice',
      formatted_body: '<b>',
    });
    expect([unknownField.status, await unknownField.json()]).toEqual([
      400,
      { errcode: 'M_BAD_JSON', error: 'unknown field: "formatted_body"' },
    ]);
    const noUser = await api.post(`/v1/tenants/${tenant}/rooms/event/bulk/messages`, {
      txnId: randomUUID(),
      body: 'x',
    });
    expect(noUser.status).toBe(400);
    expect(((await noUser.json()) as SendAnswer).error).toMatch(/userSlug/);
  });

  it('the worker announces each send of the retry path on om_message_sent the moment it is on the homeserver (decision 0018)', async () => {
    const listener = new pg.Client({ connectionString: config.databaseUrl });
    await listener.connect();
    try {
      const heard: unknown[] = [];
      listener.on('notification', (n) => {
        if (n.channel === SENT_CHANNEL) heard.push(JSON.parse(n.payload ?? 'null'));
      });
      await listener.query(`LISTEN ${SENT_CHANNEL}`);
      const txnId = randomUUID();
      // A send the API sends itself needs no notice (decision 0036); the workflow's does: a
      // repeat of a send left pending (its API died) goes to the workflow at once.
      await api.db.query(
        `INSERT INTO message_outbox (tenant, user_slug, txn_id, room_id, kind, slug, msgtype, body)
         VALUES ($1, 'alice', $2, $3, 'event', 'bulk', 'm.text', 'announced')`,
        [tenant, txnId, roomId],
      );
      const answer = await send(txnId, 'announced');
      expect(answer).toMatchObject({ status: 200, body: { status: 'sent' } });
      const deadline = Date.now() + 10_000;
      while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toContainEqual({ workflowId: `msg:${tenant}:alice:${txnId}`, eventId: answer.body.eventId });
    } finally {
      await listener.end();
    }
  });

  it('reports a send in progress or done at GET /v1/operations/msg:{tenant}:{user}:{txnId}', async () => {
    const txnId = randomUUID();
    const sent = await send(txnId, 'tracked');
    const res = await api.get(`/v1/operations/${encodeURIComponent(`msg:${tenant}:alice:${txnId}`)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      kind: 'msg',
      status: 'completed',
      result: { eventId: sent.body.eventId, roomId },
    });
  });
});
