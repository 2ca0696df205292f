/**
 * Inputs, results and message definitions of the workflows. Pure: the API imports this file to
 * start workflows and send updates without pulling in workflow code.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RoomKind } from './ids.js';
import type { ListedMember, MemberListOutcome } from './member-list.js';
import type { AuditOrigin } from './audit.js';
import type { JoinDecision, JoinRequest } from './join-requests.js';
import type { EventSchedule, EventTime } from './event-time.js';

export type { EventTime } from './event-time.js';
import type { SpaceView } from './spaces.js';

export * from './user-contract.js';

// ---------------------------------------------------------------------------------------------
// Rooms
// ---------------------------------------------------------------------------------------------

export type Visibility = 'public' | 'private';

export interface RoomSettings {
  name?: string;
  topic?: string;
  /** public: anyone may join and the room is in the directory; private: invite only. */
  visibility?: Visibility;
  /** Only for DMs, and only at creation: Matrix cannot turn encryption off again. */
  encrypted?: boolean;
  /**
   * Reconciliation removes everyone in the room who is not a desired member (and whom the bot can
   * remove); otherwise only the tenant's own managed accounts count as drift. For adopted rooms.
   */
  prune?: boolean;
  /**
   * Matrix users may ask to join (join rule `knock`, or `knock_restricted` where the room is also
   * restricted); the platform approves or refuses each request (decision 0055). Not for DMs.
   */
  knock?: boolean;
}

/** An existing room to take over instead of creating one: by room id or by one of its aliases. */
export type RoomAdoption = { roomId: string } | { alias: string };

/** One change to a room. Member changes are upserts/deletes: repeating one changes nothing. */
export type RoomChange =
  | {
      type: 'ensure';
      settings?: RoomSettings;
      members?: string[];
      adopt?: RoomAdoption;
      /** An event's start, end and time zone: its room's timers follow them (decision 0053). */
      time?: EventTime;
      /** An event's group (its slug), whose space the event's room belongs to; null: no group (decision 0051). */
      group?: string | null;
    }
  | {
      type: 'addMember';
      userSlug: string;
      role: string;
      displayName?: string;
      /**
       * A member already holding one of these roles keeps it; anyone else gets `role` (the
       * platform's roleless adds: a host stays a host, a newcomer or a guest gets `role`).
       */
      keepRoles?: string[];
    }
  | { type: 'removeMember'; userSlug: string }
  /**
   * The complete desired member list (vocabulary/member-list.ts): the unlisted are removed, the
   * listed added or given their role. Repeating it changes nothing and writes nothing.
   */
  | { type: 'setMembers'; members: ListedMember[] }
  | { type: 'archive' }
  /** The event is cancelled: the bot posts a notice (with `reason`), then the room is archived. */
  | { type: 'cancel'; reason?: string }
  /** An archived room reopened: the same room, its desired members back, power levels as their roles give. */
  | { type: 'unarchive' }
  | { type: 'reconcile' }
  /**
   * The entity was moved to `newSlug` in PostgreSQL (the API does that first, decision 0031): its
   * aliases follow — the new one canonical, the old one kept as an alternative for a while.
   */
  | { type: 'rename'; newSlug: string }
  /**
   * The platform user `userSlug` is now `newSlug` (same Matrix account): the desired members follow.
   * Sent by the user rename (the database is already renamed); nothing changes on the homeserver.
   */
  | { type: 'renameMember'; userSlug: string; newSlug: string }
  /**
   * The platform's decision on a pending join request (decision 0055): an approval invites the user
   * (an invite answers a knock) and, for a user of ours, makes them a desired member who joins; a
   * refusal kicks the knock. Claimed in PostgreSQL first: a request decided already is refused.
   */
  | ({ type: 'decideRequest' } & JoinDecision)
  /**
   * The member may not send for `durationSeconds` (decision 0058): their power level below the
   * room's send level until the workflow's timer ends it. `actorSlug`: the moderator the platform
   * named, whose role the API checked. Muting again replaces the end.
   */
  | { type: 'mute'; userSlug: string; durationSeconds: number; actorSlug: string }
  /** Ends the member's mute now (none running: nothing to do). */
  | { type: 'unmute'; userSlug: string; actorSlug: string }
  /**

   * The user is banned from the group (sent to the group's room and every event room of the group,
   * decision 0051): out of the desired members, banned on the homeserver, refused as a member while
   * the ban holds. `unban` lifts it: they may join again (they are not added back).
   */
  | { type: 'ban'; userSlug: string; reason?: string }
  | { type: 'unban'; userSlug: string };

/** `origin`: who asked (decision 0060); a change carrying one is recorded in the audit trail. */
export type RoomChangeRequest = RoomChange & { requestId?: string; origin?: AuditOrigin };

export interface RoomChangeResult {
  roomId: string;
  alias: string;
  /** The entity's slug now (absent from answers of workflows that never learnt of renames). */
  slug?: string;
  /** What was done on the homeserver for this change (empty: nothing needed doing). */
  actions: string[];
  /** A `setMembers` change: what the list changed, member by member (its `actions` are room-level only). */
  members?: MemberListOutcome;
}

/**
 * A room entity. In workflow ids, inputs and the rooms table `slug` is the entity's first slug,
 * which never changes (decision 0031); requests may name it by its current slug.
 */
export interface RoomRef {
  tenant: string;
  kind: RoomKind;
  slug: string;
}

export interface RoomInput extends RoomRef {
  carried?: RoomState;
  idleTimeoutMs?: number;
}

export interface RoomState extends RoomRef {
  /** `slug` here is the entity's current slug; `slugs` every slug it has had, when it was renamed. */
  slugs?: string[];
  /** When the next old alias comes off the homeserver (epoch ms); the workflow waits for it. */
  aliasRemovalAt?: number | null;
  roomId: string | null;
  alias: string | null;
  settings: RoomSettings;
  /** Desired members: user slug → platform role. */
  members: Record<string, string>;
  archived: boolean;
  /** Join requests, most recent first (decision 0055): as loaded, decided here, or signalled by the intake. */
  requests?: JoinRequest[];
  /** Running mutes: member slug → when it ends (epoch ms); the workflow waits for the soonest. */
  mutes?: Record<string, number>;
  /** An event's time and its timers (the next due ones are also in the memo `timers`). */
  time?: EventSchedule | null;
  changesApplied: number;
  pendingChanges: number;
  lastError: { type: string; message: string } | null;
  /** An event's group (its slug as given), or null: none. Absent: not looked at by this run yet. */
  group?: string | null;
  /** Where the room stands among spaces (vocabulary/spaces.ts); absent until a run looks. */
  space?: SpaceView;
  /** User slugs banned from the room's group (a group's room and its events' rooms). */
  bans?: string[];
}

/** Apply one change to the room (creating it first if needed); the caller learns the outcome. */
export const roomChangeUpdate = defineUpdate<RoomChangeResult, [RoomChangeRequest]>('roomChange');
export const roomStateQuery = defineQuery<RoomState>('roomState');

export interface ReconcileInput {
  tenant: string;
}

export interface ReconcileResult {
  tenant: string;
  rooms: number;
  fixes: { room: string; actions: string[] }[];
  failures: { room: string; error: string }[];
}

// ---------------------------------------------------------------------------------------------
// Messages, typing and read receipts (the realtime relay)
// ---------------------------------------------------------------------------------------------

export const MESSAGE_TYPES = ['m.text', 'm.notice', 'm.emote'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];
/** Characters of a message body; Matrix caps a whole event at 64 KiB. */
export const MESSAGE_BODY_MAX_LENGTH = 16_000;
/** The content key carrying the client's transaction id, so clients can match their own echo. */
export const CLIENT_TXN_ID_KEY = 'org.openmeet.txn_id';

/** One message sent as a platform user (`msg:{tenant}:{userSlug}:{clientTxnId}`). */
export interface SendMessageInput {
  tenant: string;
  userSlug: string;
  kind: RoomKind;
  slug: string;
  roomId: string;
  clientTxnId: string;
  msgtype: MessageType;
  body: string;
  /** Sanitized Matrix HTML (`org.matrix.custom.html`) beside the plain `body` (decision 0044). */
  html?: string;
  /** The event this message replies to (`m.in_reply_to`). */
  replyTo?: string;
  /** The user's own message this one replaces (`m.replace`); the API checked the sender. */
  edits?: string;
}

export interface SendMessageResult {
  eventId: string;
  roomId: string;
  userSlug: string;
  clientTxnId: string;
}

/** A user's typing and read receipts in one room (`ephemeral:{tenant}:{userSlug}:{kind}:{slug}`). */
export interface EphemeralInput {
  tenant: string;
  userSlug: string;
  kind: RoomKind;
  slug: string;
  roomId: string;
  /** Carried over continue-as-new. */
  carried?: { typingSent: boolean; lastTypingAt: number };
}

/** `typing` true: the user is typing (repeat it while they are); false: they stopped. `readEventId`: read up to it. */
export interface EphemeralRequest {
  typing?: boolean;
  readEventId?: string;
}

export const ephemeralSignal = defineSignal<[EphemeralRequest]>('ephemeral');
