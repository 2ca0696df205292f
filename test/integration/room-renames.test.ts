/**
 * Room renames on the real stack (decision 0031): the entity moves to its new slug with the same
 * room, members and workflow; requests naming an old slug answer 409 OM_ROOM_RENAMED with the new
 * one, on every room route and on the socket; the new alias is canonical, the old one an
 * alternative until the keep time (short here) runs out and the workflow's timer removes it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { DEFAULT_POWER_LEVELS } from '../../vocabulary/roles.js';
import { eventually, sleep, stackEnv } from '../helpers/env.js';
import { serviceFixture } from '../helpers/fixture.js';
import { tenantCaller, type Answer } from '../helpers/tenant-call.js';
import { adminRoomSearch, adminToken, botView } from '../helpers/matrix.js';
import type { RunningProcess } from '../helpers/processes.js';
import { RelayClient, startApi, userToken } from '../helpers/relay.js';

/** Long enough for the burst and the checks before the old alias goes (they take about 10 s here). */
const KEEP_SECONDS = 40;
const fx = serviceFixture('renames', { API_WAIT_MS: '60000' }, 'ren', {
  ROOM_OLD_ALIAS_KEEP_SECONDS: String(KEEP_SECONDS),
});
const { config, tenant } = fx;
const BOT = '@openmeet-bot:localhost';
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
const aliasOf = (kind: string, slug: string): string => `#om_${tenant}_${kind}_${slug}:localhost`;
const bot = botView(config);

const call = tenantCaller(fx);

const renamed = (newSlug: string) => ({
  status: 409,
  body: { errcode: 'OM_ROOM_RENAMED', error: expect.stringContaining(`renamed to "${newSlug}"`), newSlug },
});

async function canonical(roomId: string): Promise<{ alias?: string; alt_aliases?: string[] }> {
  return matrixRequest(config.matrix.homeserverUrl, {
    method: 'GET',
    path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.canonical_alias`,
    token: config.matrix.asToken,
  });
}

/** Ids of the workflows a visibility query finds (each run counted once per id). */
async function workflowIds(query: string): Promise<string[]> {
  const ids = new Set<string>();
  for await (const w of fx.api.temporal.workflow.list({ query: `Tenant = "${tenant}" AND ${query}` }))
    ids.add(w.workflowId);
  return [...ids].sort();
}

/** The managed users' power levels in the room (the bot outranks them as its creator). */
async function managedLevels(roomId: string): Promise<Record<string, number>> {
  const levels = await bot.powerLevels(roomId);
  return Object.fromEntries(Object.entries(levels).filter(([id]) => id.startsWith(`@om_${tenant}_`)));
}

type MemberChange = { user: string; role: string } | { user: string; remove: true };

/**
 * One member change as the platform sends it: by the slug it knows; a 409 OM_ROOM_RENAMED is sent
 * again with the slug the answer names.
 */
async function platformSends(slug: string, change: MemberChange): Promise<{ answer: Answer; resent: boolean }> {
  const send = (s: string) =>
    'remove' in change
      ? call('DELETE', `/rooms/group/${s}/members/${change.user}`)
      : call('PUT', `/rooms/group/${s}/members/${change.user}`, { role: change.role });
  const first = await send(slug);
  if (first.body.errcode !== 'OM_ROOM_RENAMED') return { answer: first, resent: false };
  return { answer: await send(first.body.newSlug!), resent: true };
}

describe('a group renamed while member changes are in flight', () => {
  it('loses none of them and keeps one room, its new alias canonical, the old one an alternative until the timer removes it', async () => {
    const initial: Record<string, string> = {
      m0: 'owner',
      m1: 'member',
      m2: 'member',
      m3: 'member',
      m4: 'member',
      m5: 'member',
    };
    const created = await call('PUT', '/rooms/group/hikers', { name: 'Hikers' });
    expect(created.status).toBe(200);
    const roomId = created.body.roomId!;
    const added = await Promise.all(
      Object.entries(initial).map(([u, role]) => platformSends('hikers', { user: u, role })),
    );
    expect(added.map((a) => a.answer.status)).toEqual(Array(6).fill(200));

    // The burst: new members, removals and role changes, one every 40 ms, with the rename among them.
    const roles = ['member', 'moderator', 'admin', 'member'];
    const burst: MemberChange[] = [
      ...Array.from({ length: 12 }, (_, i) => ({ user: `n${i}`, role: roles[i % 4]! })),
      { user: 'm1', remove: true },
      { user: 'm2', remove: true },
      { user: 'm3', remove: true },
      { user: 'm4', role: 'admin' },
      { user: 'm5', role: 'moderator' },
    ];
    const sends = burst.map(async (change, i) => {
      await sleep(i * 40);
      return platformSends('hikers', change);
    });
    let renamedAt = 0;
    const renaming = (async () => {
      await sleep(7 * 40 + 20);
      renamedAt = Date.now();
      return call('POST', '/rooms/group/hikers/rename', { newSlug: 'hikers-berlin' });
    })();
    const [rename, outcomes] = await Promise.all([renaming, Promise.all(sends)]);

    expect(rename.status).toBe(200);
    expect(rename.body).toMatchObject({ roomId, alias: aliasOf('group', 'hikers-berlin'), slug: 'hikers-berlin' });
    expect(rename.body.actions).toEqual(
      expect.arrayContaining([
        `alias ${aliasOf('group', 'hikers-berlin')} added`,
        `canonical alias ${aliasOf('group', 'hikers-berlin')} (also ${aliasOf('group', 'hikers')})`,
      ]),
    );
    // Every change was applied, to the one room: some under the old slug (before the rename), the
    // rest sent again under the new one after their 409.
    expect(outcomes.map((o) => o.answer.status)).toEqual(Array(burst.length).fill(200));
    expect(new Set(outcomes.map((o) => o.answer.body.roomId))).toEqual(new Set([roomId]));
    expect(outcomes.filter((o) => o.resent).length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => !o.resent).length).toBeGreaterThan(0);

    // The homeserver: exactly the desired members, with exactly their roles' levels.
    const desired: Record<string, string> = { m0: 'owner', m4: 'admin', m5: 'moderator' };
    burst.slice(0, 12).forEach((c) => (desired[c.user] = (c as { role: string }).role));
    expect(await bot.joined(roomId)).toEqual([BOT, ...Object.keys(desired).map(uid)].sort());
    const wantLevels = Object.fromEntries(
      Object.entries(desired)
        .map(([u, role]) => [uid(u), DEFAULT_POWER_LEVELS.group[role as 'owner']] as const)
        .filter(([, level]) => level !== 0),
    );
    expect(await managedLevels(roomId)).toEqual(wantLevels);

    // One room: on the homeserver, in PostgreSQL, and one workflow, found under either slug.
    const onServer = await adminRoomSearch(config, await adminToken(config), `om_${tenant}_group_hikers`);
    expect(onServer.map((r) => r.room_id)).toEqual([roomId]);
    const rows = await fx.db.query("SELECT slug, room_id FROM rooms WHERE tenant = $1 AND slug LIKE 'hikers%'", [
      tenant,
    ]);
    expect(rows.rows).toEqual([{ slug: 'hikers', room_id: roomId }]);
    for (const slug of ['hikers', 'hikers-berlin'])
      expect(await eventually(async () => (await workflowIds(`EntitySlugs = "${slug}"`)).join(), 30_000, slug)).toBe(
        `room:${tenant}:group:hikers`,
      );
    expect(await workflowIds(`WorkflowId = "room:${tenant}:group:hikers-berlin"`)).toEqual([]);

    // The aliases: the new one canonical, the old one an alternative, both pointing at the room.
    const elapsed = Date.now() - renamedAt;
    if (elapsed > (KEEP_SECONDS - 5) * 1000)
      throw new Error(`the checks took ${elapsed} ms, too close to KEEP_SECONDS: raise it for this machine`);
    expect(await canonical(roomId)).toEqual({
      alias: aliasOf('group', 'hikers-berlin'),
      alt_aliases: [aliasOf('group', 'hikers')],
    });
    expect(await bot.resolveAlias(aliasOf('group', 'hikers'))).toBe(roomId);
    expect(await bot.resolveAlias(aliasOf('group', 'hikers-berlin'))).toBe(roomId);

    // The API: the old slug answers with the new one; the new one is the entity, renamed.
    expect(await call('GET', '/rooms/group/hikers')).toEqual(renamed('hikers-berlin'));
    const view = await call('GET', '/rooms/group/hikers-berlin');
    expect(view.body).toMatchObject({
      slug: 'hikers-berlin',
      slugs: ['hikers', 'hikers-berlin'],
      roomId,
      alias: aliasOf('group', 'hikers-berlin'),
      members: desired,
    });

    // The keep time runs out: the workflow's timer takes the old alias off the homeserver.
    await eventually(
      async () => (await bot.resolveAlias(aliasOf('group', 'hikers'))) === null,
      (KEEP_SECONDS + 60) * 1000,
      'the old alias to be removed',
    );
    expect(await canonical(roomId)).toEqual({ alias: aliasOf('group', 'hikers-berlin'), alt_aliases: [] });
    expect(await bot.resolveAlias(aliasOf('group', 'hikers-berlin'))).toBe(roomId);
    expect(await call('GET', '/rooms/group/hikers')).toEqual(renamed('hikers-berlin'));
  }, 300_000);
});

describe('renames, one after another', () => {
  it('a → b → c: requests for a and b answer with c; a stale or repeated rename changes nothing; a taken slug is refused', async () => {
    const created = await call('PUT', '/rooms/group/g-a/members/alice', { role: 'owner' });
    expect(created.status).toBe(200);
    const roomId = created.body.roomId!;
    expect((await call('POST', '/rooms/group/g-a/rename', { newSlug: 'g-b' })).status).toBe(200);
    const toC = await call('POST', '/rooms/group/g-b/rename', { newSlug: 'g-c' });
    expect(toC).toMatchObject({ status: 200, body: { roomId, slug: 'g-c', alias: aliasOf('group', 'g-c') } });

    expect(await call('GET', '/rooms/group/g-a')).toEqual(renamed('g-c'));
    expect(await call('PUT', '/rooms/group/g-b/members/bob', {})).toEqual(renamed('g-c'));
    expect(await call('POST', '/rooms/group/g-a/reconcile')).toEqual(renamed('g-c'));
    expect(await call('DELETE', '/rooms/group/g-b')).toEqual(renamed('g-c'));
    // The same rename again: nothing to do. A rename from a slug left long ago to another: stale.
    expect(await call('POST', '/rooms/group/g-b/rename', { newSlug: 'g-c' })).toMatchObject({
      status: 200,
      body: { roomId, slug: 'g-c', actions: [] },
    });
    expect(await call('POST', '/rooms/group/g-a/rename', { newSlug: 'g-b' })).toEqual(renamed('g-c'));
    expect(await canonical(roomId)).toEqual({
      alias: aliasOf('group', 'g-c'),
      alt_aliases: [aliasOf('group', 'g-a'), aliasOf('group', 'g-b')],
    });

    // Another entity's slug, current or old, is not to be had; a slug nobody has is not renamed.
    expect((await call('PUT', '/rooms/group/other', { name: 'Other' })).status).toBe(200);
    const taken = await call('POST', '/rooms/group/g-c/rename', { newSlug: 'other' });
    expect(taken).toMatchObject({ status: 409, body: { errcode: 'OM_SLUG_TAKEN' } });
    expect((await call('POST', '/rooms/group/other/rename', { newSlug: 'g-a' })).body.errcode).toBe('OM_SLUG_TAKEN');
    expect((await call('PUT', '/rooms/group/g-a', { name: 'New group, old slug' })).body.errcode).toBe(
      'OM_ROOM_RENAMED',
    );
    expect(await call('POST', '/rooms/group/nobody/rename', { newSlug: 'n2' })).toMatchObject({
      status: 404,
      body: { errcode: 'M_NOT_FOUND' },
    });

    // Back to a slug it had: fine, and the others now lead there.
    const back = await call('POST', '/rooms/group/g-c/rename', { newSlug: 'g-a' });
    expect(back).toMatchObject({ status: 200, body: { roomId, slug: 'g-a', alias: aliasOf('group', 'g-a') } });
    expect(await call('GET', '/rooms/group/g-c')).toEqual(renamed('g-a'));
    expect(await canonical(roomId)).toEqual({
      alias: aliasOf('group', 'g-a'),
      alt_aliases: [aliasOf('group', 'g-b'), aliasOf('group', 'g-c')],
    });
    const added = await call('PUT', '/rooms/group/g-a/members/bob', { role: 'admin' });
    expect(added).toMatchObject({ status: 200, body: { roomId, slug: 'g-a' } });
    expect(await bot.joined(roomId)).toEqual([BOT, uid('alice'), uid('bob')].sort());
  }, 180_000);

  it("the platform's renamed events move the entity as the route does; an old slug in a later event answers with the new one", async () => {
    const created = await fx.api.post(`/v1/tenants/${tenant}/events`, {
      type: 'chat.event.created',
      data: { slug: 'launch', name: 'Launch' },
    });
    const roomId = ((await created.json()) as { roomId: string }).roomId;
    const event = async (type: string, data: Record<string, unknown>): Promise<Answer> => {
      const res = await fx.api.post(`/v1/tenants/${tenant}/events`, { type, data });
      return { status: res.status, body: (await res.json()) as Answer['body'] };
    };
    const moved = await event('chat.event.renamed', { slug: 'launch', newSlug: 'launch-2027' });
    expect(moved).toMatchObject({
      status: 200,
      body: { roomId, slug: 'launch-2027', alias: aliasOf('event', 'launch-2027') },
    });
    // Delivered twice: the same outcome, nothing done.
    expect(await event('chat.event.renamed', { slug: 'launch', newSlug: 'launch-2027' })).toMatchObject({
      status: 200,
      body: { roomId, actions: [] },
    });
    expect(await event('chat.event.member.add', { slug: 'launch', userSlug: 'carol', role: 'host' })).toEqual(
      renamed('launch-2027'),
    );
    const add = await event('chat.event.member.add', { slug: 'launch-2027', userSlug: 'carol', role: 'host' });
    expect(add).toMatchObject({ status: 200, body: { roomId } });
    expect(await bot.joined(roomId)).toEqual([BOT, uid('carol')].sort());

    // The platform's own: group.slug.changed (src/group/group.service.ts update()), with its groupId.
    const group = await event('chat.group.created', { slug: 'walkers', name: 'Walkers' });
    const groupRoom = (group.body as { roomId: string }).roomId;
    const changed = await event('group.slug.changed', {
      groupId: 41,
      oldSlug: 'walkers',
      newSlug: 'city-walkers',
      tenantId: tenant,
    });
    expect(changed).toMatchObject({
      status: 200,
      body: { roomId: groupRoom, slug: 'city-walkers', alias: aliasOf('group', 'city-walkers') },
    });
    expect(await event('chat.group.member.add', { groupSlug: 'walkers', userSlug: 'carol', tenantId: tenant })).toEqual(
      renamed('city-walkers'),
    );
  }, 120_000);

  it('a new run of a renamed entity (the old one terminated) picks up its slugs from PostgreSQL', async () => {
    const created = await call('PUT', '/rooms/group/reborn/members/dora', { role: 'member' });
    const roomId = created.body.roomId!;
    expect((await call('POST', '/rooms/group/reborn/rename', { newSlug: 'reborn-2' })).status).toBe(200);
    const workflowId = `room:${tenant}:group:reborn`;
    await fx.api.temporal.workflow.getHandle(workflowId).terminate('test: an operator ends the run');

    const again = await call('PUT', '/rooms/group/reborn-2/members/ed', { role: 'admin' });
    expect(again).toMatchObject({
      status: 200,
      body: { roomId, slug: 'reborn-2', alias: aliasOf('group', 'reborn-2') },
    });
    const view = await call('GET', '/rooms/group/reborn-2');
    expect(view.body).toMatchObject({ workflowStatus: 'RUNNING', slug: 'reborn-2', slugs: ['reborn', 'reborn-2'] });
    const run = await fx.api.temporal.workflow.getHandle(workflowId).describe();
    expect(run.status.name).toBe('RUNNING');
    expect(
      await eventually(async () => (await workflowIds('EntitySlugs = "reborn-2"')).join(), 30_000, 'reborn-2'),
    ).toBe(workflowId);
  }, 120_000);
});

describe('the relay routes and the socket', () => {
  let apiProcess: RunningProcess;
  let roomId: string;
  beforeAll(async () => {
    // A real API process on the stack's port: Synapse pushes there, and sockets need a server.
    apiProcess = await startApi(Number(stackEnv().API_PORT), fx.taskQueue);
    for (const u of ['alice', 'bob']) {
      const res = await call('PUT', `/rooms/group/chat-a/members/${u}`, {});
      roomId = res.body.roomId!;
    }
    expect((await call('POST', '/rooms/group/chat-a/rename', { newSlug: 'chat-b' })).status).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await apiProcess?.stop();
  });

  it('messages, typing, receipts and history by the old slug answer 409 with the new one; by the new one they work', async () => {
    const message = { txnId: randomUUID(), body: 'after the rename', userSlug: 'alice' };
    expect(await call('POST', '/rooms/group/chat-a/messages', message)).toEqual(renamed('chat-b'));
    const sent = await call('POST', '/rooms/group/chat-b/messages', message);
    expect(sent).toMatchObject({ status: 200, body: { status: 'sent', roomId } });
    const eventId = sent.body.eventId as string;

    expect(await call('PUT', '/rooms/group/chat-a/typing', { typing: true, userSlug: 'bob' })).toEqual(
      renamed('chat-b'),
    );
    expect((await call('PUT', '/rooms/group/chat-b/typing', { typing: true, userSlug: 'bob' })).status).toBe(202);
    expect(await call('POST', '/rooms/group/chat-a/receipts', { eventId, userSlug: 'bob' })).toEqual(renamed('chat-b'));
    expect((await call('POST', '/rooms/group/chat-b/receipts', { eventId, userSlug: 'bob' })).status).toBe(202);

    expect(await call('GET', '/rooms/group/chat-a/messages?userSlug=bob')).toEqual(renamed('chat-b'));
    const history = await call('GET', '/rooms/group/chat-b/messages?userSlug=bob');
    expect(history.status).toBe(200);
    expect((history.body.events as { event_id: string }[]).map((e) => e.event_id)).toContain(eventId);
  }, 120_000);

  it("the socket's room frames by the old slug get an error frame naming the new one; its events carry the new slug", async () => {
    const url = `http://127.0.0.1:${stackEnv().API_PORT}`;
    const socket = await RelayClient.connect(url, await userToken(config, tenant, 'alice'));
    try {
      await socket.waitFor((f) => f.type === 'live');
      socket.send({ type: 'send', id: 'old', kind: 'group', slug: 'chat-a', txnId: randomUUID(), body: 'old slug' });
      const refused = await socket.waitFor((f) => f.type === 'error' && f.id === 'old');
      expect(refused).toMatchObject({ errcode: 'OM_ROOM_RENAMED', newSlug: 'chat-b' });
      socket.send({ type: 'typing', id: 'typing-old', kind: 'group', slug: 'chat-a', typing: true });
      expect(await socket.waitFor((f) => f.type === 'error' && f.id === 'typing-old')).toMatchObject({
        errcode: 'OM_ROOM_RENAMED',
        newSlug: 'chat-b',
      });

      socket.send({ type: 'send', id: 'new', kind: 'group', slug: 'chat-b', txnId: randomUUID(), body: 'new slug' });
      const sent = await socket.waitFor((f) => f.type === 'sent' && f.id === 'new');
      const event = await socket.waitFor((f) => f.type === 'event' && f.event?.event_id === sent.eventId);
      expect(event.room).toEqual({ id: roomId, kind: 'group', slug: 'chat-b' });
    } finally {
      await socket.close();
    }
  }, 120_000);
});
