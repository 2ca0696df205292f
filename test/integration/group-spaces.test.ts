/**
 * Group spaces on the real stack (issue #20 part 1, decision 0051): a group's space with its event
 * rooms as children, read back from Synapse (its /hierarchy and the rooms' state); an event moved
 * to another group moves in the hierarchy; restricted joins let a member of the group in, from their
 * own client, and keep everyone else out.
 *
 * Runs in both identity modes (jest.appservice.config.js): the users join as themselves.
 */
import { describe, expect, it } from '@jest/globals';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { DEFAULT_POWER_LEVELS } from '../../vocabulary/roles.js';
import { asPlatformUser, botView, joinAs } from '../helpers/matrix.js';
import { eventually } from '../helpers/env.js';
import { roomEnsurer, tenantCaller } from '../helpers/tenant-call.js';
import { serviceFixture } from '../helpers/fixture.js';

const fx = serviceFixture('group-spaces', { API_WAIT_MS: '60000' }, 'spaces');
const { config, tenant } = fx;
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
const bot = botView(config);
const e = encodeURIComponent;

const call = tenantCaller(fx);

const ensure = roomEnsurer(call);

const asBot = <T>(method: 'GET', path: string): Promise<T> =>
  matrixRequest<T>(config.matrix.homeserverUrl, { method, path, token: config.matrix.asToken });

/** The space's children as Synapse's /hierarchy lists them (one level), and the space's own room type. */
async function hierarchy(spaceId: string): Promise<{ type: string | undefined; children: string[] }> {
  const res = await asBot<{ rooms: { room_id: string; room_type?: string; children_state: { state_key: string }[] }[] }>(
    'GET',
    `/_matrix/client/v1/rooms/${e(spaceId)}/hierarchy?max_depth=1`,
  );
  const space = res.rooms.find((r) => r.room_id === spaceId)!;
  return { type: space.room_type, children: space.children_state.map((c) => c.state_key).sort() };
}

/** The room's `m.space.parent` links that are set (an emptied one is a removed link). */
async function parents(roomId: string): Promise<Record<string, unknown>> {
  const state = await asBot<{ type: string; state_key: string; content: Record<string, unknown> }[]>(
    'GET',
    `/_matrix/client/v3/rooms/${e(roomId)}/state`,
  );
  return Object.fromEntries(
    state.filter((s) => s.type === 'm.space.parent' && Object.keys(s.content).length).map((s) => [s.state_key, s.content]),
  );
}

async function spaceOf(group: string): Promise<string> {
  const view = await call('GET', `/rooms/group/${group}`);
  const spaceId = (view.body.hierarchy as { spaceId: string | null }).spaceId;
  expect(spaceId).toMatch(/^!/);
  return spaceId!;
}

describe('group spaces', () => {
  const events: Record<string, string> = {};
  let hikersRoom = '';

  it('a group with three events has its space on the homeserver, with the group room and the three event rooms as children', async () => {
    expect(await call('PUT', '/settings/spaces', { eventRooms: 'group-members' })).toMatchObject({ status: 200 });
    // One event is announced before its group exists: the group's own pass links it.
    events.e1 = await ensure('event', 'walk-1', { name: 'Walk 1', groupSlug: 'hikers' });
    hikersRoom = await ensure('group', 'hikers', { name: 'Hikers' });
    for (const slug of ['alice', 'bob']) expect(await call('PUT', `/rooms/group/hikers/members/${slug}`, { role: slug === 'bob' ? 'owner' : 'member' })).toMatchObject({ status: 200 });
    events.e2 = await ensure('event', 'walk-2', { name: 'Walk 2', groupSlug: 'hikers' });
    events.e3 = await ensure('event', 'walk-3', { name: 'Walk 3', groupSlug: 'hikers' });

    const spaceId = await spaceOf('hikers');
    const h = await hierarchy(spaceId);
    expect(h.type).toBe('m.space');
    expect(h.children).toEqual([hikersRoom, events.e1, events.e2, events.e3].sort());
    for (const roomId of Object.values(events)) expect(Object.keys(await parents(roomId))).toEqual([spaceId]);
    expect((await parents(events.e2!))[spaceId]).toMatchObject({ canonical: true, via: ['localhost'] });

    // The group's members are the space's, at their roles' levels (a member change's space step follows its answer).
    await eventually(async () => (await bot.joined(spaceId)).includes(uid('bob')), 30_000, 'bob in the space');
    expect(await bot.joined(spaceId)).toEqual(expect.arrayContaining([uid('alice'), uid('bob')]));
    await eventually(async () => (await bot.powerLevels(spaceId))[uid('bob')] === DEFAULT_POWER_LEVELS.group.owner, 30_000, "bob's level in the space");

    // The room state shows the hierarchy: the group's children, each event's parent.
    const group = await call('GET', '/rooms/group/hikers');
    expect((group.body.hierarchy as { children: { roomId: string }[] }).children.map((c) => c.roomId).sort()).toEqual(
      Object.values(events).sort(),
    );
    expect(group.body.space).toMatchObject({ spaceId });
    const event = await call('GET', '/rooms/event/walk-2');
    expect(event.body.hierarchy).toMatchObject({ group: 'hikers', spaceId });
    expect(event.body).toMatchObject({ group: 'hikers', space: { parent: spaceId, joinRule: 'restricted' } });
  });

  it('an event moved to another group moves in the hierarchy; one taken out of its group has no parent', async () => {
    await ensure('group', 'climbers', { name: 'Climbers' });
    const hikers = await spaceOf('hikers');
    const climbers = await spaceOf('climbers');
    await ensure('event', 'walk-3', { groupSlug: 'climbers' });
    expect((await hierarchy(hikers)).children).not.toContain(events.e3);
    expect((await hierarchy(climbers)).children).toContain(events.e3);
    expect(Object.keys(await parents(events.e3!))).toEqual([climbers]);
    expect((await call('GET', '/rooms/event/walk-3')).body.hierarchy).toMatchObject({ group: 'climbers', spaceId: climbers });

    await ensure('event', 'walk-3', { groupSlug: null });
    expect((await hierarchy(climbers)).children).not.toContain(events.e3);
    expect(await parents(events.e3!)).toEqual({});
  });

  it('an archived event room leaves the space; reopened, it is a child again', async () => {
    const hikers = await spaceOf('hikers');
    expect(await call('DELETE', '/rooms/event/walk-2')).toMatchObject({ status: 200 });
    expect((await hierarchy(hikers)).children).not.toContain(events.e2);
    expect(await parents(events.e2!)).toEqual({});
    // Closed to joining: a member of the group no longer gets in by the restricted rule.
    const alice = await asPlatformUser(config, fx.db, tenant, 'alice');
    expect(await joinAs(config, alice, events.e2!)).toMatchObject({ status: 403 });
    // The group's next pass (a member change) does not bring a closed room back.
    expect(await call('PUT', '/rooms/group/hikers/members/dora', { role: 'member' })).toMatchObject({ status: 200 });
    expect(await call('POST', '/rooms/group/hikers/reconcile')).toMatchObject({ status: 200 });
    expect((await hierarchy(hikers)).children).not.toContain(events.e2);

    expect(await call('POST', '/rooms/event/walk-2/unarchive')).toMatchObject({ status: 200 });
    expect((await hierarchy(hikers)).children).toContain(events.e2);
    expect(Object.keys(await parents(events.e2!))).toEqual([hikers]);
    expect(await joinAs(config, alice, events.e2!)).toEqual({ status: 200 });
  });

  it("restricted joins: a member of the group joins an event room from their own client; someone else is refused by Synapse", async () => {
    const alice = await asPlatformUser(config, fx.db, tenant, 'alice');
    expect(await joinAs(config, alice, events.e1!)).toEqual({ status: 200 });
    expect(await bot.joined(events.e1!)).toContain(uid('alice'));

    // Carol has an account, and is in no group.
    expect((await fx.api.post(`/v1/tenants/${tenant}/users`, { slug: 'carol', displayName: 'Carol' })).status).toBe(200);
    const carol = await asPlatformUser(config, fx.db, tenant, 'carol');
    expect(await joinAs(config, carol, events.e2!)).toMatchObject({ status: 403 });
    expect(await bot.joined(events.e2!)).not.toContain(uid('carol'));
  });

  it('refuses a group for a group and a malformed group slug, with 400s naming the field', async () => {
    expect(await call('PUT', '/rooms/group/hikers', { groupSlug: 'climbers' })).toMatchObject({
      status: 400,
      body: { errcode: 'M_INVALID_PARAM', error: expect.stringContaining('groupSlug') },
    });
    expect(await call('PUT', '/rooms/event/walk-1', { groupSlug: 'no spaces' })).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    expect(await call('PUT', '/settings/spaces', { eventRooms: 'anyone' })).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
  });
});
