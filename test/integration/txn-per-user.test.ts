/**
 * Client transaction ids are scoped per user (`msg:{tenant}:{user}:{txnId}`): two users picking
 * the same id each get their own message and see only their own outcome; one user reusing an id
 * for another room is refused, as before.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { matrixRequest } from '../../activities/matrix/http.js';
import { matrixUserId } from '../../workflows/ids.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('txn-user');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('txu');
let worker: RunningProcess;
let api: TestApi;
let roomId: string;

interface Answer {
  status?: string;
  workflowId?: string;
  eventId?: string;
  errcode?: string;
}

/** A send as the user, with the user's own JWT (as a browser sends). */
async function send(
  user: string,
  txnId: string,
  body: string,
  slug = 'shared',
): Promise<{ status: number; body: Answer }> {
  const token = await userToken(config, tenant, user);
  const res = await api.post(`/v1/tenants/${tenant}/rooms/event/${slug}/messages`, { txnId, body }, token);
  return { status: res.status, body: (await res.json()) as Answer };
}

/** The event as the homeserver holds it: who sent it and what it says. */
async function onHomeserver(eventId: string): Promise<{ sender: string; body: string }> {
  const e = await matrixRequest<{ sender: string; content: { body: string } }>(config.matrix.homeserverUrl, {
    method: 'GET',
    path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`,
    token: config.matrix.asToken,
  });
  return { sender: e.sender, body: e.content.body };
}

const userId = (slug: string) => matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  for (const [slug, u] of [
    ['shared', 'alice'],
    ['shared', 'bob'],
    ['other', 'alice'],
  ]) {
    const res = await api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}/members/${u}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    if (slug === 'shared') roomId = ((await res.json()) as { roomId: string }).roomId;
  }
}, 240_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

describe('client transaction ids are per user', () => {
  it('two users sending with the same txnId at the same moment each get their own message, and only their own outcome', async () => {
    for (let round = 0; round < 3; round++) {
      const txnId = `shared-${round}-${randomUUID().slice(0, 8)}`;
      const [a, b] = await Promise.all([send('alice', txnId, `alice ${round}`), send('bob', txnId, `bob ${round}`)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.body).toMatchObject({ status: 'sent', workflowId: `msg:${tenant}:alice:${txnId}` });
      expect(b.body).toMatchObject({ status: 'sent', workflowId: `msg:${tenant}:bob:${txnId}` });
      expect(a.body.eventId).not.toBe(b.body.eventId);
      expect(await onHomeserver(a.body.eventId!)).toEqual({ sender: userId('alice'), body: `alice ${round}` });
      expect(await onHomeserver(b.body.eventId!)).toEqual({ sender: userId('bob'), body: `bob ${round}` });

      // A repeat by each is answered with their own message, never the other's.
      expect((await send('alice', txnId, 'again')).body.eventId).toBe(a.body.eventId);
      expect((await send('bob', txnId, 'again')).body.eventId).toBe(b.body.eventId);
      // And each operation reports its own user's send.
      for (const [who, answer] of [
        ['alice', a],
        ['bob', b],
      ] as const) {
        const op = await api.get(`/v1/operations/${encodeURIComponent(answer.body.workflowId!)}`);
        expect(op.status).toBe(200);
        expect(await op.json()).toMatchObject({
          kind: 'msg',
          status: 'completed',
          result: { eventId: answer.body.eventId, userSlug: who, clientTxnId: txnId, roomId },
        });
      }
    }
  }, 180_000);

  it('one user reusing a txnId for another room is refused (409), and the first message stands', async () => {
    const txnId = randomUUID();
    const first = await send('alice', txnId, 'here');
    expect(first.status).toBe(200);
    const elsewhere = await send('alice', txnId, 'there', 'other');
    expect(elsewhere).toMatchObject({ status: 409, body: { errcode: 'OM_TXN_CONFLICT' } });
    expect((await send('alice', txnId, 'here')).body.eventId).toBe(first.body.eventId);
  }, 120_000);
});
