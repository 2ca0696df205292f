/**
 * Rich text, replies, edits, reactions and deleting (issue #19 parts 2 and 3; decisions 0043,
 * 0044) against a real API process and Synapse, each checked on the homeserver's side: what
 * Synapse holds is sanitized, the reply carries `m.in_reply_to`, the edit is an `m.replace`
 * relation, reaction counts match Synapse's relations, the deleted event is redacted with the
 * reason; a member deleting someone else's message or editing it is refused with 403. Hostile HTML
 * posted straight to Synapse by another client reaches neither a frame nor the history route.
 * Runs in both identity modes (jest.appservice.config.js).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { enc, matrixRequest } from '../../adapters/matrix/http.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { asPlatformUser, whoami } from '../helpers/matrix.js';
import { stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { executableParts, HOSTILE_HTML } from '../helpers/hostile-html.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { RelayClient, startApi, userToken, type Frame } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('changes');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('chg');
const url = `http://127.0.0.1:${stackEnv().API_PORT}`;
const hs = config.matrix.homeserverUrl;
const uid = (slug: string): string => matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);
const ROOM = `/v1/tenants/${tenant}/rooms/event/talk`;
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
let roomId = '';
let bobSocket: RelayClient;

type Json = Record<string, unknown>;
interface Shown {
  event_id: string;
  type: string;
  sender: string;
  content: Json;
  deleted?: boolean;
  deletedReason?: string | null;
  edited?: { eventId: string };
  reactions?: { key: string; count: number; mine: boolean }[];
}

/** A call to the API process as the user (their user JWT). */
async function call(user: string, method: string, path: string, body?: Json): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await userToken(config, tenant, user)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}
const send = async (user: string, fields: Json): Promise<string> => {
  const r = await call(user, 'POST', `${ROOM}/messages`, { txnId: randomUUID(), ...fields });
  if (r.status !== 200) throw new Error(`send as ${user}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.eventId as string;
};
const history = async (user: string, limit = 50): Promise<Shown[]> => {
  const r = await call(user, 'GET', `${ROOM}/messages?limit=${limit}`);
  expect(r.status).toBe(200);
  return r.body.events as Shown[];
};
const shown = async (user: string, eventId: string): Promise<Shown | undefined> =>
  (await history(user)).find((e) => e.event_id === eventId);

/** Synapse's own answer, as a member of the room (the appservice asserting them): no API of ours in between. */
const asMember = (slug: string) => ({ token: config.matrix.asToken, query: { user_id: uid(slug) } });
const synapseEvent = (eventId: string): Promise<Json & { content: Json; unsigned?: Json }> =>
  matrixRequest(hs, { method: 'GET', path: `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(eventId)}`, ...asMember('bob') });
const synapseRelations = async (eventId: string, relType: string): Promise<(Json & { sender: string; content: Json })[]> =>
  (
    await matrixRequest<{ chunk: (Json & { sender: string; content: Json })[] }>(hs, {
      method: 'GET',
      path: `/_matrix/client/v1/rooms/${enc(roomId)}/relations/${enc(eventId)}/${relType}`,
      ...asMember('bob'),
      query: { ...asMember('bob').query, limit: '100' },
    })
  ).chunk;
/** A message written by another Matrix client (carol's, through the client-server API itself). */
const postToSynapse = async (content: Json): Promise<string> =>
  (
    await matrixRequest<{ event_id: string }>(hs, {
      method: 'PUT',
      path: `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${randomUUID()}`,
      ...asMember('carol'),
      body: content,
    })
  ).event_id;
const frameOf = (c: RelayClient, eventId: string): Promise<Frame> =>
  c.waitFor((f) => f.type === 'event' && f.event?.event_id === eventId);

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue);
  api = await createTestApi(config);
  for (const [u, role] of [
    ['alice', 'participant'],
    ['bob', 'participant'],
    ['carol', 'participant'],
    ['hana', 'host'],
  ]) {
    const res = await api.app.request(`${ROOM}/members/${u}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role }),
    });
    expect(res.status).toBe(200);
    roomId = ((await res.json()) as { roomId: string }).roomId;
  }
  bobSocket = await RelayClient.connect(url, await userToken(config, tenant, 'bob'));
  await bobSocket.waitFor((f) => f.type === 'live');
}, 240_000);
afterAll(async () => {
  await bobSocket?.close().catch(() => undefined);
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

describe('rich text on the way in', () => {
  it('sends HTML sanitized: Synapse holds nothing executable of any hostile case, and the safe markup', async () => {
    for (const [name, html] of Object.entries(HOSTILE_HTML)) {
      const eventId = await send('alice', { body: `case ${name}`, html: `<b>keep</b>${html}` });
      const held = await synapseEvent(eventId);
      expect({ name, format: held.content.format, left: executableParts(String(held.content.formatted_body)) }).toEqual({
        name,
        format: 'org.matrix.custom.html',
        left: [],
      });
      expect(held.content.formatted_body).toMatch(/^<b>keep<\/b>/);
      expect(held.content.body).toBe(`case ${name}`);
    }
  });
});

describe('replies and edits', () => {
  it('a reply carries m.relates_to.m.in_reply_to on Synapse, and its frame says what it replies to', async () => {
    const question = await send('bob', { body: 'lunch?' });
    const reply = await send('alice', { body: 'yes', replyTo: question });
    expect((await synapseEvent(reply)).content['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: question } });
    expect((await frameOf(bobSocket, reply)).change).toEqual({ replyTo: { eventId: question } });
    // A reply to an event the room does not have is refused before anything is sent.
    const r = await call('alice', 'POST', `${ROOM}/messages`, { txnId: randomUUID(), body: 'x', replyTo: '$nope' });
    expect(r).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
  });

  it('an edit is an m.replace relation on Synapse; history shows the latest version under the original id', async () => {
    const original = await send('alice', { body: 'helo', html: '<i>helo</i>' });
    const edit = await send('alice', { body: 'hello', html: '<b>hello</b>', edits: original });
    const held = await synapseEvent(edit);
    expect(held.content).toMatchObject({
      body: '* hello',
      'm.new_content': { msgtype: 'm.text', body: 'hello', format: 'org.matrix.custom.html', formatted_body: '<b>hello</b>' },
      'm.relates_to': { rel_type: 'm.replace', event_id: original },
    });
    const replacements = await synapseRelations(original, 'm.replace');
    expect(replacements.map((e) => [e.event_id, e.sender])).toEqual([[edit, uid('alice')]]);
    const view = await shown('bob', original);
    expect(view).toMatchObject({ content: { body: 'hello', formatted_body: '<b>hello</b>' }, edited: { eventId: edit } });
    // The edit itself is folded into the message, not listed.
    expect(await shown('bob', edit)).toBeUndefined();
    expect((await frameOf(bobSocket, edit)).change).toMatchObject({ edited: { eventId: original, content: { body: 'hello' } } });
  });

  it("refuses an edit of someone else's message with 403, and Synapse gets no replacement", async () => {
    const theirs = await send('alice', { body: 'mine' });
    const r = await call('bob', 'POST', `${ROOM}/messages`, { txnId: randomUUID(), body: 'hijacked', edits: theirs });
    expect(r).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
    expect(r.body.error).toMatch(/only its sender may edit/);
    expect(await synapseRelations(theirs, 'm.replace')).toEqual([]);
  });
});

describe('reactions', () => {
  it('are m.annotation relations on Synapse, and history counts per key match its relations', async () => {
    const msg = await send('alice', { body: 'party?' });
    const bobs = await call('bob', 'PUT', `${ROOM}/messages/${msg}/reactions`, { key: '👍' });
    expect(bobs.status).toBe(200);
    expect((await call('carol', 'PUT', `${ROOM}/messages/${msg}/reactions`, { key: '👍' })).status).toBe(200);
    expect((await call('alice', 'PUT', `${ROOM}/messages/${msg}/reactions`, { key: '🎉' })).status).toBe(200);
    // Again: the reaction already there, not a second one.
    expect(await call('bob', 'PUT', `${ROOM}/messages/${msg}/reactions`, { key: '👍' })).toMatchObject({
      status: 200,
      body: { reactionId: bobs.body.reactionId },
    });
    const synapseCounts = async (): Promise<Record<string, number>> => {
      const counts: Record<string, number> = {};
      for (const a of await synapseRelations(msg, 'm.annotation')) {
        const key = (a.content['m.relates_to'] as { key: string }).key;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    };
    const historyCounts = async (user: string): Promise<Record<string, number>> =>
      Object.fromEntries(((await shown(user, msg))?.reactions ?? []).map((r) => [r.key, r.count]));
    expect(await synapseCounts()).toEqual({ '👍': 2, '🎉': 1 });
    expect(await historyCounts('bob')).toEqual(await synapseCounts());
    expect((await shown('bob', msg))?.reactions).toEqual([
      expect.objectContaining({ key: '👍', count: 2, mine: true }),
      expect.objectContaining({ key: '🎉', count: 1, mine: false }),
    ]);
    expect((await frameOf(bobSocket, bobs.body.reactionId as string)).change).toEqual({
      reaction: { eventId: msg, key: '👍' },
    });

    // Taking it back is redacting one's own reaction: both sides count one fewer.
    expect(await call('bob', 'DELETE', `${ROOM}/messages/${msg}/reactions`, { key: '👍' })).toMatchObject({
      status: 200,
      body: { reactionIds: [bobs.body.reactionId] },
    });
    expect(await synapseCounts()).toEqual({ '👍': 1, '🎉': 1 });
    expect(await historyCounts('bob')).toEqual(await synapseCounts());
    expect(await call('bob', 'DELETE', `${ROOM}/messages/${msg}/reactions`, { key: '👍' })).toMatchObject({
      status: 404,
      body: { errcode: 'M_NOT_FOUND' },
    });
  });
});

describe('deleting', () => {
  it("deletes one's own message with a reason: redacted on Synapse, marked in history, relayed live", async () => {
    const msg = await send('alice', { body: 'oops, wrong room' });
    const r = await call('alice', 'DELETE', `${ROOM}/messages/${msg}`, { reason: 'wrong room' });
    expect(r).toMatchObject({ status: 200, body: { eventId: msg, redactionId: expect.any(String) } });
    const held = await synapseEvent(msg);
    expect(held.content).toEqual({});
    expect(held.unsigned?.redacted_because).toMatchObject({
      type: 'm.room.redaction',
      sender: uid('alice'),
      content: expect.objectContaining({ reason: 'wrong room' }),
    });
    expect(await shown('bob', msg)).toMatchObject({ deleted: true, deletedReason: 'wrong room', content: {} });
    expect((await frameOf(bobSocket, r.body.redactionId as string)).change).toEqual({
      deleted: { eventId: msg, reason: 'wrong room' },
    });
  });

  it("refuses a member deleting someone else's message with 403 naming the levels; Synapse keeps it", async () => {
    const msg = await send('alice', { body: 'still here' });
    const r = await call('bob', 'DELETE', `${ROOM}/messages/${msg}`, { reason: 'dislike' });
    expect(r).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
    expect(r.body.error).toMatch(/only its sender or someone with power level 50 or more .* yours is 0/);
    expect((await synapseEvent(msg)).content.body).toBe('still here');
  });

  it("lets a host delete anyone's message, without a body", async () => {
    const msg = await send('bob', { body: 'spam' });
    const r = await call('hana', 'DELETE', `${ROOM}/messages/${msg}`);
    expect(r.status).toBe(200);
    expect((await synapseEvent(msg)).unsigned?.redacted_because).toMatchObject({ sender: uid('hana') });
    expect(await shown('alice', msg)).toMatchObject({ deleted: true, deletedReason: null });
  });
});

// Admin mode: the user's own token is what the service acts with; logged out, it is renewed once.
(config.matrix.identityMode === 'admin' ? describe : describe.skip)('a refused token', () => {
  it('is renewed and the deletion and reaction made all the same', async () => {
    const msg = await send('alice', { body: 'before logout' });
    const auth = await asPlatformUser(config, api.db, tenant, 'alice');
    await matrixRequest(hs, { method: 'POST', path: '/_matrix/client/v3/logout', token: auth.token, body: {} });
    await expect(whoami(config, auth.token)).rejects.toMatchObject({ errcode: 'M_UNKNOWN_TOKEN' });
    expect((await call('alice', 'PUT', `${ROOM}/messages/${msg}/reactions`, { key: '🔑' })).status).toBe(200);
    expect((await call('alice', 'DELETE', `${ROOM}/messages/${msg}`, { reason: 'after logout' })).status).toBe(200);
    expect((await synapseEvent(msg)).unsigned?.redacted_because).toMatchObject({ sender: uid('alice') });
    const renewed = await asPlatformUser(config, api.db, tenant, 'alice');
    expect(renewed.token).not.toBe(auth.token);
  });
});

describe('hostile HTML from another Matrix client', () => {
  it('reaches neither a relay frame nor the history route executable (messages and edits)', async () => {
    const ids: string[] = [];
    for (const [name, html] of Object.entries(HOSTILE_HTML)) {
      const eventId = await postToSynapse({
        msgtype: 'm.text',
        body: `hostile ${name}`,
        format: 'org.matrix.custom.html',
        formatted_body: html,
      });
      ids.push(eventId);
      // Synapse stores it as sent: the hostile markup is really there to be sanitized.
      expect(executableParts(String((await synapseEvent(eventId)).content.formatted_body)).length).toBeGreaterThan(0);
    }
    const edit = await postToSynapse({
      msgtype: 'm.text',
      body: '* x',
      format: 'org.matrix.custom.html',
      formatted_body: '* <script>alert(1)</script>',
      'm.new_content': { msgtype: 'm.text', body: 'x', format: 'org.matrix.custom.html', formatted_body: HOSTILE_HTML.svgOnload },
      'm.relates_to': { rel_type: 'm.replace', event_id: ids[0] },
    });
    for (const id of [...ids, edit]) {
      const f = await frameOf(bobSocket, id);
      expect({ id, left: executableParts(JSON.stringify(f)) }).toEqual({ id, left: [] });
    }
    const page = await call('bob', 'GET', `${ROOM}/messages?limit=100`);
    expect(page.status).toBe(200);
    const ours = (page.body.events as Shown[]).filter((e) => ids.includes(e.event_id));
    expect(ours).toHaveLength(ids.length);
    expect(executableParts(JSON.stringify(ours))).toEqual([]);
    // The edit applied (carol edits her own message) and sanitized too.
    expect(ours.find((e) => e.event_id === ids[0])).toMatchObject({ edited: { eventId: edit }, content: { body: 'x' } });
  });
});

describe('the socket frames', () => {
  it('send with html and replyTo, delete and react, each answered', async () => {
    const alice = await RelayClient.connect(url, await userToken(config, tenant, 'alice'));
    try {
      await alice.waitFor((f) => f.type === 'live');
      const target = await send('bob', { body: 'ping' });
      alice.send({ type: 'send', id: 's1', roomId, txnId: randomUUID(), body: 'pong', html: '<b onclick="x()">pong</b>', replyTo: target });
      const sent = await alice.waitFor((f) => f.type === 'sent' && f.id === 's1');
      const held = await synapseEvent(sent.eventId as string);
      expect(held.content).toMatchObject({ formatted_body: '<b>pong</b>', 'm.relates_to': { 'm.in_reply_to': { event_id: target } } });
      alice.send({ type: 'react', id: 'r1', roomId, eventId: target, key: '👀' });
      expect(await alice.waitFor((f) => f.id === 'r1')).toMatchObject({ type: 'reacted', eventId: target, key: '👀' });
      alice.send({ type: 'delete', id: 'd1', roomId, eventId: target, reason: 'not mine' });
      expect(await alice.waitFor((f) => f.id === 'd1')).toMatchObject({ type: 'error', errcode: 'M_FORBIDDEN', eventId: target });
      alice.send({ type: 'delete', id: 'd2', roomId, eventId: sent.eventId, reason: 'mine' });
      const deleted = await alice.waitFor((f) => f.id === 'd2');
      expect(deleted).toMatchObject({ type: 'deleted', eventId: sent.eventId, redactionId: expect.any(String) });
      expect((await synapseEvent(sent.eventId as string)).unsigned?.redacted_because).toMatchObject({
        content: expect.objectContaining({ reason: 'mine' }),
      });
    } finally {
      await alice.close();
    }
  });
});
