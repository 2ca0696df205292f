import { roomContext, type RoomActivityDeps } from './rooms/context.js';
import { createMemberActivities } from './rooms/members.js';
import { syncLevels } from './rooms/power-levels.js';
import { createRoomLevelActivities } from './rooms/room.js';
import { syncAliases } from './rooms/aliases.js';
import { createJoinRequestActivities } from './rooms/join-requests.js';
import { createEventTimeActivities } from './rooms/event-time.js';
import type { EventSchedule } from '../vocabulary/event-time.js';
import { createSpaceActivities } from './rooms/spaces.js';
import type { RoomRef } from '../vocabulary/contract.js';
import type { AliasSync, PowerLevelChanges, PowerLevelsInput } from './rooms/types.js';

export type { RoomActivityDeps } from './rooms/context.js';
export { HUSK_AFTER_MS } from './rooms/room.js';
export type * from './rooms/types.js';
export type { SpaceSync } from './rooms/spaces.js';

/**
 * Room activities, by concern: the room itself (rooms/room.ts), its members (rooms/members.ts) and
 * its power levels (rooms/power-levels.ts). Every one reads the room's real state before changing
 * it, so running twice (activities run at least once) does no harm; Matrix answers that mean
 * "already so" are success.
 */
export function createRoomActivities(deps: RoomActivityDeps) {
  const ctx = roomContext(deps);
  const roomLevel = createRoomLevelActivities(ctx);
  return {
    ...roomLevel,
    ...createMemberActivities(ctx),
    ...createJoinRequestActivities(ctx),
    ...createEventTimeActivities(ctx),
    ...createSpaceActivities(ctx),
    /**
     * Read, merge, write, verify: the managed users' entries of `m.room.power_levels` become
     * exactly the levels their roles give; entries of anyone else are left as they are. Returns
     * what changed, by member slug (`removed` names slugs that just left, so they can be named too).
     */
    syncPowerLevels: (input: PowerLevelsInput): Promise<PowerLevelChanges> => syncLevels(ctx, input),
    /**
     * The room's aliases where the entity's slugs stand: the current one canonical, old ones kept
     * as alternatives until ROOM_OLD_ALIAS_KEEP_SECONDS have passed, then removed (decision 0031).
     */
    syncAliases: (input: { ref: RoomRef; roomId: string }): Promise<AliasSync> => syncAliases(ctx, input),
    /**
     * The room's record as stored (with its group and the group's bans, decision 0051), its running
     * mutes (slug → end, epoch ms; decision 0058) and, for an event, its time and timers (decision
     * 0053) when it has them.
     */
    loadRoom: async (
      ref: RoomRef,
    ): Promise<
      (NonNullable<Awaited<ReturnType<typeof roomLevel.loadRoom>>> & { mutes?: Record<string, number>; time?: EventSchedule }) | null
    > => {
      const stored = await roomLevel.loadRoom(ref);
      if (!stored) return null;
      const [mutes, time] = await Promise.all([
        deps.mutes.active(ref.tenant, ref.kind, ref.slug),
        ref.kind === 'event' && deps.eventTimes ? deps.eventTimes.get(ref) : null,
      ]);
      return { ...stored, ...(mutes.size ? { mutes: Object.fromEntries(mutes) } : {}), ...(time ? { time } : {}) };
    },
    /** Records mutes begun (slug → end and moderator) and ends others (slug → null); the levels are written after. */
    recordMutes: (input: { ref: RoomRef; mutes: Record<string, { until: number; actorSlug: string } | null> }): Promise<void> =>
      deps.mutes.apply(input.ref.tenant, input.ref.kind, input.ref.slug, input.mutes),
  };
}

export type RoomActivities = ReturnType<typeof createRoomActivities>;
