import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../lib/failures.js';
import { powerLevelFor } from '../../lib/roles.js';
import type { RoomKind } from '../../workflows/ids.js';
import type { PowerLevelsContent } from '../matrix/client.js';
import { matrixCall } from '../matrix/errors.js';
import type { RoomContext } from './context.js';
import type { MemberPassInput, PowerLevelChanges, PowerLevelsInput } from './types.js';

/**
 * The `users` entries the room should have: managed users' entries exactly as their roles give
 * (0 is no entry), everyone else's as they are. Also what changed, by member slug.
 */
function mergeLevels(ctx: RoomContext, input: PowerLevelsInput, current: Record<string, number>) {
  const { tenant, kind } = input.ref;
  const slugOf = new Map<string, string>();
  for (const slug of [...Object.keys(input.members), ...(input.removed ?? [])])
    slugOf.set(ctx.userIdOf(tenant, slug), slug);
  const desired = new Map<string, number>();
  for (const [slug, role] of Object.entries(input.members)) {
    const level = powerLevelFor(ctx.deps.powerLevels, kind as RoomKind, role);
    if (level !== 0) desired.set(ctx.userIdOf(tenant, slug), level);
  }
  const users = { ...current };
  const changes: PowerLevelChanges = { bySlug: {}, other: [] };
  const note = (id: string, text: string): void => {
    const slug = slugOf.get(id);
    if (slug) (changes.bySlug[slug] ??= []).push(text);
    else changes.other.push(text);
  };
  for (const [id, level] of Object.entries(users)) {
    if (ctx.isManaged(tenant, id) && !desired.has(id)) {
      delete users[id];
      note(id, `power level ${id} ${level}→0`);
    }
  }
  for (const [id, level] of desired) {
    if (users[id] !== level) {
      note(id, `power level ${id} ${users[id] ?? 0}→${level}`);
      users[id] = level;
    }
  }
  return { users, changes };
}

/**
 * Read, merge, write, verify: the managed users' entries of `m.room.power_levels` become exactly
 * the levels their roles give; entries of anyone else are left as they are. The event is replaced
 * whole with no compare-and-swap, hence the read back: a concurrent writer is reported as
 * PowerLevelsDiverged (retried), not silently lost.
 */
export async function syncLevels(ctx: RoomContext, input: PowerLevelsInput): Promise<PowerLevelChanges> {
  const { bot } = ctx.deps;
  const { roomId } = input;
  const current = await matrixCall(() => bot.powerLevels(roomId));
  const { users, changes } = mergeLevels(ctx, input, current.users ?? {});
  if (Object.keys(changes.bySlug).length === 0 && changes.other.length === 0) return changes;
  const next: PowerLevelsContent = { ...current, users };
  await matrixCall(() => bot.setPowerLevels(roomId, next));
  const after = await matrixCall(() => bot.powerLevels(roomId));
  for (const id of new Set([...Object.keys(users), ...Object.keys(after.users ?? {})])) {
    if (ctx.isManaged(input.ref.tenant, id) && (after.users?.[id] ?? 0) !== (users[id] ?? 0)) {
      throw ApplicationFailure.create({
        type: FailureType.PowerLevelsDiverged,
        message: `power level of ${id} reads ${after.users?.[id] ?? 0} after writing ${users[id] ?? 0}`,
      });
    }
  }
  return changes;
}

/**
 * The levels need no look: this run already wrote them, and no target's level changes (a
 * `member` joining changes nothing). A target of unknown previous role counts as a change.
 */
export function levelsUnchanged(ctx: RoomContext, input: MemberPassInput): boolean {
  const levelOf = (role: string | null | undefined): number =>
    role ? powerLevelFor(ctx.deps.powerLevels, input.ref.kind as RoomKind, role) : 0;
  return (
    input.powerLevelsInSync &&
    input.targets.every(
      (t) =>
        t.userSlug in input.previousRoles &&
        levelOf(input.previousRoles[t.userSlug]) === levelOf(input.members[t.userSlug]),
    )
  );
}
