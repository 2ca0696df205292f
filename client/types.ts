/**
 * The wire types of the matrix-orchestrator HTTP API, as the platform backend sees them: taken
 * from the OpenAPI spec's generated types (openapi-types.ts, `npm run openapi:types`) where they
 * correspond, and hand-refined where the client knows more (roles per room kind, DM pairs); the
 * assertions at the end make the build fail when a refinement no longer fits the spec.
 * Self-contained on purpose (no imports from the service), so this folder can be copied or
 * published as is; test/unit/client.test.ts checks the service's own types still fit these.
 */
import type { components, operations } from './openapi-types.js';

type Schemas = components['schemas'];
/** The JSON request body of an operation of the spec. */
type JsonBodyOf<C> = C extends { 'application/json': infer B } ? B : never;
type RequestBody<Op extends keyof operations> = JsonBodyOf<NonNullable<operations[Op]['requestBody']>['content']>;

export type RoomKind = 'event' | 'group' | 'dm';
export type EventRole = 'host' | 'moderator' | 'speaker' | 'member' | 'participant' | 'guest';
export type GroupRole = 'owner' | 'admin' | 'moderator' | 'member' | 'guest';
/** The roles a member can hold in a room of kind K (DM users are always `member`). */
export type RoleOf<K extends RoomKind> = K extends 'event' ? EventRole : K extends 'group' ? GroupRole : 'member';

/** Every role per room kind, as the API accepts them. */
export const ROLES: { readonly [K in RoomKind]: readonly RoleOf<K>[] } = {
  event: ['host', 'moderator', 'speaker', 'member', 'participant', 'guest'],
  group: ['owner', 'admin', 'moderator', 'member', 'guest'],
  dm: ['member'],
};

export type Visibility = NonNullable<Schemas['RoomSettings']['visibility']>;

/** Identifies one room: `/v1/tenants/{tenant}/rooms/{kind}/{slug}`. A DM's slug is `a~b` (sorted). */
export interface RoomRef<K extends RoomKind = RoomKind> {
  tenant: string;
  kind: K;
  slug: string;
}

/**
 * `PUT …/rooms/{kind}/{slug}`: the settings, and `adopt` — an existing room to take over instead of
 * creating one (`{roomId}` or `{alias}`).
 */
export type EnsureRoomInput = RequestBody<'ensureRoom'>;
/**
 * `visibility` public: anyone may join, in the directory; private (default): invite only. `encrypted`: DMs only,
 * at creation. `prune`: reconciliation also removes people who are not desired members (adopted rooms).
 */
export type RoomSettings = Omit<EnsureRoomInput, 'adopt' | 'groupSlug'>;

import { ERROR_CODES } from './error-codes.js';

export { ERROR_CODES };
export type KnownErrorCode = Schemas['Error']['errcode'];
/** A known code, or whatever a newer server (or a proxy in between) answered. */
export type ErrorCode = KnownErrorCode | (string & {});

export interface ErrorBody {
  errcode: ErrorCode;
  error: string;
  /** `OM_ROOM_RENAMED`: the room's slug now; `OM_USER_RENAMED`: the user's. Send the request again with it. */
  newSlug?: string;
}

// --- answers of the start endpoints: 200 with the outcome, or 202 with the operation to follow ---

/**
 * The workflow has not finished within the server's wait (`API_WAIT_MS`): follow `operation`
 * (`/v1/operations/{workflowId}`, also the `Location` header). `Extra`: fields the server knows
 * before the outcome (e.g. the Matrix `userId` of a provisioning).
 */
export type Running<Extra = unknown> = Schemas['Running'] & Extra;

export type Completed<T> = T & { status: 'completed'; workflowId: string; operation: string };
export type Outcome<T, Extra = unknown> = Completed<T> | Running<Extra>;

type CompletedFields = 'status' | 'workflowId' | 'operation';

export type ProvisionUserInput = RequestBody<'provisionUser'>;

/** What this request changed on the homeserver (`created`, `displayNameChanged`, `tokenIssued`). */
export type ProvisionedUser = Omit<Schemas['ProvisionedUser'], CompletedFields>;
/** What a provisioning still running already tells: the account, whether adopted, whether the service acts as it. */
export type UserKnown = { userId: string; adopted?: boolean; canActAs?: boolean };

/** `POST …/users/{userSlug}/rename`: the new slug; the same Matrix account. */
export type RenameUserInput = RequestBody<'renameUser'>;
export type RenamedUser = Schemas['RenamedUser'];
/** A user's offboarding (decision 0056). */
export type Offboarding = Schemas['Offboarding'];
export type OffboardInput = RequestBody<'offboardUser'>;

export type ProvisionUsersBatchInput = RequestBody<'provisionUsersBatch'>;

/** Every user's outcome in request order (`created`, `displayNameChanged`, `reactivated`, `unchanged`, `failed` with `error`). */
export type UsersBatchResult = Omit<Schemas['UsersBatchResult'], CompletedFields>;

/** `actions`: what this change did on the homeserver (`created …`, `invited …`, `power level @u 0→50`); empty: nothing needed doing. */
export type RoomChangeResult = Omit<Schemas['RoomChangeResult'], CompletedFields>;

/** `PUT …/rooms/{kind}/{slug}/members`: what the complete list changed (`members`) and the room-level actions. */
export type MemberListResult = Omit<Schemas['MemberListResult'], CompletedFields>;

/** One member of a complete list: `role` defaults to `member`. */
export interface ListedMember<K extends RoomKind = RoomKind> extends MemberInput<K> {
  userSlug: string;
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

/** A room workflow's state; `members`: desired members, user slug → role. */
export type RoomState = Schemas['RoomState'];
export type WorkflowStatusName = Schemas['RoomView']['workflowStatus'];
export type RoomView = Schemas['RoomView'];
export type UserState = Schemas['UserState'];
export type ReconcileResult = Schemas['ReconcileResult'];
export type SendMessageResult = Schemas['SendMessageResult'];
export type OperationKind = Schemas['Operation']['kind'];
/** `GET /v1/operations/{workflowId}`: `state` of user and room workflows, `result` of finished runs, `failure` why one failed. */
export type Operation = Schemas['Operation'];
/** Each check is `ok` or `error: <why>`. */
export type Readiness = Omit<Schemas['Readiness'], 'checks'> & { checks: Record<string, 'ok' | `error: ${string}`> };

// --- platform events: POST /v1/tenants/{tenant}/events ---

type EntityKind = 'event' | 'group';
/** An event's start and end (ISO 8601 with an offset) and IANA time zone, given together (decision 0053). */
type EventTime = { startsAt?: string; endsAt?: string; timeZone?: string };
/** One object type per suffix (distributed): a type in two shapes is matched shape by shape. */
type Entity<K extends EntityKind, Suffix extends string, Data> = Suffix extends string
  ? { type: `chat.${K}.${Suffix}`; data: Data }
  : never;

type EventsOf<K extends EntityKind> =
  | Entity<
      K,
      'created' | 'updated',
      { slug: string; name?: string; topic?: string; visibility?: Visibility } & (K extends 'event' ? EventTime : unknown)
    >
  /** The event is cancelled: the bot posts a notice (with `reason`), then the room is archived. */
  | (K extends 'event' ? Entity<K, 'cancelled', { slug: string; reason?: string }> : never)
  | Entity<K, 'deleted', { slug: string }>
  | Entity<K, 'member.add', { slug: string; userSlug: string; role?: RoleOf<K>; displayName?: string }>
  | Entity<K, 'member.remove', { slug: string; userSlug: string }>
  | Entity<K, 'member.role', { slug: string; userSlug: string; role: RoleOf<K> }>
  | Entity<K, 'renamed', { slug: string; newSlug: string }>
  /** The complete member list, as `PUT …/members` takes it. */
  | Entity<K, 'members.set', { slug: string; members: ListedMember<K>[] }>;

/** A member event as the platform (openmeet-api) emits it: `eventSlug` / `groupSlug`, its `tenantId`. */
type PlatformMember<K extends EntityKind> = (K extends 'event' ? { eventSlug: string } : { groupSlug: string }) & {
  userSlug: string;
  /** Must name the path's tenant (upper case is read as lower case). */
  tenantId?: string;
};
type PlatformShapesOf<K extends EntityKind> =
  Entity<K, 'member.add', PlatformMember<K> & { userRole?: RoleOf<K> }> | Entity<K, 'member.remove', PlatformMember<K>>;

/**
 * The platform's own shapes, as it emits them (fields the service does not read are ignored): a
 * roleless add keeps a member's role (a newcomer or a guest becomes a `participant` or `member`); a
 * group role update to `guest` takes the member out of the room. docs/api.md, "The platform's own events".
 */
export type PlatformShapedEvent =
  | PlatformShapesOf<'event'>
  | PlatformShapesOf<'group'>
  | Entity<'group', 'member.role.update', PlatformMember<'group'> & { newRole: GroupRole; oldRole?: unknown }>
  /** The event as the platform's listener has it: `eventName` names the room; `startDate` (with `endDate`, `timeZone`) sets its timers. */
  | Entity<
      'event',
      'created' | 'updated',
      {
        eventSlug: string;
        eventName?: string;
        startDate?: string;
        endDate?: string;
        timeZone?: string;
        tenantId?: string;
        userSlug?: unknown;
        eventVisibility?: unknown;
      }
    >
  /** The group was renamed: its room moves to `newSlug` (the same room). */
  | { type: 'group.slug.changed'; data: { oldSlug: string; newSlug: string; tenantId?: string; groupId?: unknown } };

/** The chat events, each applied as one room change. Idempotent: delivering one twice changes nothing. */
export type PlatformEvent =
  EventsOf<'event'> | EventsOf<'group'> | { type: 'chat.dm.created'; data: DmInput } | PlatformShapedEvent;

export * from './chat-types.js';

// --- the refinements above still fit the spec (the build fails when they drift apart) ---
type Assert<T extends true> = T;
type Fits<A, B> = [A] extends [B] ? true : false;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type _SpecAlignment = [
  Assert<Same<(typeof ERROR_CODES)[number], KnownErrorCode>>,
  Assert<Same<RoomKind, Schemas['RoomState']['kind']>>,
  Assert<Same<RoleOf<'event'> | RoleOf<'group'>, NonNullable<RequestBody<'setMember'>['role']>>>,
  Assert<Same<MemberInput, RequestBody<'setMember'>>>,
  Assert<Fits<{ members: ListedMember[] }, RequestBody<'setMembers'>>>,
  Assert<Fits<DmInput, RequestBody<'ensureDm'>>>,
  Assert<Fits<PlatformEvent, RequestBody<'sendPlatformEvent'>>>,
  // Every event of the spec is one of the client's (DMs aside: the client types `users` as a pair).
  Assert<Fits<Exclude<RequestBody<'sendPlatformEvent'>, { type: 'chat.dm.created' }>, PlatformEvent>>,
  Assert<Same<Completed<ProvisionedUser>, Schemas['ProvisionedUser']>>,
  Assert<Same<Running<UserKnown>, Schemas['UserRunning']>>,
  Assert<Same<Completed<RoomChangeResult>, Schemas['RoomChangeResult']>>,
  Assert<Same<Completed<UsersBatchResult>, Schemas['UsersBatchResult']>>,
  Assert<Same<Running<{ batchId: string; total: number }>, Schemas['UsersBatchRunning']>>,
  Assert<Fits<Readiness, Schemas['Readiness']>>,
];
