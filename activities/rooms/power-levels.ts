import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import { powerLevelFor, type PowerLevelTable } from '../../vocabulary/roles.js';
import type { RoomKind } from '../../vocabulary/ids.js';
import type { PowerLevelsContent } from '../../adapters/matrix/client.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { ReadContext, RoomContext } from './context.js';
import type { MemberPassInput, PowerLevelChanges, PowerLevelsInput } from './types.js';

/** Who may not be touched, and how high the bot may go: Matrix's rules for changing power levels. */
export interface Reach {
  /** Creators (room version 12 on) outrank every level and are never listed. */
  creators: Set<string>;
  botLevel: number;
  /** A user's level now (an entry, else `users_default`). */
  levelOf(userId: string): number;
}

export function reachOf(bot: string, current: PowerLevelsContent, creators: string[]): Reach {
  const users = current.users ?? {};
  const byDefault = typeof current.users_default === 'number' ? current.users_default : 0;
  return {
    creators: new Set(creators),
    botLevel: creators.includes(bot) ? Infinity : (users[bot] ?? byDefault),
    levelOf: (userId) => users[userId] ?? byDefault,
  };
}

/**
 * The `users` entries the room should have: the entries of the members' accounts (bound, adopted
 * or managed) and of the tenant's managed namespace exactly as their roles give (0 is no entry),
 * everyone else's as they are. A level the bot cannot change (a creator's, one not below its own,
 * or one it would raise above its own) is kept and said so. Also what changed, by member slug.
 */
async function mergeLevels(ctx: ReadContext, input: PowerLevelsInput, current: PowerLevelsContent, reach: Reach) {
  const { tenant, kind } = input.ref;
  const slugs = [...Object.keys(input.members), ...(input.removed ?? [])];
  const [ids, muted] = await Promise.all([ctx.userIds(tenant, slugs), ctx.deps.mutes.active(tenant, kind, input.ref.slug)]);
  const slugOf = new Map<string, string>();
  for (const slug of slugs) slugOf.set(ids.get(slug)!, slug);
  const desired = new Map<string, number>();
  for (const [slug, role] of Object.entries(input.members)) {
    const byRole = powerLevelFor(ctx.deps.powerLevels, kind as RoomKind, role);
    // A muted member (decision 0058): below what sending a message takes, until the mute ends.
    const level = muted.has(slug) ? Math.min(byRole, mutedLevel(current)) : byRole;
    if (level !== 0) desired.set(ids.get(slug)!, level);
  }
  const ours = (id: string): boolean => ctx.isManaged(tenant, id) || slugOf.has(id);
  const users = { ...(current.users ?? {}) };
  const changes: PowerLevelChanges = { bySlug: {}, other: [] };
  let writes = 0;
  const note = (id: string, text: string): void => {
    const slug = slugOf.get(id);
    if (slug) (changes.bySlug[slug] ??= []).push(text);
    else changes.other.push(text);
  };
  const bot = ctx.deps.bot.userId;
  const fixed = (id: string, from: number, to: number): boolean => {
    if (reach.creators.has(id)) return true;
    if (id !== bot && from >= reach.botLevel) {
      note(
        id,
        `power level ${id} stays ${from}: not below the bot's ${reach.botLevel}, which Matrix requires to change it`,
      );
      return true;
    }
    if (to > reach.botLevel) {
      note(id, `power level ${id} stays ${from}: ${to} is above the bot's own ${reach.botLevel}`);
      return true;
    }
    return false;
  };
  for (const [id, level] of Object.entries(users)) {
    if (ours(id) && !desired.has(id) && !fixed(id, level, 0)) {
      delete users[id];
      note(id, `power level ${id} ${level}→0`);
      writes += 1;
    }
  }
  for (const [id, level] of desired) {
    if (users[id] !== level && !reach.creators.has(id) && !fixed(id, users[id] ?? 0, level)) {
      note(id, `power level ${id} ${users[id] ?? 0}→${level}`);
      users[id] = level;
      writes += 1;
    }
  }
  return { users, changes, writes, ours };
}

/** The level of a muted member: one below what sending `m.room.message` takes in the room. */
export function mutedLevel(current: PowerLevelsContent): number {
  const events = (current.events ?? {}) as Record<string, unknown>;
  const send = events['m.room.message'] ?? current.events_default;
  return (typeof send === 'number' ? send : 0) - 1;
}

/**
 * What the power levels should be, read and compared but not written: the `users` entries to
 * write, what would change by member slug, how many writes. Reconciliation's write and the drift
 * report both go by it (decision 0059).
 */
export async function plannedLevels(ctx: ReadContext, input: PowerLevelsInput) {
  const { bot } = ctx.deps;
  const [current, creation] = await Promise.all([
    matrixCall(() => bot.powerLevels(input.roomId)),
    matrixCall(() => bot.creation(input.roomId)),
  ]);
  const reach = reachOf(bot.userId, current, creation.creators);
  return { current, ...(await mergeLevels(ctx, input, current, reach)) };
}

/**
 * Read, merge, write, verify: the members' entries of `m.room.power_levels` become exactly the
 * levels their roles give; entries of anyone else are left as they are. The event is replaced
 * whole with no compare-and-swap, hence the read back: a concurrent writer is reported as
 * PowerLevelsDiverged (retried), not silently lost.
 */
export async function syncLevels(ctx: RoomContext, input: PowerLevelsInput): Promise<PowerLevelChanges> {
  const { bot } = ctx.deps;
  const { roomId } = input;
  const { current, users, changes, writes, ours } = await plannedLevels(ctx, input);
  const sending = sendingChange(current, input.readOnly, readOnlyLevel(ctx.deps.powerLevels, input.ref.kind));
  if (sending) changes.other.push(sending.note);
  if (writes === 0 && !sending) return changes;
  const next: PowerLevelsContent = { ...current, users, ...sending?.content };
  await matrixCall(() => bot.setPowerLevels(roomId, next));
  const after = await matrixCall(() => bot.powerLevels(roomId));
  for (const id of new Set([...Object.keys(users), ...Object.keys(after.users ?? {})])) {
    if (ours(id) && (after.users?.[id] ?? 0) !== (users[id] ?? 0)) {
      throw ApplicationFailure.create({
        type: FailureType.PowerLevelsDiverged,
        message: `power level of ${id} reads ${after.users?.[id] ?? 0} after writing ${users[id] ?? 0}`,
      });
    }
  }
  return changes;
}

/** Who may still post in a read-only room: the kind's moderators (and everyone above them). */
export function readOnlyLevel(table: PowerLevelTable, kind: RoomKind): number {
  const levels = Object.values(table[kind]).filter((l) => l > 0);
  return powerLevelFor(table, kind, 'moderator') || (levels.length ? Math.min(...levels) : 50);
}

/**
 * What making the room read-only (or lifting it) changes in the power levels, or null for nothing:
 * raising `events_default` and `m.room.message` to `level` where they are below it; lifting sets
 * back to 0 / removes only what still stands at `level` (a level someone set otherwise is kept).
 */
export function sendingChange(
  current: PowerLevelsContent,
  readOnly: boolean | undefined,
  level: number,
): { content: PowerLevelsContent; note: string } | null {
  if (readOnly === undefined) return null;
  const eventsDefault = typeof current.events_default === 'number' ? current.events_default : 0;
  const events = { ...((current.events as Record<string, number> | undefined) ?? {}) };
  const message = events['m.room.message'];
  if (readOnly) {
    if (eventsDefault >= level && (message ?? eventsDefault) >= level) return null;
    events['m.room.message'] = Math.max(message ?? 0, level);
    return {
      content: { events_default: Math.max(eventsDefault, level), events },
      note: `read-only: sending needs power level ${level}`,
    };
  }
  if (eventsDefault !== level && message !== level) return null;
  if (message === level) delete events['m.room.message'];
  return { content: { events_default: eventsDefault === level ? 0 : eventsDefault, events }, note: 'sending open to members again' };
}

/**
 * The levels need no look: this run already wrote them, and no target's level changes (a
 * `member` joining changes nothing). A target of unknown previous role counts as a change; so does
 * a new member of an adopted room, where people may hold levels from before the service.
 */
export function levelsUnchanged(ctx: RoomContext, input: MemberPassInput, adopted = false): boolean {
  const levelOf = (role: string | null | undefined): number =>
    role ? powerLevelFor(ctx.deps.powerLevels, input.ref.kind as RoomKind, role) : 0;
  return (
    input.powerLevelsInSync &&
    input.targets.every(
      (t) =>
        t.userSlug in input.previousRoles &&
        !(adopted && input.previousRoles[t.userSlug] === null) &&
        levelOf(input.previousRoles[t.userSlug]) === levelOf(input.members[t.userSlug]),
    )
  );
}
