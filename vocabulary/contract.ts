/**
 * Inputs, results and message definitions of the workflows. Pure: the API imports this file to
 * start workflows and send updates without pulling in workflow code.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RoomKind } from './ids.js';

export interface UserRef {
  tenant: string;
  slug: string;
}

export interface ProvisionUserInput extends UserRef {
  /** When given, applied at start (an operator starting the workflow by hand). */
  displayName?: string;
  /** State carried over continue-as-new. */
  carried?: UserState;
  /** How long the workflow stays open waiting for further changes before it completes. */
  idleTimeoutMs?: number;
}

export interface ProvisionUserRequest {
  displayName: string;
  /**
   * Bind the user to this existing Matrix account (adoption) instead of creating one. Never created,
   * renamed or deactivated by the service; acted as only where the identity mode can (canActAs).
   */
  matrixUserId?: string;
  /** The API request that asked for it, for following one request into Temporal. */
  requestId?: string;
}

export interface ProvisionUserResult {
  userId: string;
  displayName: string;
  /** What this particular request changed on the homeserver. */
  created: boolean;
  displayNameChanged: boolean;
  tokenIssued: boolean;
  /** The account existed before the service and is only bound to the user (absent from older runs). */
  adopted?: boolean;
}

export interface UserState extends UserRef {
  userId: string | null;
  displayName: string | null;
  provisioned: boolean;
  /** Number of requests applied by this workflow (across continue-as-new). */
  requestsApplied: number;
  /** Requests accepted but not finished yet. */
  pendingRequests: number;
  /** Why the most recent request failed, cleared by the next success. */
  lastError: { type: string; message: string } | null;
}

export interface EnsureUserInput extends UserRef {
  displayName: string;
  /** Adoption: bind to this existing account (see ProvisionUserRequest). */
  matrixUserId?: string;
}

export interface EnsureUserResult {
  userId: string;
  created: boolean;
  displayNameChanged: boolean;
  /** The user had been deactivated on the homeserver and was brought back (same id). */
  reactivated: boolean;
  /** An adopted account: bound, never created, renamed or deactivated by the service. */
  adopted?: boolean;
}

/** The user as ensured, and whether a new token was issued and stored. */
export interface ProvisionMatrixUserResult extends EnsureUserResult {
  tokenIssued: boolean;
}

export interface ReauthUserInput extends UserRef {
  /** The token generation the homeserver refused; a newer one means the work is already done. */
  staleGeneration: number;
}

export interface ReauthUserResult {
  userId: string;
  renewed: boolean;
  reprovisioned: boolean;
  generation: number;
}

export interface EnsureCredentialResult {
  issued: boolean;
}

/** Provision (or update) the user; the caller learns the outcome. Used with Update-with-Start. */
export const provisionUserUpdate = defineUpdate<ProvisionUserResult, [ProvisionUserRequest]>('provisionUser');
/** The user's current state as the workflow knows it. */
export const userStateQuery = defineQuery<UserState>('userState');

export const DISPLAY_NAME_MAX_LENGTH = 256;

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
}

/** An existing room to take over instead of creating one: by room id or by one of its aliases. */
export type RoomAdoption = { roomId: string } | { alias: string };

/** One change to a room. Member changes are upserts/deletes: repeating one changes nothing. */
export type RoomChange =
  | { type: 'ensure'; settings?: RoomSettings; members?: string[]; adopt?: RoomAdoption }
  | { type: 'addMember'; userSlug: string; role: string; displayName?: string }
  | { type: 'removeMember'; userSlug: string }
  | { type: 'archive' }
  | { type: 'reconcile' }
  /**
   * The platform user `userSlug` is now `newSlug` (same Matrix account): the desired members follow.
   * Sent by the user rename (the database is already renamed); nothing changes on the homeserver.
   */
  | { type: 'renameMember'; userSlug: string; newSlug: string };

export type RoomChangeRequest = RoomChange & { requestId?: string };

export interface RoomChangeResult {
  roomId: string;
  alias: string;
  /** What was done on the homeserver for this change (empty: nothing needed doing). */
  actions: string[];
}

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
  roomId: string | null;
  alias: string | null;
  settings: RoomSettings;
  /** Desired members: user slug → platform role. */
  members: Record<string, string>;
  archived: boolean;
  changesApplied: number;
  pendingChanges: number;
  lastError: { type: string; message: string } | null;
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
