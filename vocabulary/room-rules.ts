/**
 * The rules a room change must follow that depend on the room's kind: one set, read by the API
 * before it starts anything (api/room-input.ts, api/routes/messages.ts) and by the room workflow's
 * update validator (workflows/room.ts), so the two cannot drift and give different answers.
 * Pure: workflow code imports it.
 */
import { describeValue } from './describe.js';
import { roleProblem, slugProblem, type InvalidReason, type RoomKind } from './ids.js';

export const DM_MEMBERS_ARE_FIXED = 'a DM is between exactly its two users; members cannot be added or removed';

/** What is wrong with a room kind that is not `event`, `group` or `dm` (the value described, bounded). */
export const roomKindMessage = (kind: unknown): InvalidReason =>
  `room kind must be event, group or dm, not ${describeValue(kind)}`;

/** A room's settings its kind does not allow: encryption outside DMs, a public DM, knocking on a DM. */
export function settingsProblem(
  kind: RoomKind,
  s: { visibility?: unknown; encrypted?: unknown; knock?: unknown },
): InvalidReason | null {
  if (s.encrypted === true && kind !== 'dm') return 'encryption can only be asked for DMs';
  if (kind === 'dm' && s.visibility === 'public') return 'a DM cannot be public';
  if (kind === 'dm' && s.knock === true) return 'a DM is between its two users: no one can knock';
  return null;
}

/** Adding (with a role) or removing a member: never in a DM; a valid slug; a role the kind knows. */
export function memberChangeProblem(kind: RoomKind, userSlug: string, role?: string): InvalidReason | null {
  if (kind === 'dm') return DM_MEMBERS_ARE_FIXED;
  return slugProblem(userSlug, 'userSlug') ?? (role === undefined ? null : roleProblem(kind, role));
}
