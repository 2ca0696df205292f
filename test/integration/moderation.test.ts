/**
 * Moderation through the platform (issue #21 part 2, decision 0058) on the real stack: a member
 * muted by a moderator cannot send (Synapse answers 403), stays muted through reconciliation, and
 * can send again once the short mute's durable timer has ended it; an early unmute restores at once;
 * a moderator removes a message with a reason (Synapse holds the redaction with it; the bot's when
 * the moderator cannot act themselves); a member
 * without a moderating role is refused with 403 naming the roles, for a mute and for a removal.
 * Runs in both identity modes (jest.appservice.config.js).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { enc, matrixRequest } from '../../adapters/matrix/http.js';
import { MatrixHttpError } from '../../adapters/matrix/errors.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { botView } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('moderation');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('mod');
const uid = (slug: string): string => matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);
const hs = config.matrix.homeserverUrl;
const bot = botView(config);
const ROOM = `/v1/tenants/${tenant}/rooms/event/talk`;
let worker: RunningProcess;
let api: TestApi;
let roomId = '';

type Json = Record<string, unknown>;
const call = async (method: string, path: string, body?: Json): Promise<{ status: number; body: Json }> => {
  const res = await api.app.request(path, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Json };
};
/** A message straight to Synapse as the member (the appservice asserting them): Synapse's own answer. */
const sendOnSynapse = async (slug: string, body: string): Promise<string> =>
  (
    await matrixRequest<{ event_id: string }>(hs, {
      method: 'PUT',
      path: `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${randomUUID()}`,
      token: config.matrix.asToken,
      query: { user_id: uid(slug) },
      body: { msgtype: 'm.text', body },
    })
  ).event_id;
const refusalOf = (p: Promise<unknown>): Promise<number | string> =>
  p.then(
    () => 'sent',
    (err: unknown) => (err instanceof MatrixHttpError ? err.status : String(err)),
  );
const levelOf = async (slug: string): Promise<number | undefined> => (await bot.powerLevels(roomId))[uid(slug)];

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  for (const [u, role] of [
    ['hana', 'host'],
    ['mo', 'moderator'],
    ['alice', 'participant'],
    ['bob', 'participant'],
  ]) {
    const r = await call('PUT', `${ROOM}/members/${u}`, { role });
    expect(r.status).toBe(200);
    roomId = r.body.roomId as string;
  }
}, 240_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

describe('mutes', () => {
  it('refuses a member without a moderating role with 403 naming the roles, and a mute of someone not below', async () => {
    const r = await call('POST', `${ROOM}/mutes`, { actorSlug: 'bob', userSlug: 'alice', durationSeconds: 60 });
    expect([r.status, r.body.errcode]).toEqual([403, 'M_FORBIDDEN']);
    expect(r.body.error).toBe('moderating this event needs the role host or moderator; bob is participant');
    const up = await call('POST', `${ROOM}/mutes`, { actorSlug: 'mo', userSlug: 'hana', durationSeconds: 60 });
    expect([up.status, up.body.error]).toEqual([403, 'mo (moderator) cannot moderate hana (host): only members of a lower level']);
    const bad = await call('POST', `${ROOM}/mutes`, { actorSlug: 'mo', userSlug: 'alice', durationSeconds: 0 });
    expect([bad.status, bad.body.errcode]).toEqual([400, 'M_INVALID_PARAM']);
    expect(await levelOf('alice')).toBeUndefined();
  });

  it('mutes for a short time: Synapse refuses the member, reconciliation keeps it, the timer ends it', async () => {
    expect(await refusalOf(sendOnSynapse('alice', 'before'))).toBe('sent');
    const started = Date.now();
    const r = await call('POST', `${ROOM}/mutes`, { actorSlug: 'mo', userSlug: 'alice', durationSeconds: 12 });
    expect(r.status).toBe(200);
    expect(r.body.actions).toEqual([`power level ${uid('alice')} 0→-1`]);
    expect(await levelOf('alice')).toBe(-1);
    expect(await refusalOf(sendOnSynapse('alice', 'while muted'))).toBe(403);
    // Through the API too: the send is refused, not queued.
    const viaApi = await call('POST', `${ROOM}/messages`, { txnId: randomUUID(), body: 'muted?', userSlug: 'alice' });
    expect(viaApi.status).toBe(403);
    // Reconciliation's desired levels include the mute.
    const rec = await call('POST', `${ROOM}/reconcile`);
    expect(rec.status).toBe(200);
    expect(rec.body.actions).not.toContain(`power level ${uid('alice')} -1→0`);
    expect(await levelOf('alice')).toBe(-1);
    expect(await refusalOf(sendOnSynapse('bob', 'bob is not muted'))).toBe('sent');

    await eventually(async () => (await levelOf('alice')) === undefined, 60_000, "alice's mute to end");
    expect(Date.now() - started).toBeGreaterThanOrEqual(11_000);
    expect(await refusalOf(sendOnSynapse('alice', 'after'))).toBe('sent');
  }, 120_000);

  it('ends a mute early on DELETE …/mutes/{userSlug}', async () => {
    const r = await call('POST', `${ROOM}/mutes`, { actorSlug: 'hana', userSlug: 'bob', durationSeconds: 3600 });
    expect(r.status).toBe(200);
    expect(await levelOf('bob')).toBe(-1);
    const refused = await call('DELETE', `${ROOM}/mutes/bob?actorSlug=alice`);
    expect(refused.status).toBe(403);
    const u = await call('DELETE', `${ROOM}/mutes/bob?actorSlug=hana`);
    expect(u.status).toBe(200);
    expect(u.body.actions).toEqual([`power level ${uid('bob')} -1→0`]);
    expect(await levelOf('bob')).toBeUndefined();
    expect(await refusalOf(sendOnSynapse('bob', 'unmuted'))).toBe('sent');
  });
});

describe('removing a message as a moderator', () => {
  it('refuses a member without the role with 403, and removes it with the reason for a moderator', async () => {
    const eventId = await sendOnSynapse('bob', 'buy cheap watches');
    const path = `${ROOM}/messages/${encodeURIComponent(eventId)}`;
    const refused = await call('DELETE', path, { actorSlug: 'alice', reason: 'spam' });
    expect([refused.status, refused.body.errcode]).toEqual([403, 'M_FORBIDDEN']);
    expect(refused.body.error).toContain('needs the role host or moderator; alice is participant');
    const noReason = await call('DELETE', path, { actorSlug: 'mo' });
    expect(noReason.status).toBe(400);

    const r = await call('DELETE', path, { actorSlug: 'mo', reason: 'spam' });
    expect(r.status).toBe(200);
    expect(r.body.redactedBy).toBe(uid('mo'));
    const held = await matrixRequest<{ content: Json; unsigned?: { redacted_because?: { sender: string; content: Json } } }>(hs, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(eventId)}`,
      token: config.matrix.asToken,
    });
    expect(held.content).toEqual({});
    expect(held.unsigned?.redacted_because?.content.reason).toBe('spam');
    expect(held.unsigned?.redacted_because?.sender).toBe(uid('mo'));
  });

  it("is the bot's redaction when the moderator cannot act themselves (here: no longer joined)", async () => {
    const r0 = await call('PUT', `${ROOM}/members/max`, { role: 'moderator' });
    expect(r0.status).toBe(200);
    await matrixRequest(hs, {
      method: 'POST',
      path: `/_matrix/client/v3/rooms/${enc(roomId)}/kick`,
      token: config.matrix.asToken,
      body: { user_id: uid('max'), reason: 'behind the back' },
    });
    const eventId = await sendOnSynapse('bob', 'more spam');
    const r = await call('DELETE', `${ROOM}/messages/${encodeURIComponent(eventId)}`, { actorSlug: 'max', reason: 'spam again' });
    expect(r.status).toBe(200);
    const botId = `@${config.matrix.botLocalpart}:${config.matrix.serverName}`;
    expect(r.body.redactedBy).toBe(botId);
    const held = await matrixRequest<{ content: Json; unsigned?: { redacted_because?: { sender: string; content: Json } } }>(hs, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(eventId)}`,
      token: config.matrix.asToken,
    });
    expect(held.content).toEqual({});
    expect(held.unsigned?.redacted_because).toMatchObject({ sender: botId, content: { reason: 'spam again' } });
  });
});
