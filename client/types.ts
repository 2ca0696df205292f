/**
 * The wire types of the matrix-orchestrator HTTP API, as the platform backend sees them.
 * Self-contained on purpose (no imports from the service), so this folder can be copied or
 * published as is and later regenerated from the OpenAPI spec; test/unit/client-types.test.ts
 * checks at compile time that the service's own types still fit these.
 */

export type RoomKind = 'event' | 'group' | 'dm';
export type EventRole = 'host' | 'moderator' | 'speaker' | 'member';
export type GroupRole = 'owner' | 'admin' | 'moderator' | 'member';
/** The roles a member can hold in a room of kind K (DM users are always `member`). */
export type RoleOf<K extends RoomKind> = K extends 'event' ? EventRole : K extends 'group' ? GroupRole : 'member';

/** Every role per room kind, as the API accepts them. */
export const ROLES: { readonly [K in RoomKind]: readonly RoleOf<K>[] } = {
  event: ['host', 'moderator', 'speaker', 'member'],
  group: ['owner', 'admin', 'moderator', 'member'],
  dm: ['member'],
};

export type Visibility = 'public' | 'private';

/** Identifies one room: `/v1/tenants/{tenant}/rooms/{kind}/{slug}`. A DM's slug is `a~b` (sorted). */
export interface RoomRef<K extends RoomKind = RoomKind> {
  tenant: string;
  kind: K;
  slug: string;
}

export interface RoomSettings {
  name?: string;
  topic?: string;
  /** public: anyone may join and the room is in the directory; private (default): invite only. */
  visibility?: Visibility;
  /** Only for DMs, and only at creation. */
  encrypted?: boolean;
}

/** Every error code the API answers with (Matrix-style `{errcode, error}` bodies). */
export const ERROR_CODES = [
  'M_MISSING_TOKEN',
  'M_UNKNOWN_TOKEN',
  'M_FORBIDDEN',
  'M_NOT_FOUND',
  'M_UNRECOGNIZED',
  'M_NOT_JSON',
  'M_BAD_JSON',
  'M_INVALID_PARAM',
  'M_TOO_LARGE',
  'M_UNSUPPORTED_MEDIA_TYPE',
  'M_UNAUTHORIZED',
  'M_LIMIT_EXCEEDED',
  'OM_TXN_CONFLICT',
  'OM_UPGRADE_REQUIRED',
  'OM_ROOM_ARCHIVED',
  'OM_ROOM_MISSING',
  'OM_UPSTREAM_FAILED',
  'OM_UNAVAILABLE',
  'M_UNKNOWN',
] as const;
export type KnownErrorCode = (typeof ERROR_CODES)[number];
/** A known code, or whatever a newer server (or a proxy in between) answered. */
export type ErrorCode = KnownErrorCode | (string & {});

export interface ErrorBody {
  errcode: ErrorCode;
  error: string;
}

// --- answers of the start endpoints: 200 with the outcome, or 202 with the operation to follow ---

/** The workflow has not finished within the server's wait (`API_WAIT_MS`): follow `operation`. */
export interface Running<Extra = unknown> {
  status: 'running';
  workflowId: string;
  /** `/v1/operations/{workflowId}` (also the `Location` header). */
  operation: string;
  /** Fields the server knows before the outcome (e.g. the Matrix `userId` of a provisioning). */
  extra: Extra;
}

export type Completed<T> = T & { status: 'completed'; workflowId: string; operation: string };
export type Outcome<T, Extra = unknown> = Completed<T> | Running<Extra>;

export interface ProvisionUserInput {
  slug: string;
  displayName: string;
}

export interface ProvisionedUser {
  userId: string;
  displayName: string;
  /** What this request changed on the homeserver. */
  created: boolean;
  displayNameChanged: boolean;
  tokenIssued: boolean;
}

export interface RoomChangeResult {
  roomId: string;
  alias: string;
  /** What this change did on the homeserver (`created …`, `invited …`, `power level @u 0→50`); empty: nothing needed doing. */
  actions: string[];
}

export interface MemberInput<K extends RoomKind = RoomKind> {
  role?: RoleOf<K>;
  /** Used when the member has no Matrix account yet (defaults to the slug). */
  displayName?: string;
}

export interface DmInput {
  users: [string, string];
  encrypted?: boolean;
  name?: string;
}

// --- reads ---

export interface RoomState {
  tenant: string;
  kind: RoomKind;
  slug: string;
  roomId: string | null;
  alias: string | null;
  settings: RoomSettings;
  /** Desired members: user slug → role. */
  members: Record<string, string>;
  archived: boolean;
  changesApplied: number;
  pendingChanges: number;
  lastError: { type: string; message: string } | null;
}

export type WorkflowStatusName =
  | 'RUNNING'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELLED'
  | 'TERMINATED'
  | 'CONTINUED_AS_NEW'
  | 'TIMED_OUT'
  | 'PAUSED'
  | 'UNKNOWN'
  | 'UNSPECIFIED';

export type RoomView = RoomState & { workflowStatus: WorkflowStatusName };

export interface UserState {
  tenant: string;
  slug: string;
  userId: string | null;
  displayName: string | null;
  provisioned: boolean;
  requestsApplied: number;
  pendingRequests: number;
  lastError: { type: string; message: string } | null;
}

export interface ReconcileResult {
  tenant: string;
  rooms: number;
  fixes: { room: string; actions: string[] }[];
  failures: { room: string; error: string }[];
}

export type OperationKind = 'user' | 'user-auth' | 'room' | 'reconcile';

/** `GET /v1/operations/{workflowId}`. */
export interface Operation {
  workflowId: string;
  runId: string;
  kind: OperationKind;
  workflowStatus: WorkflowStatusName;
  status: 'running' | 'completed' | 'failed';
  /** The entity's state (user and room workflows). */
  state?: UserState | RoomState;
  /** A finished reconciliation run's result. */
  result?: ReconcileResult;
  /** Why the workflow failed, when it did. */
  failure?: string;
}

export interface Readiness {
  status: 'ready' | 'unready';
  checks: Record<string, 'ok' | `error: ${string}`>;
}

// --- platform events: POST /v1/tenants/{tenant}/events ---

type EntityKind = 'event' | 'group';
type Entity<K extends EntityKind, Suffix extends string, Data> = { type: `chat.${K}.${Suffix}`; data: Data };

type EventsOf<K extends EntityKind> =
  | Entity<K, 'created' | 'updated', { slug: string; name?: string; topic?: string; visibility?: Visibility }>
  | Entity<K, 'deleted', { slug: string }>
  | Entity<K, 'member.add', { slug: string; userSlug: string; role?: RoleOf<K>; displayName?: string }>
  | Entity<K, 'member.remove', { slug: string; userSlug: string }>
  | Entity<K, 'member.role', { slug: string; userSlug: string; role: RoleOf<K> }>;

/** The platform's chat events, each applied as one room change. Idempotent: delivering one twice changes nothing. */
export type PlatformEvent = EventsOf<'event'> | EventsOf<'group'> | { type: 'chat.dm.created'; data: DmInput };
