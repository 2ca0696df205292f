/**
 * Group spaces and group bans (decision 0051): the words the API, the room workflow and the
 * activities share. Pure: workflow code imports it.
 */
import { describeValue } from './describe.js';
import { escapeSlug, slugProblem, type InvalidReason, type RoomKind } from './ids.js';

/** A room in a group's space: the group's own room or one of its events' rooms. */
export interface SpaceChild {
  kind: RoomKind;
  slug: string;
  roomId: string;
}

/** Where a room stands among spaces, as its workflow last saw it (the room state and the Temporal UI show it). */
export interface SpaceView {
  /** A group's space; for an event room, the space of its group (null: the group has none yet). */
  spaceId: string | null;
  /** An event room's parent space (`m.space.parent`), or null. */
  parent: string | null;
  /** A group's space's children (its own room first); empty for an event room. */
  children: SpaceChild[];
  /** An event room's join rule as set for its group: `restricted` (the group's members) or the room's own. */
  joinRule?: string;
}

/**
 * Who may join a private event room of a group, per tenant: `group-members` (join rule
 * `restricted`, allowed through membership of the group's space) or `invite` (invite only, the default).
 */
export const EVENT_ROOM_JOIN = ['group-members', 'invite'] as const;
export type EventRoomJoin = (typeof EVENT_ROOM_JOIN)[number];
export const DEFAULT_EVENT_ROOM_JOIN: EventRoomJoin = 'invite';

/** Longest ban reason kept (characters); Matrix takes it into the ban event. */
export const BAN_REASON_MAX = 500;

/** A group space's alias localpart: `{prefix}_{tenant}_space_{escaped slug}` (as long as the group room's). */
export function spaceAliasLocalpart(prefix: string, tenant: string, groupSlug: string): string {
  return `${prefix}_${tenant}_space_${escapeSlug(groupSlug)}`;
}

/** What is wrong with an `ensure`'s group, or with a ban or unban, for a room of `kind`; null when nothing. */
export function spaceChangeProblem(
  kind: RoomKind,
  c: { type: string; group?: unknown; userSlug?: unknown; reason?: unknown },
): InvalidReason | null {
  if (c.type === 'ensure') {
    if (c.group === undefined || c.group === null) return null;
    if (kind !== 'event') return 'only an event has a group';
    return typeof c.group === 'string' ? slugProblem(c.group, 'group') : `group must be a slug or null, not ${describeValue(c.group)}`;
  }
  if (kind === 'dm') return 'a DM belongs to no group: bans are for groups and their events';
  if (c.reason !== undefined && (typeof c.reason !== 'string' || c.reason.length > BAN_REASON_MAX))
    return `reason must be a string of at most ${BAN_REASON_MAX} characters`;
  return slugProblem(String(c.userSlug ?? ''), 'userSlug');
}
