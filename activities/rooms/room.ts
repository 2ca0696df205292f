import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import { roomAliasLocalpart } from '../../vocabulary/ids.js';
import type { RoomAdoption, RoomChangeResult, RoomRef, RoomSettings } from '../../vocabulary/contract.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import { adoptRoom } from './adopt.js';
import { loadRoom } from './aliases.js';
import { reachableOrFail, type RoomContext } from './context.js';
import { applyNameAndTopic } from './settings.js';
import { applyKnock } from './join-rule.js';
import { unlinkOthers } from './space-links.js';
import { closeJoinRules } from './archive-join-rules.js';
import { ROOM_ARCHIVED_REASON } from '../../vocabulary/join-requests.js';
import type { EnsureRoomResult } from './types.js';

/**
 * How long a room behind our alias must stay unusable before it is taken for a husk and its alias
 * released. A creation still under way (an earlier attempt whose createRoom answer was lost, while
 * Synapse carried on) finishes well within it and is adopted, not replaced by a second room.
 */
export const HUSK_AFTER_MS = 30_000;
const HUSK_POLL_MS = 1_000;

/** Whether a room stays unreachable or incomplete for HUSK_AFTER_MS (a creation under way ends sooner). */
async function staysUnusable(ctx: RoomContext, roomId: string): Promise<boolean> {
  const { bot } = ctx.deps;
  const deadline = Date.now() + HUSK_AFTER_MS;
  for (;;) {
    if ((await matrixCall(() => bot.roomIsReachable(roomId))) && (await matrixCall(() => bot.roomIsComplete(roomId))))
      return false;
    if (Date.now() >= deadline) return true;
    await new Promise((resolve) => setTimeout(resolve, HUSK_POLL_MS));
  }
}

/** A new room behind the alias; when someone created it between our lookup and now, theirs (the alias decides). */
async function createOrAdopt(
  ctx: RoomContext,
  ref: RoomRef,
  settings: RoomSettings,
  alias: string,
  actions: string[],
): Promise<string> {
  const { bot, userPrefix } = ctx.deps;
  try {
    const roomId = await matrixCall(() =>
      bot.createRoom({
        aliasLocalpart: roomAliasLocalpart(userPrefix, ref.tenant, ref.kind, ref.slug),
        name: settings.name,
        topic: settings.topic,
        visibility: settings.visibility ?? 'private',
        encrypted: ref.kind === 'dm' && settings.encrypted === true,
        isDirect: ref.kind === 'dm',
        knock: settings.knock === true,
      }),
    );
    actions.push(`created ${roomId} as ${alias}`);
    return roomId;
  } catch (err) {
    if ((err as ApplicationFailure).type !== FailureType.RoomInUse) throw err;
    const roomId = await matrixCall(() => bot.resolveAlias(alias));
    if (!roomId) throw err;
    actions.push(`adopted ${roomId} behind ${alias}`);
    return roomId;
  }
}

/** What ensureRoom is asked: the entity, its settings, and an existing room to take over. */
export interface EnsureRoomInput {
  ref: RoomRef;
  settings: RoomSettings;
  dmUsers?: string[];
  adopt?: RoomAdoption;
}

/**
 * Makes sure the Matrix room exists: the stored room if there is one (and it must still be
 * there), else the room to adopt when one is named, else the room behind the deterministic alias,
 * else a new room with that alias.
 */
export async function ensureRoom(ctx: RoomContext, input: EnsureRoomInput): Promise<EnsureRoomResult> {
  const { ref, settings } = input;
  const { bot, rooms, gateway } = ctx.deps;
  const alias = ctx.aliasOf(ref);
  const stored = await rooms.get(ref.tenant, ref.kind, ref.slug);
  if (input.adopt) return adoptRoom(ctx, ref, settings, input.adopt, stored);
  await rooms.upsert({ ...ref, alias, settings });
  if (stored?.roomId) {
    await reachableOrFail(ctx, ref, stored.roomId);
    // The stored alias: after a rename it is the current slug's (activities/rooms/aliases.ts).
    return { roomId: stored.roomId, alias: stored.alias, actions: [] };
  }
  let roomId = await matrixCall(() => bot.resolveAlias(alias));
  const actions: string[] = [];
  const husk = roomId;
  if (husk && (await staysUnusable(ctx, husk))) {
    // Never recorded as ours, and unusable: the husk of a creation the homeserver died in the
    // middle of (Synapse stores the room and its alias first, then the room's initial events one
    // by one; found by test/faults/synapse-kill). Nothing was in it; free the alias, create anew.
    await matrixCall(() => bot.deleteAlias(alias));
    actions.push(`released ${alias} from unusable ${husk}`);
    roomId = null;
  }
  if (roomId) actions.push(`adopted ${roomId} behind ${alias}`);
  else roomId = await createOrAdopt(ctx, ref, settings, alias, actions);
  await rooms.setRoomId(ref.tenant, ref.kind, ref.slug, roomId);
  await gateway.ensureSchedule(ref.tenant);
  return { roomId, alias, actions };
}

/** Brings name and topic on Matrix in line with the settings. */
async function applyRoomSettings(
  ctx: RoomContext,
  input: { roomId: string; settings: RoomSettings },
): Promise<string[]> {
  const { roomId, settings } = input;
  const { bot } = ctx.deps;
  const current = await matrixCall(() => bot.roomSettings(roomId));
  return [...(await applyNameAndTopic(ctx, roomId, settings, current)), ...(await applyKnock(ctx, roomId, settings))];
}

/**
 * Archive: the room closed to joining, everyone but the bot out, pending knocks rejected and their
 * requests refused, the room marked archived, and purged if configured.
 */
async function archiveRoom(ctx: RoomContext, input: { ref: RoomRef; roomId: string }): Promise<string[]> {
  const { ref, roomId } = input;
  const { bot, rooms, admin, purgeOnArchive, joinRequests } = ctx.deps;
  const actions: string[] = [];
  // Out of its group's space first (decision 0051): a space does not list a closed room. A reopen
  // is a reconciliation, whose space step links it again.
  if (ref.kind !== 'dm') await unlinkOthers(ctx, roomId, null, actions);
  // Closed before it is emptied: nobody joins, or knocks, again meanwhile.
  await closeJoinRules(ctx, ref, roomId, actions);
  const all = await matrixCall(() => bot.memberships(roomId));
  for (const [id, m] of Object.entries(all)) {
    if (id === bot.userId || (m !== 'join' && m !== 'invite' && m !== 'knock')) continue;
    // A knock kicked is a knock rejected (decision 0055): its request is refused below.
    await matrixCall(() => bot.kick(roomId, id, ROOM_ARCHIVED_REASON));
    actions.push(`${m === 'knock' ? 'refused the knock of' : 'removed'} ${id}`);
  }
  const refused = (await joinRequests?.refusePending(ref, ROOM_ARCHIVED_REASON)) ?? 0;
  if (refused) actions.push(`refused ${refused} pending join request${refused === 1 ? '' : 's'}`);
  await rooms.archive(ref.tenant, ref.kind, ref.slug);
  actions.push('archived');
  // No Admin API in appservice mode, where lib/config.ts refuses ROOM_PURGE_ON_ARCHIVE at start.
  if (purgeOnArchive && admin) {
    await matrixCall(() => admin.deleteRoom(roomId));
    actions.push('purged');
  }
  return actions;
}

/** The room activities proper: the room itself, its settings, archiving, and the tenant's list for reconciliation. */
export function createRoomLevelActivities(ctx: RoomContext) {
  const { rooms, gateway } = ctx.deps;
  return {
    /** The room's record and desired membership as stored (and its slugs, once renamed), or null for a new entity. */
    loadRoom: async (ref: RoomRef) => {
      const stored = await loadRoom(ctx, ref);
      if (!stored || ref.kind === 'dm') return stored;
      // The event's group and the group's bans (decision 0051): a new run refuses the banned from its first batch.
      const { spaceStore } = ctx.deps;
      const group = ref.kind === 'group' ? ref.slug : await spaceStore.groupOf(ref.tenant, ref.slug);
      const bans = group ? (await spaceStore.bansOf(ref.tenant, group)).filter((b) => !b.lifted).map((b) => b.userSlug) : [];
      return { ...stored, ...(ref.kind === 'event' && group ? { group } : {}), ...(bans.length ? { bans } : {}) };
    },
    ensureRoom: (input: EnsureRoomInput): Promise<EnsureRoomResult> => ensureRoom(ctx, input),
    applyRoomSettings: (input: { roomId: string; settings: RoomSettings }): Promise<string[]> =>
      applyRoomSettings(ctx, input),
    archiveRoom: (input: { ref: RoomRef; roomId: string }): Promise<string[]> => archiveRoom(ctx, input),
    listActiveRooms: async (tenant: string): Promise<RoomRef[]> =>
      (await rooms.listActive(tenant)).map((r) => ({ tenant, ...r })),
    reconcileRoom: (ref: RoomRef): Promise<RoomChangeResult> => gateway.reconcileRoom(ref),
    recordReconcileRun: async (input: {
      tenant: string;
      startedAt: string;
      rooms: number;
      fixes: unknown;
    }): Promise<void> => rooms.recordReconcile(input.tenant, new Date(input.startedAt), input.rooms, input.fixes),
  };
}
