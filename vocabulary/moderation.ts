/**
 * Moderation through the platform (decision 0058): who may moderate a room, and the bounds of a
 * mute. Pure: the API checks with it before anything starts, the room workflow's validator again.
 */
import { slugProblem, type InvalidReason, type RoomKind } from './ids.js';
import { powerLevelFor, type PowerLevelTable } from './roles.js';

/** The platform roles that moderate a room of each kind (mute, unmute, remove others' messages). A DM has none. */
export const MODERATOR_ROLES: Readonly<Record<RoomKind, readonly string[]>> = {
  event: ['host', 'moderator'],
  group: ['owner', 'admin', 'moderator'],
  dm: [],
};

/** The longest mute: 30 days. */
export const MUTE_MAX_SECONDS = 30 * 24 * 3600;

export function isModerator(kind: RoomKind, role: string | undefined): boolean {
  return role !== undefined && MODERATOR_ROLES[kind].includes(role);
}

/**
 * Why `actor` (their desired role, or undefined: not a member) may not moderate `target` in a room
 * of `kind` — null when they may. A moderator acts on members below their own level only (Matrix
 * lets nobody change the level of someone at or above their own).
 */
export function moderationRefusal(
  table: PowerLevelTable,
  kind: RoomKind,
  actor: { slug: string; role: string | undefined },
  target?: { slug: string; role: string },
): string | null {
  const roles = MODERATOR_ROLES[kind];
  if (!isModerator(kind, actor.role)) {
    const needs = roles.length ? `the role ${roles.join(', ').replace(/, ([^,]*)$/, ' or $1')}` : 'a moderator, which a DM has none of';
    return `moderating this ${kind} needs ${needs}; ${actor.slug} is ${actor.role === undefined ? 'not a member' : `${actor.role}`}`;
  }
  if (target && powerLevelFor(table, kind, target.role) >= powerLevelFor(table, kind, actor.role!))
    return `${actor.slug} (${actor.role}) cannot moderate ${target.slug} (${target.role}): only members of a lower level`;
  return null;
}

/** What is wrong with a mute: in a DM (no moderators), its member, its duration (whole seconds from 1 to MUTE_MAX_SECONDS). */
export function muteProblem(kind: RoomKind, userSlug: unknown, durationSeconds: unknown): InvalidReason | null {
  if (kind === 'dm') return 'a DM has no moderators: nobody in it is muted';
  const p = slugProblem(String(userSlug ?? ''), 'userSlug');
  if (p) return p;
  if (!Number.isInteger(durationSeconds) || (durationSeconds as number) < 1 || (durationSeconds as number) > MUTE_MAX_SECONDS)
    return `durationSeconds must be a whole number of seconds from 1 to ${MUTE_MAX_SECONDS}` as InvalidReason;
  return null;
}
