/**
 * Group bans on the real stack (issue #21 part 2, decision 0051): one call bans a user from the
 * group's space, its room and every event room of the group, and from an event room created later;
 * reconciliation leaves the ban alone; unban restores joining. Synapse's side is read as the bot,
 * and the user tries to join as themselves.
 *
 * Runs in both identity modes (jest.appservice.config.js).
 */
import { describe, expect, it } from '@jest/globals';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { MatrixHttpError } from '../../adapters/matrix/errors.js';
import { asPlatformUser, botView, joinAs } from '../helpers/matrix.js';
import { eventually } from '../helpers/env.js';
import { roomEnsurer, tenantCaller } from '../helpers/tenant-call.js';
import { serviceFixture } from '../helpers/fixture.js';

const fx = serviceFixture('group-bans', { API_WAIT_MS: '60000' }, 'bans');
const { config, tenant } = fx;
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
const bot = botView(config);
const e = encodeURIComponent;

const call = tenantCaller(fx);

const ensure = roomEnsurer(call);

/** The user's membership in the room as Synapse has it (read as the bot), or null. */
async function membership(roomId: string, slug: string): Promise<string | null> {
  try {
    const m = await matrixRequest<{ membership: string }>(config.matrix.homeserverUrl, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${e(roomId)}/state/m.room.member/${e(uid(slug))}`,
      token: config.matrix.asToken,
    });
    return m.membership;
  } catch (err) {
    if (err instanceof MatrixHttpError && err.status === 404) return null;
    throw err;
  }
}

describe('group bans', () => {
  it('bans from the space, the group room, every event room and one created later; reconciliation keeps it; unban restores joining', async () => {
    expect(await call('PUT', '/settings/spaces', { eventRooms: 'group-members' })).toMatchObject({ status: 200 });
    const groupRoom = await ensure('group', 'runners', { name: 'Runners' });
    for (const slug of ['dan', 'erin']) expect(await call('PUT', `/rooms/group/runners/members/${slug}`)).toMatchObject({ status: 200 });
    expect(await call('PUT', '/rooms/group/runners/members/fay', { role: 'moderator' })).toMatchObject({ status: 200 });
    const events = [
      await ensure('event', 'run-1', { groupSlug: 'runners' }),
      await ensure('event', 'run-2', { groupSlug: 'runners' }),
      await ensure('event', 'run-3', { groupSlug: 'runners' }),
    ];
    expect(await call('PUT', '/rooms/event/run-1/members/dan', { role: 'participant' })).toMatchObject({ status: 200 });
    const spaceId = ((await call('GET', '/rooms/group/runners')).body.hierarchy as { spaceId: string }).spaceId;
    expect(await membership(spaceId, 'dan')).toBe('join');
    expect(await membership(events[0]!, 'dan')).toBe('join');

    // A moderator named by the platform acts by the role the group gives them, not by a claim.
    const refusedBan = await call('PUT', '/groups/runners/bans/dan', { reason: 'spam', actorSlug: 'erin' });
    expect(refusedBan).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN', error: expect.stringMatching(/moderator/) } });
    expect(await membership(spaceId, 'dan')).toBe('join');
    const ban = await call('PUT', '/groups/runners/bans/dan', { reason: 'spam', actorSlug: 'fay' });
    expect(ban.status).toBe(200);
    const rooms = ban.body.rooms as { kind: string; slug: string; status: string; error?: string }[];
    // A failed room's error shows in the comparison.
    expect(rooms.map((r) => `${r.kind}/${r.slug}:${r.status}${r.error ? ` (${r.error})` : ''}`).sort()).toEqual(
      ['group/runners', 'event/run-1', 'event/run-2', 'event/run-3'].map((r) => `${r}:completed`).sort(),
    );
    for (const roomId of [spaceId, groupRoom, ...events]) expect(await membership(roomId, 'dan')).toBe('ban');
    expect(await membership(spaceId, 'erin')).toBe('join');
    expect((await call('GET', '/groups/runners/bans')).body).toEqual({ bans: [{ userSlug: 'dan', reason: 'spam' }] });
    const run1 = (await call('GET', '/rooms/event/run-1')).body;
    expect(run1.members).not.toHaveProperty('dan');
    expect(run1.bans).toEqual(['dan']);
    // Each room's part is in the audit trail (written just after the answers), with who asked.
    const bannedIn = async () =>
      ((await call('GET', '/audit?user=dan')).body.entries as { operation: string; outcome: string; room: { slug: string } }[])
        .filter((a) => a.operation === 'member.ban' && a.outcome === 'done')
        .map((a) => a.room.slug)
        .sort()
        .join(' ');
    await eventually(async () => (await bannedIn()) === 'run-1 run-2 run-3 runners', 30_000, 'the bans in the audit trail');

    // Reconciliation leaves the banned out, and adding them is refused while the ban holds.
    expect(await call('POST', '/rooms/event/run-1/reconcile')).toMatchObject({ status: 200 });
    expect(await call('POST', '/rooms/group/runners/reconcile')).toMatchObject({ status: 200 });
    expect(await membership(events[0]!, 'dan')).toBe('ban');
    expect(await membership(spaceId, 'dan')).toBe('ban');
    expect(await call('PUT', '/rooms/event/run-1/members/dan')).toMatchObject({ status: 409, body: { errcode: 'OM_USER_BANNED' } });

    // A fourth event room, created while the ban holds, refuses the user too: Synapse says banned.
    const run4 = await ensure('event', 'run-4', { groupSlug: 'runners' });
    expect(await membership(run4, 'dan')).toBe('ban');
    const dan = await asPlatformUser(config, fx.db, tenant, 'dan');
    const refused = await joinAs(config, dan, run4);
    expect(refused.status).toBe(403);
    expect(refused.error).toMatch(/banned/i);
    const erin = await asPlatformUser(config, fx.db, tenant, 'erin');
    expect(await joinAs(config, erin, run4)).toEqual({ status: 200 });

    // Unban: the bans come off; back in the group (the platform adds him again), he joins by himself.
    expect(await call('DELETE', '/groups/runners/bans/dan?actorSlug=erin')).toMatchObject({ status: 403 });
    const unban = await call('DELETE', '/groups/runners/bans/dan?actorSlug=fay');
    expect(unban).toMatchObject({ status: 200, body: { banned: false } });
    for (const roomId of [spaceId, groupRoom, ...events]) expect(await membership(roomId, 'dan')).toBe('leave');
    expect((await call('GET', '/groups/runners/bans')).body).toEqual({ bans: [] });
    expect(await call('PUT', '/rooms/group/runners/members/dan')).toMatchObject({ status: 200 });
    // A member change's space step follows its answer.
    await eventually(async () => (await membership(spaceId, 'dan')) === 'join', 30_000, 'dan back in the space');
    expect(await joinAs(config, dan, run4)).toEqual({ status: 200 });
    expect(await bot.joined(run4)).toContain(uid('dan'));
  });

  it("an event that leaves its group leaves that group's bans; the new group's stay", async () => {
    await ensure('group', 'walkers', { name: 'Walkers' });
    await ensure('group', 'striders', { name: 'Striders' });
    for (const slug of ['gus', 'hal']) expect(await call('PUT', `/rooms/group/walkers/members/${slug}`)).toMatchObject({ status: 200 });
    const walk = await ensure('event', 'walk-a', { groupSlug: 'walkers' });
    for (const slug of ['gus', 'hal']) expect(await call('PUT', `/groups/walkers/bans/${slug}`, { reason: 'rude' })).toMatchObject({ status: 200 });
    expect(await call('PUT', '/groups/striders/bans/hal', { reason: 'rude there too' })).toMatchObject({ status: 200 });
    expect([await membership(walk, 'gus'), await membership(walk, 'hal')]).toEqual(['ban', 'ban']);

    const moved = await call('PUT', '/rooms/event/walk-a', { groupSlug: 'striders' });
    expect(moved.status).toBe(200);
    expect([await membership(walk, 'gus'), await membership(walk, 'hal')]).toEqual(['leave', 'ban']);
    expect((await call('GET', '/rooms/event/walk-a')).body.bans).toEqual(['hal']);
    // Gus may be added again; hal is refused while striders bans him.
    expect(await call('PUT', '/rooms/event/walk-a/members/gus')).toMatchObject({ status: 200 });
    expect(await call('PUT', '/rooms/event/walk-a/members/hal')).toMatchObject({ status: 409, body: { errcode: 'OM_USER_BANNED' } });

    expect(await call('PUT', '/rooms/event/walk-a', { groupSlug: null })).toMatchObject({ status: 200 });
    expect(await membership(walk, 'hal')).toBe('leave');
    expect(await membership(walk, 'gus')).toBe('join');
  });

  it('answers 404 for a group without a room or a user not banned, 400 for a bad slug or reason', async () => {
    expect(await call('PUT', '/groups/nobody-here/bans/dan')).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
    expect(await call('DELETE', '/groups/runners/bans/zed')).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
    expect(await call('PUT', '/groups/runners/bans/no%20way')).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    expect(await call('PUT', '/groups/runners/bans/dan', { reason: 'x'.repeat(501) })).toMatchObject({ status: 400 });
  });
});
