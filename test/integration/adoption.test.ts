/**
 * "The platform that came before" (issue #17): users who signed up with passwords and a room they
 * made, with members, roles and 50 messages, all through their own clients. The service adopts the
 * users and the room through the API, then changes membership and roles through the API; on the
 * homeserver the room is the same, its history is all there, and its final state is exact. Admin
 * mode (the default): the service acts as local adopted accounts, and only invites one on another
 * server, whose sends it refuses.
 */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { adminFor, adminToken, botView, listUsers, roomMessages } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';
import { tenantCaller, type Answer } from '../helpers/tenant-call.js';
import { accountWithPassword, membershipsAsBot, stateAsBot, type OwnClient } from '../helpers/prior-platform.js';

const fx = serviceFixture('adopt', { API_WAIT_MS: '60000' }, 'adopt');
const { config, tenant } = fx;
const BOT = '@openmeet-bot:localhost';
const bot = botView(config);
/** Localparts of the accounts from before the service: outside its `om_` namespace. */
const pre = `pre${randomBytes(3).toString('hex')}`;
const REMOTE = `@rob-${pre}:elsewhere.example`;

const call = tenantCaller(fx);

const adoptUser = (slug: string, matrixUserId: string, displayName = slug): Promise<Answer> =>
  call('POST', '/users', { slug, displayName, matrixUserId });

/** What the platform had before the service: four users, a room with roles, 50 messages, another room. */
interface Before {
  alice: OwnClient;
  bob: OwnClient;
  carol: OwnClient;
  dave: OwnClient;
  frank: OwnClient;
  gina: OwnClient;
  roomId: string;
  otherRoomId: string;
  alias: string;
  messages: string[];
}
let before: Before;

describe('a platform that came before', () => {
  it("is built with the users' own clients: a room with members, roles and 50 messages", async () => {
    const [alice, bob, carol, dave, frank, gina] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave', 'frank', 'gina'].map((n) =>
        accountWithPassword(config, `${pre}_${n}`, `${n} (own name)`),
      ),
    );
    const alias = `#${pre}_general:localhost`;
    const roomId = await alice!.createRoom({
      preset: 'private_chat',
      name: 'General',
      room_alias_name: `${pre}_general`,
    });
    for (const u of [bob!, carol!, dave!, gina!]) {
      await alice!.invite(roomId, u.userId);
      await u.join(roomId);
    }
    const levels = await alice!.powerLevels(roomId);
    await alice!.setPowerLevels(roomId, { ...levels, users: { ...(levels.users as object), [bob!.userId]: 50 } });
    const messages: string[] = [];
    const speakers = [alice!, bob!, carol!, dave!];
    for (let i = 0; i < 50; i++) {
      const body = `before the service, message ${i}`;
      await speakers[i % 4]!.send(roomId, `m${i}`, body);
      messages.push(body);
    }
    const otherRoomId = await alice!.createRoom({ preset: 'private_chat', name: 'Another' });
    before = {
      alice: alice!,
      bob: bob!,
      carol: carol!,
      dave: dave!,
      frank: frank!,
      gina: gina!,
      roomId,
      otherRoomId,
      alias,
      messages,
    };
    expect((await roomMessagesAs(alice!, roomId)).filter((b) => b.startsWith('before the service')).length).toBe(50);
  });
});

/** The room's message bodies as one of its users reads them with their own client. */
async function roomMessagesAs(client: OwnClient, roomId: string): Promise<string[]> {
  const page = await matrixRequest<{ chunk: { type: string; content: { body?: string } }[] }>(
    config.matrix.homeserverUrl,
    {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`,
      token: client.token,
      query: { dir: 'b', limit: '200' },
    },
  );
  return page.chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body ?? '');
}

describe('adopting the users', () => {
  it('binds each platform user to their existing account: nothing created, no display name changed', async () => {
    for (const [slug, c] of [
      ['alice', before.alice],
      ['bob', before.bob],
      ['carol', before.carol],
      ['dave', before.dave],
      ['frank', before.frank],
    ] as const) {
      const r = await adoptUser(slug, c.userId, `Platform ${slug}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        userId: c.userId,
        adopted: true,
        canActAs: true,
        created: false,
        displayNameChanged: false,
      });
    }
    const admin = adminFor(config);
    expect((await admin.getUser(before.alice.userId))?.displayName).toBe('alice (own name)');
    // No account of the service's own was made for them.
    expect(await listUsers(config, await adminToken(config), `om_${tenant}_`)).toEqual([]);
  });

  it('is stable: the same binding again changes nothing; another id for the slug, or the id for another slug, is 409', async () => {
    const again = await adoptUser('alice', before.alice.userId);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ userId: before.alice.userId, adopted: true, tokenIssued: false });
    const other = await adoptUser('alice', before.bob.userId);
    expect(other).toMatchObject({ status: 409, body: { errcode: 'OM_USER_BINDING_CONFLICT' } });
    expect(other.body.error).toContain(before.alice.userId);
    const taken = await adoptUser('bobby', before.bob.userId);
    expect(taken).toMatchObject({ status: 409, body: { errcode: 'OM_USER_BINDING_CONFLICT' } });
    expect(taken.body.error).toContain('bob');
    // Without matrixUserId, an adopted user stays bound (and no display name is applied).
    const plain = await call('POST', '/users', { slug: 'alice', displayName: 'Renamed?' });
    expect(plain.body).toMatchObject({ userId: before.alice.userId, adopted: true });
    expect((await adminFor(config).getUser(before.alice.userId))?.displayName).toBe('alice (own name)');
  });

  it('refuses what cannot be adopted with a 4xx naming why', async () => {
    const own = await adoptUser('zed', `@om_${tenant}_someone:localhost`);
    expect(own).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    expect(own.body.error).toContain("service's own namespace");
    expect(await adoptUser('zed', BOT)).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    expect(await adoptUser('zed', 'alice')).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    const missing = await adoptUser('zed', `@${pre}_nobody:localhost`);
    expect(missing).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
    expect(missing.body.error).toMatch(/does not exist; the service never creates/);
    // Nothing was bound: the slug can still be bound to an account that exists.
    expect((await adoptUser('zed', before.gina.userId)).status).toBe(200);
  });

  it('binds an account of another server, which the service cannot act as', async () => {
    const r = await adoptUser('rob', REMOTE);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ userId: REMOTE, adopted: true, canActAs: false, tokenIssued: false });
  });
});

describe('adopting the room', () => {
  it('takes over the room: same room, the bot in charge, our alias beside its own', async () => {
    const r = await call('PUT', '/rooms/group/general', { adopt: { alias: before.alias } });
    expect(r.status).toBe(200);
    expect(r.body.roomId).toBe(before.roomId);
    const ours = `#om_${tenant}_group_general:localhost`;
    expect(r.body.actions).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^adopted /),
        `alias ${ours} added`,
        `alternative alias ${ours} beside the canonical ${before.alias}`,
      ]),
    );
    expect(r.body.alias).toBe(ours);
    expect(await bot.resolveAlias(ours)).toBe(before.roomId);
    expect(await bot.resolveAlias(before.alias)).toBe(before.roomId);
    expect(await stateAsBot(config, before.roomId, 'm.room.canonical_alias')).toEqual({
      alias: before.alias,
      alt_aliases: [ours],
    });
    expect((await bot.powerLevels(before.roomId))[BOT]).toBe(100);
  });

  it('never gives the entity a second room: the same adoption is a no-op, another room or owner is 409, ensure never creates', async () => {
    const again = await call('PUT', '/rooms/group/general', { adopt: { roomId: before.roomId } });
    expect(again).toMatchObject({ status: 200, body: { roomId: before.roomId, actions: [] } });
    const second = await call('PUT', '/rooms/group/general', { adopt: { roomId: before.otherRoomId } });
    expect(second).toMatchObject({ status: 409, body: { errcode: 'OM_ROOM_ADOPTION_CONFLICT' } });
    const twice = await call('PUT', '/rooms/group/elsewhere', { adopt: { roomId: before.roomId } });
    expect(twice).toMatchObject({ status: 409, body: { errcode: 'OM_ROOM_ADOPTION_CONFLICT' } });
    expect(twice.body.error).toContain('group general');
    const ensure = await call('PUT', '/rooms/group/general', { name: 'General' });
    expect(ensure).toMatchObject({ status: 200, body: { roomId: before.roomId } });
    const missing = await call('PUT', '/rooms/group/nowhere', { adopt: { alias: `#${pre}_nothing:localhost` } });
    expect(missing).toMatchObject({ status: 409, body: { errcode: 'OM_ROOM_NOT_ADOPTABLE' } });
  });
});

describe('managing the adopted room through the API', () => {
  it('changes membership and roles; people who are not desired members are left alone', async () => {
    const set = (slug: string, role: string, displayName?: string) =>
      call('PUT', `/rooms/group/general/members/${slug}`, { role, ...(displayName ? { displayName } : {}) });
    expect((await set('alice', 'owner')).status).toBe(200);
    const bob = await set('bob', 'member');
    expect(bob.body.actions).toContain(`power level ${before.bob.userId} 50→0`);
    const carol = await set('carol', 'moderator');
    expect(carol.body.actions).toContain(`power level ${before.carol.userId} 0→50`);
    const erin = await set('erin', 'admin', 'Erin');
    expect(erin.status).toBe(200);
    const frank = await set('frank', 'member');
    expect(frank.body.actions).toEqual(
      expect.arrayContaining([`invited ${before.frank.userId}`, `joined ${before.frank.userId}`]),
    );
    // dave was in the room before; bound now, so the platform can remove him by slug.
    expect((await set('dave', 'member')).status).toBe(200);
    const gone = await call('DELETE', '/rooms/group/general/members/dave');
    expect(gone.body.actions).toContain(`removed ${before.dave.userId}`);
  });

  it('invites the account of another server, and says so when its server cannot be reached', async () => {
    const rob = await call('PUT', '/rooms/group/general/members/rob', { role: 'member' });
    expect(rob).toMatchObject({ status: 502, body: { errcode: 'OM_UPSTREAM_FAILED' } });
    expect(rob.body.error).toContain(`the invite to ${REMOTE} could not be delivered`);
    const view = await call('GET', '/rooms/group/general');
    expect((view.body.members as Record<string, string>).rob).toBe('member');
    expect((view.body.memberships as Record<string, string>).rob).toBe('none');
    expect((await membershipsAsBot(config, before.roomId))[REMOTE]).toBeUndefined();
  });

  it('refuses to send as a user it cannot act as (403 OM_USER_NOT_MANAGED), and sends as an adopted local one', async () => {
    const refused = await call('POST', '/rooms/group/general/messages', { txnId: 'r1', body: 'hi', userSlug: 'rob' });
    expect(refused).toMatchObject({ status: 403, body: { errcode: 'OM_USER_NOT_MANAGED' } });
    expect(refused.body.error).toContain(REMOTE);
    const typing = await call('PUT', '/rooms/group/general/typing', { typing: true, userSlug: 'rob' });
    expect(typing).toMatchObject({ status: 403, body: { errcode: 'OM_USER_NOT_MANAGED' } });
    const receipt = await call('POST', '/rooms/group/general/receipts', { eventId: '$x', userSlug: 'rob' });
    expect(receipt).toMatchObject({ status: 403, body: { errcode: 'OM_USER_NOT_MANAGED' } });
    const sent = await call('POST', '/rooms/group/general/messages', {
      txnId: 'a1',
      body: 'after adoption',
      userSlug: 'alice',
    });
    expect(sent).toMatchObject({ status: 200, body: { status: 'sent' } });
    const history = await roomMessages(config, before.roomId);
    expect(history.find((m) => m.eventId === sent.body.eventId)?.body).toBe('after adoption');
  });

  it('a reconcile leaves the room as it is: no one removed who was there before, no drift', async () => {
    const r = await call('POST', '/rooms/group/general/reconcile');
    expect(r.status).toBe(200);
    expect(r.body.actions!.filter((a) => !a.includes(REMOTE))).toEqual([]);
  });

  it('ends exact on the homeserver: the same room, its 50 messages, members, power levels and aliases', async () => {
    const { roomId } = before;
    const history = await roomMessages(config, roomId);
    expect(
      history
        .map((m) => m.body)
        .filter((b) => b.startsWith('before the service'))
        .sort(),
    ).toEqual([...before.messages].sort());
    const erin = `@om_${tenant}_erin:localhost`;
    expect(await bot.joined(roomId)).toEqual(
      [
        BOT,
        before.alice.userId,
        before.bob.userId,
        before.carol.userId,
        erin,
        before.frank.userId,
        before.gina.userId,
      ].sort(),
    );
    expect((await membershipsAsBot(config, roomId))[before.dave.userId]).toBe('leave');
    // alice created the room (room version 12): she outranks every level and is never listed.
    expect(await bot.powerLevels(roomId)).toEqual({ [BOT]: 100, [before.carol.userId]: 50, [erin]: 75 });
    expect(await stateAsBot(config, roomId, 'm.room.canonical_alias')).toEqual({
      alias: before.alias,
      alt_aliases: [`#om_${tenant}_group_general:localhost`],
    });
    const view = await call('GET', '/rooms/group/general');
    expect(view.body).toMatchObject({
      roomId,
      members: { alice: 'owner', bob: 'member', carol: 'moderator', erin: 'admin', frank: 'member', rob: 'member' },
      memberships: { alice: 'join', bob: 'join', carol: 'join', erin: 'join', frank: 'join', rob: 'none' },
    });
  });

  it("is renamed like any room: its own canonical alias stays canonical, the entity's aliases beside it", async () => {
    const r = await call('POST', '/rooms/group/general/rename', { newSlug: 'general-chat' });
    expect(r).toMatchObject({ status: 200, body: { roomId: before.roomId, slug: 'general-chat' } });
    const [old, now] = [`#om_${tenant}_group_general:localhost`, `#om_${tenant}_group_general-chat:localhost`];
    expect(r.body.actions).toEqual([
      `alias ${now} added`,
      `alternative alias ${now} (also ${old}) beside the canonical ${before.alias}`,
    ]);
    expect(await stateAsBot(config, before.roomId, 'm.room.canonical_alias')).toEqual({
      alias: before.alias,
      alt_aliases: [now, old],
    });
    expect(await bot.resolveAlias(now)).toBe(before.roomId);
    expect((await call('GET', '/rooms/group/general-chat')).body).toMatchObject({
      roomId: before.roomId,
      members: { alice: 'owner', carol: 'moderator' },
    });
  });
});
