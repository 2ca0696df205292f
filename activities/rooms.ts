import { roomContext, type RoomActivityDeps } from './rooms/context.js';
import { createMemberActivities } from './rooms/members.js';
import { syncLevels } from './rooms/power-levels.js';
import { createRoomLevelActivities } from './rooms/room.js';
import { syncAliases } from './rooms/aliases.js';
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
  return {
    ...createRoomLevelActivities(ctx),
    ...createMemberActivities(ctx),
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
  };
}

export type RoomActivities = ReturnType<typeof createRoomActivities>;
