/** The fold of a room batch (room-batch.ts): what the homeserver must be brought to. */
import type { ApplicationFailure } from '@temporalio/common';
import type { KnockAnswer } from '../activities/rooms/join-requests.js';
import type { EventTime, RoomAdoption } from '../vocabulary/contract.js';
import type { ListDiff } from './member-list-fold.js';
import type { MuteChanges } from './mute-fold.js';
import type { SpaceFlags } from './space-fold.js';

/** Where a member of the batch is to end up (their last change decides). */
export type Target = { to: 'join'; displayName?: string } | { to: 'leave' };

/** What a batch asks of the homeserver, once folded. */
export interface BatchFold extends SpaceFlags {
  /** Per change, in batch order: its refusal (the room is archived), or undefined when live. */
  refusals: (ApplicationFailure | undefined)[];
  /** Members to bring in or take out, in the order they were first touched, with the final say. */
  targets: Map<string, Target>;
  /** Each touched member's role before this batch (null: was not a member). */
  previousRoles: Record<string, string | null>;
  /** Desired members added or given a role in this batch (slug → role), for PostgreSQL. */
  upserts: Record<string, string>;
  /** Desired members removed in this batch, for PostgreSQL. */
  removals: Set<string>;
  /** The room's name or topic differs from before the batch. */
  settingsChanged: boolean;
  /** Every live change is an addMember or removeMember (the one pass may skip the room's look). */
  membersOnly: boolean;
  archive: boolean;
  reconcile: boolean;
  /** A rename: the room's aliases follow the entity's slugs (decision 0031). */
  aliases: boolean;
  /** The existing room an `ensure` of the batch asks to take over (the last one asked). */
  adopt?: RoomAdoption;
  /** Every live change renames a member: the database is already renamed, the homeserver has nothing to do. */
  onlyRenames: boolean;
  /** Per `setMembers` change (by its index in the batch): what its list changed in the desired members. */
  lists: Map<number, ListDiff>;
  /** Listed members the lists did not change: checked on the homeserver (one read), brought back if missing. */
  verify: Set<string>;
  /** Knocks to answer on the homeserver for claimed decisions (decision 0055). */
  answers: KnockAnswer[];
  /** Mutes begun or ended in this batch (decision 0058). */
  mutes?: MuteChanges;
  /** Decision 0053: the room reopened (room-lifecycle.ts), an ensure's event time (the last), a cancel (an archive too). */
  unarchive?: boolean;
  time?: EventTime;
  cancel?: { reason?: string };
}
