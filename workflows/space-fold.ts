/**
 * Group bans and an event's group in the room workflow's batch (decision 0051): folded into the
 * desired state like the other changes. Pure, like room-batch.ts, which calls it.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { RoomChangeRequest, RoomState } from '../vocabulary/contract.js';
import { FailureType } from '../vocabulary/failures.js';
import type { ListedMember } from '../vocabulary/member-list.js';
import { removeTarget } from './member-list-fold.js';

/** What a batch's bans and group ask of the space step (part of room-batch.ts's BatchFold). */
export interface SpaceFlags {
  /** The event's group changed in this batch: its room moves in the hierarchy. */
  groupChanged?: boolean;
  /** A ban or unban was folded: the homeserver's bans are brought to the group's. */
  bans?: boolean;
}

/** The parts of room-batch.ts's BatchFold a ban or a group folds into. */
interface SpaceFold extends SpaceFlags {
  targets: Map<string, { to: 'join'; displayName?: string } | { to: 'leave' }>;
  previousRoles: Record<string, string | null>;
  upserts: Record<string, string>;
  removals: Set<string>;
  verify: Set<string>;
}

const isBanned = (state: RoomState, slug: string): boolean => state.bans?.includes(slug) ?? false;

/** An add of a user banned from the room's group is refused while the ban holds. */
export function bannedRefusal(state: RoomState, c: RoomChangeRequest): ApplicationFailure | undefined {
  if (c.type !== 'addMember' || !isBanned(state, c.userSlug)) return undefined;
  return ApplicationFailure.create({
    type: FailureType.UserBanned,
    message: `${c.userSlug} is banned from the group; unban them first`,
    nonRetryable: true,
  });
}

/** A member list without the users banned from the group (they stay out while the ban holds). */
export function withoutBanned(state: RoomState, list: readonly ListedMember[]): readonly ListedMember[] {
  return state.bans?.length ? list.filter((m) => !isBanned(state, m.userSlug)) : list;
}

/** An ensure's group, when it names one other than the state's: the event's room moves to it. */
export function foldGroup(state: RoomState, fold: SpaceFold, group: string | null | undefined): void {
  if (group === undefined || group === (state.group ?? null)) return;
  state.group = group;
  fold.groupChanged = true;
}

/** A ban takes the user out of the desired members and keeps them out; an unban lifts it. True when `c` was one. */
export function foldBan(state: RoomState, fold: SpaceFold, c: RoomChangeRequest): boolean {
  if (c.type === 'ban') {
    removeTarget(state, fold, c.userSlug);
    if (!isBanned(state, c.userSlug)) state.bans = [...(state.bans ?? []), c.userSlug];
  } else if (c.type === 'unban') {
    state.bans = (state.bans ?? []).filter((s) => s !== c.userSlug);
  } else {
    return false;
  }
  fold.bans = true;
  return true;
}
