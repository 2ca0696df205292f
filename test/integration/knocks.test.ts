/**
 * Join requests (knocks, decision 0055) on the real stack, in both identity modes: a room made
 * knockable has the join rule on the homeserver; a knock sent through the client-server API as a
 * plain Matrix user (one the service never provisioned) and as one of ours (acting with their own
 * credentials) reaches a webhook receiver as `member.knocked`, naming the user by slug when they
 * are ours, and is recorded as a pending request (route, room state, the workflow's query);
 * approving through the API joins one of ours (Synapse: join) and invites a plain user, who joins
 * from their own client; refusing kicks the knock (Synapse: leave), and the user can knock again;
 * bad input and decided requests are refused by name.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { matrixRequest, type RequestAuth } from '../../adapters/matrix/http.js';
import { roomStateQuery, type RoomState } from '../../vocabulary/contract.js';
import { roomWorkflowId } from '../../vocabulary/ids.js';
import { verifyWebhookSignature } from '../../client/webhook-signature.js';
import { createJoinRequestStore, recordJoinRequests } from '../../adapters/store/join-requests.js';
import { serviceFixture } from '../helpers/fixture.js';
import { eventually, stackEnv } from '../helpers/env.js';
import { adminToken, asPlatformUser, botView } from '../helpers/matrix.js';
import type { RunningProcess } from '../helpers/processes.js';
import { startApi } from '../helpers/relay.js';
import { tenantCaller } from '../helpers/tenant-call.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const fx = serviceFixture('knocks');
const call = tenantCaller(fx);
const SECRET = `whsec-${randomUUID()}`;
const ROOM = 'open-house';
let apiProcess: RunningProcess;
let receiver: WebhookReceiver;
let roomId: string;
let plain: { userId: string; auth: RequestAuth };
const e = encodeURIComponent;

/**
 * A Matrix user the service never provisioned, and how their own client acts as them: in admin
 * mode an account made on the homeserver with a password, logged in like any client; in appservice
 * mode (no admin, no password login there) one registered in the appservice's namespace but never
 * bound to a platform user, acted as with the appservice token.
 */
async function plainMatrixUser(): Promise<{ userId: string; auth: RequestAuth }> {
  const hs = fx.config.matrix.homeserverUrl;
  const localpart = `${fx.config.matrix.userPrefix}_plain_${randomUUID().slice(0, 8)}`;
  const userId = `@${localpart}:${fx.config.matrix.serverName}`;
  if (fx.config.matrix.identityMode === 'appservice') {
    await matrixRequest(hs, {
      method: 'POST',
      path: '/_matrix/client/v3/register',
      token: fx.config.matrix.asToken,
      body: { type: 'm.login.application_service', username: localpart },
    });
    return { userId, auth: { token: fx.config.matrix.asToken, query: { user_id: userId } } };
  }
  const password = randomUUID();
  await matrixRequest(hs, {
    method: 'PUT',
    path: `/_synapse/admin/v2/users/${e(userId)}`,
    token: await adminToken(fx.config),
    body: { password, displayname: 'Plain Knocker' },
  });
  const login = await matrixRequest<{ access_token: string }>(hs, {
    method: 'POST',
    path: '/_matrix/client/v3/login',
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password },
  });
  return { userId, auth: { token: login.access_token } };
}

/** A client-server call as the user (their own client). */
const asUser = (auth: RequestAuth, method: 'POST' | 'GET', path: string, body?: unknown) =>
  matrixRequest<Record<string, unknown>>(fx.config.matrix.homeserverUrl, { method, path, body, token: auth.token, query: auth.query });
const knock = (auth: RequestAuth, reason: string) => asUser(auth, 'POST', `/_matrix/client/v3/knock/${e(roomId)}`, { reason });
const ours = (slug: string) => asPlatformUser(fx.config, fx.db, fx.tenant, slug);
const bot = botView(fx.config);

/** What Synapse itself says of the user's membership in the room (the knock room by default; read as the bot, a member). */
async function membership(userId: string, room = roomId): Promise<string | null> {
  try {
    const ev = await matrixRequest<{ membership?: string }>(fx.config.matrix.homeserverUrl, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${e(room)}/state/m.room.member/${e(userId)}`,
      token: fx.config.matrix.asToken,
    });
    return ev.membership ?? null;
  } catch {
    return null;
  }
}

const userIdOf = async (slug: string): Promise<string> =>
  (await fx.db.query<{ user_id: string }>('SELECT user_id FROM matrix_users WHERE tenant = $1 AND slug = $2', [fx.tenant, slug])).rows[0]!
    .user_id;

/** The `member.knocked` deliveries the receiver got for this user, signatures checked. */
const knocksOf = (userId: string) =>
  receiver.received.filter((r) => {
    if (r.type !== 'member.knocked' || (r.body.user as { userId?: string })?.userId !== userId) return false;
    expect(verifyWebhookSignature(SECRET, r.raw, r.signature)).toMatchObject({ ok: true });
    return true;
  });

type Request = { userId: string; userSlug: string | null; state: string; reason: string | null; decidedBy: string | null; decisionReason: string | null };
const requests = async (state?: string): Promise<Request[]> => {
  const r = await call('GET', `/rooms/event/${ROOM}/requests${state ? `?state=${state}` : ''}`);
  expect(r.status).toBe(200);
  return r.body.requests as Request[];
};
const requestOf = async (userId: string) => (await requests()).find((r) => r.userId === userId);

beforeAll(async () => {
  // The API process the homeserver pushes its transactions to: it records knocks and their deliveries.
  apiProcess = await startApi(Number(stackEnv().API_PORT), fx.taskQueue);
  receiver = await WebhookReceiver.create();
  await receiver.set('up');
  expect((await call('PUT', '/webhook', { url: receiver.url, secret: SECRET, eventTypes: ['member.knocked'] })).status).toBe(200);
  for (const slug of ['ann', 'bob', 'carol']) expect((await call('POST', '/users', { slug, displayName: slug })).status).toBe(200);
  const made = await call('PUT', `/rooms/event/${ROOM}`, { name: 'Open house', knock: true });
  expect(made.status).toBe(200);
  roomId = made.body.roomId!;
  expect((await call('PUT', `/rooms/event/${ROOM}/members/ann`, { role: 'host' })).status).toBe(200);
  plain = await plainMatrixUser();
}, 240_000);
afterAll(async () => {
  await receiver?.close();
  await apiProcess?.stop();
});

describe('a knockable room', () => {
  it('has join rule knock on the homeserver; the setting shows in the room, and a DM refuses it', async () => {
    expect(await bot.joinRule(roomId)).toBe('knock');
    expect((await call('GET', `/rooms/event/${ROOM}`)).body.settings).toMatchObject({ knock: true });
    const dm = await call('POST', '/dms', { users: ['ann', 'bob'], knock: true });
    expect(dm.status).toBe(400);
    const dmRoom = await call('PUT', '/rooms/dm/ann~bob', { knock: true });
    expect(dmRoom).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM', error: expect.stringMatching(/no one can knock/) } });
  });

  it('turns knocking off and on again on an existing room (the join rule follows)', async () => {
    const other = await call('PUT', '/rooms/event/closed-door', { name: 'Closed' });
    expect(other.status).toBe(200);
    const rule = () => bot.joinRule(other.body.roomId!);
    expect(await rule()).toBe('invite');
    const on = await call('PUT', '/rooms/event/closed-door', { knock: true });
    expect(on.body.actions).toContain('join rule knock');
    expect(await rule()).toBe('knock');
    const off = await call('PUT', '/rooms/event/closed-door', { knock: false });
    expect(off.body.actions).toContain('join rule invite');
    expect(await rule()).toBe('invite');
  });
});

describe('a plain Matrix user knocking', () => {
  it('reaches the receiver by Matrix id, is a pending request everywhere; approved, they are invited and join themselves', async () => {
    await knock(plain.auth, 'may I come in?');
    const [delivery] = await eventually(async () => knocksOf(plain.userId).length > 0 && knocksOf(plain.userId), 60_000, 'the knock delivered');
    expect(delivery!.body).toMatchObject({
      type: 'member.knocked',
      tenant: fx.tenant,
      room: { kind: 'event', slug: ROOM, roomId },
      user: { userId: plain.userId, slug: null },
      reason: 'may I come in?',
    });
    expect(await membership(plain.userId)).toBe('knock');
    expect(await requestOf(plain.userId)).toMatchObject({ userSlug: null, state: 'pending', reason: 'may I come in?' });
    expect(((await call('GET', `/rooms/event/${ROOM}`)).body.requests as Request[])[0]).toMatchObject({ userId: plain.userId, state: 'pending' });
    // The room workflow's query (the Temporal UI) was told by the intake.
    const handle = fx.api.temporal.workflow.getHandle(roomWorkflowId(fx.tenant, 'event', ROOM));
    await eventually(
      async () => ((await handle.query(roomStateQuery)) as RoomState).requests?.some((r) => r.userId === plain.userId && r.state === 'pending'),
      30_000,
      "the request in the room workflow's query",
    );

    const approved = await call('POST', `/rooms/event/${ROOM}/requests/${e(plain.userId)}`, { approve: true });
    expect(approved.status).toBe(200);
    expect(approved.body.actions).toEqual([expect.stringMatching(new RegExp(`^invited ${plain.userId.replace(/[.]/g, '\\.')}`))]);
    expect(await membership(plain.userId)).toBe('invite');
    expect(await requestOf(plain.userId)).toMatchObject({ state: 'approved', decidedBy: 'platform' });
    expect(((await handle.query(roomStateQuery)) as RoomState).requests?.find((r) => r.userId === plain.userId)?.state).toBe('approved');
    // They join from their own client: not a desired member of the platform's, but in the room.
    await asUser(plain.auth, 'POST', `/_matrix/client/v3/join/${e(roomId)}`, {});
    expect(await membership(plain.userId)).toBe('join');
    const again = await call('POST', `/rooms/event/${ROOM}/requests/${e(plain.userId)}`, { approve: false });
    expect(again).toMatchObject({ status: 409, body: { errcode: 'OM_REQUEST_DECIDED', error: expect.stringMatching(/approved already/) } });
  });

  it('approved, stays in a room with prune: reconciliation removes only those nobody let in', async () => {
    // An outsider invited straight on the homeserver, without a request: prune removes them.
    const outsider = await plainMatrixUser();
    await asUser({ token: fx.config.matrix.asToken }, 'POST', `/_matrix/client/v3/rooms/${e(roomId)}/invite`, { user_id: outsider.userId });
    await asUser(outsider.auth, 'POST', `/_matrix/client/v3/join/${e(roomId)}`, {});
    expect(await membership(outsider.userId)).toBe('join');
    expect((await call('PUT', `/rooms/event/${ROOM}`, { prune: true })).status).toBe(200);
    try {
      // The drift report says the same as reconciliation will do.
      const drift = await call('GET', `/rooms/event/${ROOM}/drift`);
      expect((drift.body.membersExtra as { userId: string }[]).map((m) => m.userId)).toEqual([outsider.userId]);
      const reconciled = await call('POST', `/rooms/event/${ROOM}/reconcile`);
      expect(reconciled.status).toBe(200);
      expect(await membership(outsider.userId)).toBe('leave');
      expect(await membership(plain.userId)).toBe('join');
    } finally {
      expect((await call('PUT', `/rooms/event/${ROOM}`, { prune: false })).status).toBe(200);
    }
  });
});

describe('one of ours knocking with their own credentials', () => {
  it('reaches the receiver by slug; approved, they are joined (Synapse: join) and a desired member', async () => {
    const bob = await userIdOf('bob');
    await knock(await ours('bob'), 'count me in');
    const [delivery] = await eventually(async () => knocksOf(bob).length > 0 && knocksOf(bob), 60_000, "bob's knock delivered");
    expect(delivery!.body).toMatchObject({ user: { userId: bob, slug: 'bob' }, reason: 'count me in' });
    await eventually(async () => (await requestOf(bob))?.state === 'pending', 30_000, "bob's request recorded");
    expect(await requestOf(bob)).toMatchObject({ userSlug: 'bob' });

    const approved = await call('POST', `/rooms/event/${ROOM}/requests/bob`, { approve: true, decidedBy: 'ann' });
    expect(approved.status).toBe(200);
    expect(approved.body.actions).toEqual(expect.arrayContaining([`invited ${bob}`, `joined ${bob}`]));
    expect(await membership(bob)).toBe('join');
    expect((await call('GET', `/rooms/event/${ROOM}`)).body.members).toMatchObject({ ann: 'host', bob: 'participant' });
    expect(await requestOf(bob)).toMatchObject({ state: 'approved', decidedBy: 'ann' });
    // Decided once: the same decision again is refused, not repeated.
    expect((await call('POST', `/rooms/event/${ROOM}/requests/bob`, { approve: true })).body.errcode).toBe('OM_REQUEST_DECIDED');
  });

  it('refused, they are out (Synapse: leave) with the reason, and can knock again: a new pending request', async () => {
    const carol = await userIdOf('carol');
    await knock(await ours('carol'), 'first try');
    await eventually(async () => (await requestOf(carol))?.state === 'pending', 60_000, "carol's request recorded");
    const refused = await call('POST', `/rooms/event/${ROOM}/requests/carol`, { approve: false, reason: 'the room is full' });
    expect(refused.status).toBe(200);
    expect(refused.body.actions).toEqual([`refused the knock of ${carol}`]);
    expect(await membership(carol)).toBe('leave');
    expect(await requestOf(carol)).toMatchObject({ state: 'refused', decisionReason: 'the room is full', decidedBy: 'platform' });
    expect((await call('GET', `/rooms/event/${ROOM}`)).body.members).not.toHaveProperty('carol');

    await knock(await ours('carol'), 'second try');
    await eventually(async () => (await requestOf(carol))?.state === 'pending', 60_000, "carol's second request");
    expect(await requestOf(carol)).toMatchObject({ reason: 'second try', decidedBy: null, decisionReason: null });
    expect(await membership(carol)).toBe('knock');
    expect(await eventually(async () => knocksOf(carol).length === 2, 60_000, 'both of carol\'s knocks delivered')).toBe(true);
    expect((await requests('pending')).map((r) => r.userId)).toEqual([carol]);
  });

  it('a knock withdrawn (the user left) cannot be decided', async () => {
    const carol = await userIdOf('carol');
    await asUser(await ours('carol'), 'POST', `/_matrix/client/v3/rooms/${e(roomId)}/leave`, {});
    await eventually(async () => (await requestOf(carol))?.state === 'withdrawn', 60_000, "carol's request withdrawn");
    expect(await requestOf(carol)).toMatchObject({ decidedBy: carol });
    const late = await call('POST', `/rooms/event/${ROOM}/requests/carol`, { approve: true });
    expect(late).toMatchObject({ status: 409, body: { errcode: 'OM_REQUEST_DECIDED', error: expect.stringMatching(/withdrawn/) } });
    expect(await membership(carol)).toBe('leave');
  });
});

describe('an archived room', () => {
  it('rejects the knocks pending there and refuses their requests, in PostgreSQL and in the workflow', async () => {
    const made = await call('PUT', '/rooms/event/last-call', { name: 'Last call', knock: true });
    expect(made.status).toBe(200);
    const closing = made.body.roomId!;
    const late = await plainMatrixUser();
    await asUser(late.auth, 'POST', `/_matrix/client/v3/knock/${e(closing)}`, { reason: 'too late?' });
    const pending = async () => ((await call('GET', '/rooms/event/last-call/requests')).body.requests as Request[])[0];
    await eventually(async () => (await pending())?.state === 'pending', 60_000, 'the late knock recorded');

    const archived = await call('DELETE', '/rooms/event/last-call');
    expect(archived.status).toBe(200);
    expect(archived.body.actions).toEqual(
      expect.arrayContaining([`refused the knock of ${late.userId}`, 'refused 1 pending join request', 'archived']),
    );
    expect(await membership(late.userId, closing)).toBe('leave');
    expect(await pending()).toMatchObject({ state: 'refused', decidedBy: 'platform', decisionReason: 'the room was archived' });
    const handle = fx.api.temporal.workflow.getHandle(roomWorkflowId(fx.tenant, 'event', 'last-call'));
    const inWorkflow = ((await handle.query(roomStateQuery)) as RoomState).requests?.find((r) => r.userId === late.userId);
    expect(inWorkflow).toMatchObject({ state: 'refused', decisionReason: 'the room was archived' });
  });
});

describe('refusals by name', () => {
  it('no request: 404 OM_REQUEST_NOT_FOUND; a bad body or user: 400 naming it; no room: 404', async () => {
    expect((await call('POST', `/rooms/event/${ROOM}/requests/dave`, { approve: true })).body.errcode).toBe('OM_REQUEST_NOT_FOUND');
    expect((await call('POST', `/rooms/event/${ROOM}/requests/ann`, { approve: true })).body.errcode).toBe('OM_REQUEST_NOT_FOUND');
    const stranger = await call('POST', `/rooms/event/${ROOM}/requests/${e('@nobody:elsewhere.test')}`, { approve: false });
    expect(stranger).toMatchObject({ status: 404, body: { errcode: 'OM_REQUEST_NOT_FOUND' } });
    const noApprove = await call('POST', `/rooms/event/${ROOM}/requests/bob`, { reason: 'x' });
    expect(noApprove.status).toBe(400);
    expect(noApprove.body.error).toContain('"approve"');
    const badApprove = await call('POST', `/rooms/event/${ROOM}/requests/bob`, { approve: 'yes' });
    expect(badApprove.status).toBe(400);
    expect(badApprove.body.error).toContain('"approve"');
    const badRole = await call('POST', `/rooms/event/${ROOM}/requests/bob`, { approve: true, role: 'owner' });
    expect(badRole).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM', error: expect.stringContaining('"role"') } });
    expect((await call('POST', `/rooms/event/${ROOM}/requests/${e('@bad id')}`, { approve: true })).status).toBe(400);
    expect((await call('GET', `/rooms/event/${ROOM}/requests?state=maybe`)).body.errcode).toBe('M_INVALID_PARAM');
    expect((await call('GET', '/rooms/event/no-such-room/requests')).status).toBe(404);
    expect((await call('POST', '/rooms/event/no-such-room/requests/bob', { approve: true })).status).toBe(404);
  });
});

describe('the store on PostgreSQL', () => {
  it('claims a request once: a retried attempt (the same decision id) finds it its own, another decision is refused', async () => {
    const ref = { tenant: fx.tenant, kind: 'event' as const, slug: ROOM };
    const userId = '@ghost:elsewhere.test';
    const knocked = { room_id: roomId, type: 'm.room.member', sender: userId, state_key: userId, content: { membership: 'knock' } };
    const client = await fx.db.connect();
    try {
      const recorded = await recordJoinRequests(client, [{ ...knocked, event_id: `$ghost-${randomUUID()}` }], undefined);
      expect(recorded).toEqual([{ ref, request: expect.objectContaining({ userId, userSlug: null, state: 'pending' }) }]);
    } finally {
      client.release();
    }
    const store = createJoinRequestStore(fx.db);
    const decision = { userId, userSlug: null, approve: false, reason: 'no', decisionId: randomUUID() };
    expect(await store.claim(ref, decision)).toEqual({ claimed: true });
    expect(await store.claim(ref, decision)).toEqual({ claimed: true });
    expect(await store.claim(ref, { ...decision, approve: true, decisionId: randomUUID() })).toEqual({ claimed: false, found: 'refused' });
    expect(await store.get(ref, userId)).toMatchObject({ state: 'refused', decidedBy: 'platform', decisionReason: 'no' });
    expect(await store.claim(ref, { ...decision, userId: '@nobody:elsewhere.test' })).toEqual({ claimed: false, found: null });
    // A decision not carried out is released by its id: pending again, to decide anew.
    await store.release(ref, [randomUUID()]);
    expect((await store.get(ref, userId))?.state).toBe('refused');
    await store.release(ref, [decision.decisionId]);
    expect(await store.get(ref, userId)).toMatchObject({ state: 'pending', decidedBy: null, decisionReason: null });
  });
});
