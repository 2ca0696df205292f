/** The shapes the room activities exchange with the room workflow (type-only: safe for workflows/). */
import type { RoomRef } from '../../vocabulary/contract.js';

/** A member to bring in or take out, with the batch's final say. */
export interface MemberTarget {
  userSlug: string;
  to: 'join' | 'leave';
  displayName?: string;
}

/** Input of applyMembers: one batch of member changes on a known room. */
export interface MemberPassInput {
  ref: RoomRef;
  roomId: string;
  inviteOnly: boolean;
  /** Members to bring in or take out, each once, in the batch's final say. */
  targets: MemberTarget[];
  /** The desired members after the batch (slug → role). */
  members: Record<string, string>;
  /** The role of each target before the batch (null: not a member); a missing target means unknown. */
  previousRoles: Record<string, string | null>;
  /** The room's power levels were written to match the members before this batch, in this run. */
  powerLevelsInSync: boolean;
  /**
   * One chunk of a long list: `members` holds only the targets' roles, and the power levels are
   * left to the workflow's syncPowerLevels after the last chunk (`powerLevels` comes back null).
   */
  deferLevels?: boolean;
}

/** What the pass did for one member: actions, a permanent refusal, or `retry`. */
export interface MemberOutcome {
  actions: string[];
  error?: { type: string; message: string };
  /** Not finished here: the workflow takes this member the per-member way. */
  retry?: true;
}

/** Power-level changes written, named by member slug where the user is one, else in `other`. */
export interface PowerLevelChanges {
  bySlug: Record<string, string[]>;
  other: string[];
}

/** Output of applyMembers. */
export interface MemberPassResult {
  members: Record<string, MemberOutcome>;
  /** null: not written; the workflow runs syncPowerLevels. */
  powerLevels: PowerLevelChanges | null;
  /** Members recorded under the slug they were renamed to meanwhile, old → new (absent: none). */
  renamed?: Record<string, string>;
}

/** The room found or created, and what that took (created, adopted, released a husk). */
export interface EnsureRoomResult {
  roomId: string;
  alias: string;
  actions: string[];
}

/** What prepareMember leaves for the user's own join: nothing when `joined`. */
export interface PreparedMember {
  userId: string;
  /**
   * Nothing is left for the workflow to do: the user is joined, or — someone the service cannot
   * act as — invited, to accept from their own client.
   */
  joined: boolean;
  actions: string[];
}

/** Input of syncPowerLevels: `removed` names slugs that just left, so their entries are named too. */
export interface PowerLevelsInput {
  ref: RoomRef;
  roomId: string;
  members: Record<string, string>;
  removed?: string[];
  /**
   * An event's room after its end (decision 0053): true raises sending (`events_default` and
   * `m.room.message`) to the moderators' level, false lowers what that raised back; absent: untouched.
   */
  readOnly?: boolean;
}

/** Where a renamed entity's slugs stand (decision 0031). */
export interface SlugsNow {
  /** Its current slug. */
  slug: string;
  /** Every slug it has had, in the order it took them. */
  slugs: string[];
  /** When the next old alias is due to come off the homeserver (epoch ms), or null. */
  aliasRemovalAt: number | null;
}

/** What syncAliases did: the slugs as they stand, the canonical alias, and what changed. */
export interface AliasSync extends SlugsNow {
  alias: string;
  actions: string[];
}
