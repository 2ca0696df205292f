/**
 * Group spaces (decision 0051): a group's Matrix space beside its room, with the group's members
 * at their roles' levels and the group's room and its events' rooms as children; an event room
 * linked to its group's space (and unlinked from a former group's), its join rule set for the
 * tenant; the group's bans in every one of these rooms.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import { spaceAliasLocalpart, type SpaceView } from '../../vocabulary/spaces.js';
import { joinAsUser } from '../../adapters/matrix/client.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import { prepare, removeMember } from './member-prepare.js';
import { syncLevels } from './power-levels.js';
import { applyBans, eventJoinRule, linkChild, unlinkOthers } from './space-links.js';
import type { RoomContext } from './context.js';
import { oneAtATime } from '../../lib/one-at-a-time.js';

/** Members brought into a space at once. */
const PARALLEL = 8;

/** What a space step did, and where the room stands now. */
export interface SpaceSync {
  view: SpaceView;
  /** The event's group (entity slug) as recorded; a group's own slug for a group. */
  group: string | null;
  /** User slugs the group bans now: out of the desired members while the ban holds. */
  bans: string[];
  actions: string[];
}

export interface GroupSpaceInput {
  ref: RoomRef;
  roomId: string;
  name?: string;
  members: Record<string, string>;
  /**
   * Only these members changed (a member batch): only they are looked at in the space. Absent
   * (the space's first pass, reconciliation): every member, and managed people who are none removed.
   */
  touched?: string[];
}

export interface EventGroupInput {
  ref: RoomRef;
  roomId: string;
  /** The group the platform named (any slug it has had), null for none; undefined: as recorded. */
  group?: string | null;
  visibility: 'public' | 'private';
}

/** The group's space: the recorded one (which must still be there), else the one behind its alias, else a new one. */
async function ensureSpace(ctx: RoomContext, ref: RoomRef, name: string, actions: string[]): Promise<string> {
  const { bot, spaces, spaceStore, userPrefix, serverName } = ctx.deps;
  const stored = await spaceStore.spaceOf(ref.tenant, ref.slug);
  if (stored) {
    if (await matrixCall(() => bot.roomIsReachable(stored))) return stored;
    throw ApplicationFailure.create({
      type: FailureType.RoomMissing,
      message: `the space ${stored} of group ${ref.slug} is gone from the homeserver (or the bot was removed)`,
      nonRetryable: true,
    });
  }
  const aliasLocalpart = spaceAliasLocalpart(userPrefix, ref.tenant, ref.slug);
  const alias = `#${aliasLocalpart}:${serverName}`;
  let spaceId = await matrixCall(() => bot.resolveAlias(alias));
  if (!spaceId) {
    try {
      spaceId = await matrixCall(() => spaces.createSpace({ aliasLocalpart, name }));
      actions.push(`created space ${spaceId} as ${alias}`);
    } catch (err) {
      // Created by a concurrent attempt between the look and now: the alias decides.
      if ((err as ApplicationFailure).type !== FailureType.RoomInUse) throw err;
      spaceId = await matrixCall(() => bot.resolveAlias(alias));
      if (!spaceId) throw err;
    }
  }
  await spaceStore.setSpace(ref.tenant, ref.slug, spaceId);
  return spaceId;
}

/** The space's members are the group's desired members (the banned left out); managed others are removed. */
async function spaceMembers(
  ctx: RoomContext,
  ref: RoomRef,
  spaceId: string,
  members: Record<string, string>,
  touched: string[] | undefined,
  actions: string[],
): Promise<void> {
  const { bot, identity, homeserverUrl } = ctx.deps;
  if (touched) {
    const leaving = touched.filter((s) => !(s in members));
    for (const [, userId] of await ctx.userIds(ref.tenant, leaving)) actions.push(...(await removeMember(ctx, spaceId, userId)));
  }
  const ids = await ctx.userIds(ref.tenant, Object.keys(members));
  const wanted = new Set(ids.values());
  const joining = touched?.filter((s) => s in members) ?? Object.keys(members);
  // As the member pass does (decision 0039): reads overlap, membership writes go one at a time.
  const write = oneAtATime();
  for (let i = 0; i < joining.length; i += PARALLEL) {
    await Promise.all(
      joining.slice(i, i + PARALLEL).map(async (userSlug) => {
        const prepared = await prepare(ctx, ref, spaceId, { userSlug, to: 'join' }, true, true, actions, { write });
        if (prepared.joined) return;
        await identity.actAs({ tenant: ref.tenant, slug: userSlug }, (as) => write(() => joinAsUser(homeserverUrl, as, spaceId)));
        actions.push(`${prepared.userId} joined space ${spaceId}`);
      }),
    );
  }
  if (touched) return;
  for (const [userId, m] of Object.entries(await matrixCall(() => bot.memberships(spaceId)))) {
    if ((m === 'join' || m === 'invite') && ctx.isManaged(ref.tenant, userId) && !wanted.has(userId))
      actions.push(...(await removeMember(ctx, spaceId, userId)));
  }
}

/**
 * A group's space in line: the space itself, its bans, its members and their levels, and its
 * children (the group's room, and each of its events' rooms with their join rule).
 */
export async function syncGroupSpace(ctx: RoomContext, input: GroupSpaceInput): Promise<SpaceSync> {
  const { ref, roomId } = input;
  const { spaceStore } = ctx.deps;
  const actions: string[] = [];
  const spaceId = await ensureSpace(ctx, ref, input.name ?? ref.slug, actions);
  const bans = await spaceStore.bansOf(ref.tenant, ref.slug);
  const banned = bans.filter((b) => !b.lifted).map((b) => b.userSlug);
  await applyBans(ctx, ref.tenant, spaceId, bans, actions);
  await applyBans(ctx, ref.tenant, roomId, bans, actions);
  const members = Object.fromEntries(Object.entries(input.members).filter(([s]) => !banned.includes(s)));
  // A ban the group's room never heard of (the API died before telling it): its desired members follow now.
  const stale = banned.filter((s) => s in input.members);
  if (stale.length) await ctx.deps.rooms.applyMembers(ref.tenant, ref.kind, ref.slug, {}, stale);
  await spaceMembers(ctx, ref, spaceId, members, input.touched, actions);
  const levels = await syncLevels(ctx, { ref, roomId: spaceId, members });
  actions.push(...Object.values(levels.bySlug).flat(), ...levels.other);
  await linkChild(ctx, spaceId, roomId, actions);
  const children: SpaceView['children'] = [{ kind: 'group', slug: ref.slug, roomId }];
  const join = await spaceStore.eventRoomJoin(ref.tenant);
  for (const e of await spaceStore.eventsOf(ref.tenant, ref.slug)) {
    if (!e.roomId || e.status !== 'active') continue;
    await unlinkOthers(ctx, e.roomId, spaceId, actions);
    await linkChild(ctx, spaceId, e.roomId, actions);
    await eventJoinRule(ctx, e.roomId, spaceId, join, e.visibility, actions);
    children.push({ kind: 'event', slug: e.slug, roomId: e.roomId });
  }
  return { view: { spaceId, parent: null, children }, group: ref.slug, bans: banned, actions };
}

/**
 * An event room where its group says: recorded with its group, linked to the group's space (when
 * the group has one yet; the group's own pass links it otherwise) and unlinked from any other,
 * its join rule set for the tenant, the group's bans applied and the banned out of its desired members.
 */
export async function syncEventGroup(ctx: RoomContext, input: EventGroupInput): Promise<SpaceSync> {
  const { ref, roomId } = input;
  const { spaceStore, slugs, rooms } = ctx.deps;
  const actions: string[] = [];
  let group: string | null;
  const recorded = await spaceStore.groupOf(ref.tenant, ref.slug);
  if (input.group === undefined) group = recorded;
  else {
    // Named by any slug the group has had: recorded as the group's entity (its first slug).
    group = input.group === null ? null : ((await slugs.find(ref.tenant, 'group', input.group))?.entity ?? input.group);
  }
  const bans = group ? await spaceStore.bansOf(ref.tenant, group) : [];
  if (recorded && recorded !== group) {
    // The former group's bans end here (those of the new group stay), before the move is recorded:
    // a retry of this activity finds the former group still recorded until they are lifted.
    const still = new Set(bans.filter((b) => !b.lifted).map((b) => b.userSlug));
    const former = (await spaceStore.bansOf(ref.tenant, recorded)).filter((b) => !b.lifted && !still.has(b.userSlug));
    await applyBans(ctx, ref.tenant, roomId, former.map((b) => ({ ...b, lifted: true })), actions);
  }
  if (group !== recorded) await spaceStore.setGroup(ref.tenant, ref.slug, group);
  const spaceId = group ? await spaceStore.spaceOf(ref.tenant, group) : null;
  await unlinkOthers(ctx, roomId, spaceId, actions);
  if (spaceId) await linkChild(ctx, spaceId, roomId, actions);
  const join = await spaceStore.eventRoomJoin(ref.tenant);
  const joinRule = await eventJoinRule(ctx, roomId, spaceId, join, input.visibility, actions);
  await applyBans(ctx, ref.tenant, roomId, bans, actions);
  const banned = bans.filter((b) => !b.lifted).map((b) => b.userSlug);
  if (banned.length) await rooms.applyMembers(ref.tenant, ref.kind, ref.slug, {}, banned);
  return { view: { spaceId, parent: spaceId, children: [], joinRule }, group, bans: banned, actions };
}

/** The room activities of spaces and bans. */
export function createSpaceActivities(ctx: RoomContext) {
  return {
    syncGroupSpace: (input: GroupSpaceInput): Promise<SpaceSync> => syncGroupSpace(ctx, input),
    syncEventGroup: (input: EventGroupInput): Promise<SpaceSync> => syncEventGroup(ctx, input),
  };
}
