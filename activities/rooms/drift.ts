/**
 * The drift report (decision 0059): what differs between a room's desired state and the
 * homeserver right now, by the very comparisons reconciliation repairs by (the members it would
 * bring back or remove, `plannedLevels`, `nameAndTopicDrift`), read only: nothing is written.
 */
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { Membership } from '../../adapters/matrix/client.js';
import type { RoomRecord } from '../../adapters/store/rooms.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import type { ReadContext } from './context.js';
import { plannedLevels } from './power-levels.js';
import { undesiredMembers } from './prune.js';
import { nameAndTopicDrift, type SettingDrift } from './settings.js';

export interface RoomDrift {
  kind: RoomRef['kind'];
  slug: string;
  roomId: string | null;
  /**
   * `missing`: no room, or the bot cannot reach it (reconciliation cannot fix that); `archived`: not
   * compared; `unknown`: the homeserver could not be read (`error`).
   */
  state: 'in_sync' | 'drift' | 'missing' | 'archived' | 'unknown';
  /** Why the room is missing. */
  missing?: string;
  error?: string;
  /** Desired members the room does not have (not joined; invited only for someone the service cannot act as). */
  membersMissing: { userSlug: string; userId: string; membership: Membership | null }[];
  /** People in the room (joined or invited) reconciliation would remove. */
  membersExtra: { userId: string; membership: Membership | null }[];
  /** Power-level entries reconciliation would write, as its actions read (`power level @u 0→50`). */
  powerLevels: string[];
  settings: SettingDrift[];
  /** The join rule the room's visibility gives, when it differs (reported; reconciliation leaves it). */
  joinRule?: { want: string; have: string | null };
}

/**
 * Of these desired members (slug → Matrix id), those the room does not have given its memberships:
 * not joined, or — for someone the service cannot act as — neither joined nor invited.
 */
export function absentMembers(ctx: ReadContext, ids: Map<string, string>, all: Record<string, Membership>): string[] {
  return [...ids].filter(([, id]) => {
    const m = all[id];
    return !(m === 'join' || (m === 'invite' && !ctx.deps.identity.canActAs(id)));
  }).map(([slug]) => slug);
}

const empty = (record: RoomRecord, state: RoomDrift['state'], missing?: string): RoomDrift => ({
  kind: record.kind,
  slug: record.slug,
  roomId: record.roomId,
  state,
  ...(missing ? { missing } : {}),
  membersMissing: [],
  membersExtra: [],
  powerLevels: [],
  settings: [],
});

/** A room whose comparison failed: the reason, nothing compared. */
export const driftUnknown = (record: RoomRecord, error: string): RoomDrift => ({ ...empty(record, 'unknown'), error });

/** One room's drift, read as the bot. Throws what the homeserver throws (the caller reports it). */
export async function roomDrift(ctx: ReadContext, record: RoomRecord): Promise<RoomDrift> {
  const { bot } = ctx.deps;
  if (record.status === 'archived') return empty(record, 'archived');
  const roomId = record.roomId;
  if (!roomId) return empty(record, 'missing', 'no Matrix room recorded yet');
  if (!(await matrixCall(() => bot.roomIsReachable(roomId))))
    return empty(record, 'missing', `room ${roomId} is gone from the homeserver, or the bot is no longer in it`);
  const ref: RoomRef = { tenant: record.tenant, kind: record.kind, slug: record.slug };
  const members = record.members;
  const [ids, all, extra, levels, current, joinRule] = await Promise.all([
    ctx.userIds(ref.tenant, Object.keys(members)),
    matrixCall(() => bot.memberships(roomId)),
    undesiredMembers(ctx, { ref, roomId, members }),
    plannedLevels(ctx, { ref, roomId, members }),
    matrixCall(() => bot.roomSettings(roomId)),
    matrixCall(() => bot.joinRule(roomId)),
  ]);
  const drift = empty(record, 'in_sync');
  drift.membersMissing = absentMembers(ctx, ids, all).map((userSlug) => {
    const userId = ids.get(userSlug)!;
    return { userSlug, userId, membership: all[userId] ?? null };
  });
  drift.membersExtra = extra.map((userId) => ({ userId, membership: all[userId] ?? null }));
  drift.powerLevels = [...Object.values(levels.changes.bySlug).flat(), ...levels.changes.other];
  drift.settings = nameAndTopicDrift(record.settings, current);
  const want = record.settings.visibility === 'public' ? 'public' : 'invite';
  if (joinRule !== want && !record.adopted) drift.joinRule = { want, have: joinRule };
  const any =
    drift.membersMissing.length + drift.membersExtra.length + drift.powerLevels.length + drift.settings.length > 0 ||
    drift.joinRule !== undefined;
  drift.state = any ? 'drift' : 'in_sync';
  return drift;
}
