/**
 * A typed client of the matrix-orchestrator HTTP API for the platform backend: one function per
 * route, built on `fetch`, authenticated with the service JWT. Start endpoints answer with the
 * outcome (`status: 'completed'`) or, when the workflow takes longer than the server waits, with
 * the operation to follow (`status: 'running'`; see `operations.wait`). Every error answer becomes
 * a `MatrixOrchestratorError` carrying `{status, errcode, error}`. Every route of the API has its
 * function here, or a reason not to (test/unit/client-coverage.test.ts).
 *
 * ```ts
 * const om = createClient({ baseUrl: 'http://127.0.0.1:8080', token: () => mintServiceJwt() });
 * const alice = await om.users.provision('acme', { slug: 'alice', displayName: 'Alice' });
 * await om.members.set({ tenant: 'acme', kind: 'event', slug: 'summer-meetup' }, 'alice', { role: 'host' });
 * ```
 */
import { transport, type CallOptions, type ClientOptions, type WaitOptions } from './http.js';
import { webhookCalls } from './webhooks.js';
import { auditCall } from './audit.js';
import { joinRequestCalls } from './join-requests.js';
import { moderationCalls } from './moderation.js';
import { eventTimerCalls } from './event-timers.js';
import { groupCalls } from './groups.js';
import type {
  DeleteMessageInput,
  DmInput,
  MessageDeleted,
  ReactionAdded,
  ReactionInput,
  ReactionRemoved,
  HistoryPage,
  HistoryQuery,
  ListedMember,
  MemberInput,
  MemberListResult,
  MediaSent,
  MediaUploadQuery,
  MessageAnswer,
  Operation,
  PlatformEvent,
  EnsureRoomInput,
  ProvisionedUser,
  ProvisionUserInput,
  ProvisionUsersBatchInput,
  RenamedUser,
  Offboarding,
  OffboardInput,
  RenameUserInput,
  Readiness,
  ReceiptInput,
  SearchPage,
  SearchQuery,
  RoomChangeResult,
  RoomKind,
  RoomList,
  RoomRef,
  RoomView,
  SendMessageInput,
  TypingInput,
  UsersBatchResult,
  UserKnown,
} from './types.js';

export * from './types.js';
export * from './webhook-signature.js';
export type { AuditPage, AuditQuery } from './audit.js';
export type { JoinDecisionInput, JoinRequest, JoinRequestList } from './join-requests.js';
export type { DriftPage, DriftQuery, MuteInput, RoomDrift } from './moderation.js';
export type { EventTimerPolicy, EventTimerPolicyInput } from './event-timers.js';
export type { GroupBanInput, GroupBanOutcome, GroupBans, SpaceSettings, SpaceSettingsInput } from './groups.js';
export type { WebhookDeliveryPage, WebhookDeliveryQuery, WebhookSubscription, WebhookSubscriptionInput } from './webhooks.js';
export { MatrixOrchestratorError, type CallOptions, type ClientOptions, type WaitOptions } from './http.js';

const seg = encodeURIComponent;
const roomPath = (r: RoomRef): string => `/v1/tenants/${seg(r.tenant)}/rooms/${seg(r.kind)}/${seg(r.slug)}`;
/** `?a=1&b=2` of the given values (none: ''). */
const query = (q: Record<string, string | number | undefined>): string => {
  const given = Object.entries(q).filter((e): e is [string, string | number] => e[1] !== undefined);
  return given.length ? `?${new URLSearchParams(given.map(([k, v]): [string, string] => [k, String(v)]))}` : '';
};

export function createClient(options: ClientOptions) {
  const { send, json, outcome } = transport(options);

  const operations = {
    /** `GET /v1/operations/{workflowId}`: where a workflow started through the API stands. */
    get: (workflowId: string, opts?: CallOptions) =>
      json<Operation>('GET', `/v1/operations/${seg(workflowId)}`, undefined, opts),
    /** Polls the operation until it is no longer running; throws when `timeoutMs` passes first. */
    async wait(workflowId: string, opts: WaitOptions = {}): Promise<Operation> {
      const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
      for (;;) {
        const op = await operations.get(workflowId, opts);
        if (op.status !== 'running') return op;
        if (Date.now() > deadline)
          throw new Error(`operation ${workflowId} still running after ${opts.timeoutMs ?? 60_000} ms`);
        await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
      }
    },
  };

  return {
    users: {
      /**
       * `POST /v1/tenants/{tenant}/users`: provisions the user (or, with `matrixUserId`, binds an existing
       * account), or updates the display name. Idempotent.
       */
      provision: (tenant: string, input: ProvisionUserInput, opts?: CallOptions) =>
        outcome<ProvisionedUser, UserKnown>('POST', `/v1/tenants/${seg(tenant)}/users`, input, opts),
      /** `POST …/users/{userSlug}/rename`: the user gets a new slug and keeps their Matrix account. Idempotent. */
      rename: (tenant: string, userSlug: string, input: RenameUserInput, opts?: CallOptions) =>
        json<RenamedUser>('POST', `/v1/tenants/${seg(tenant)}/users/${seg(userSlug)}/rename`, input, opts),
      /** `POST …/users/{userSlug}/offboard`: lock, remove from every room, deactivate; `erase` after the grace period. */
      offboard: (tenant: string, userSlug: string, input: OffboardInput, opts?: CallOptions) =>
        json<Offboarding>('POST', `/v1/tenants/${seg(tenant)}/users/${seg(userSlug)}/offboard`, input, opts),
      /** `GET …/users/{userSlug}/offboard`: the offboarding's phase. */
      offboarding: (tenant: string, userSlug: string, opts?: CallOptions) =>
        json<Offboarding>('GET', `/v1/tenants/${seg(tenant)}/users/${seg(userSlug)}/offboard`, undefined, opts),
      /** `DELETE …/users/{userSlug}/offboard`: cancels inside the grace period; the account is restored. */
      cancelOffboarding: (tenant: string, userSlug: string, opts?: CallOptions) =>
        json<Offboarding>('DELETE', `/v1/tenants/${seg(tenant)}/users/${seg(userSlug)}/offboard`, undefined, opts),
      /** `POST /v1/tenants/{tenant}/users:batch`: up to 1,000 users at once, an outcome each. Idempotent. */
      provisionBatch: (tenant: string, input: ProvisionUsersBatchInput, opts?: CallOptions) =>
        outcome<UsersBatchResult, { batchId: string; total: number }>(
          'POST',
          `/v1/tenants/${seg(tenant)}/users:batch`,
          input,
          opts,
        ),
    },
    rooms: {
      /**
       * `PUT …/rooms/{kind}/{slug}`: the room exists with these settings (renames and topic changes apply);
       * with `adopt`, an existing room is taken over instead of creating one.
       */
      ensure: (ref: RoomRef, settings: EnsureRoomInput = {}, opts?: CallOptions) =>
        outcome<RoomChangeResult>('PUT', roomPath(ref), settings, opts),
      /** `GET …/rooms/{kind}/{slug}`: room id, alias, settings, desired members and roles. */
      get: (ref: RoomRef, opts?: CallOptions) => json<RoomView>('GET', roomPath(ref), undefined, opts),
      /** `DELETE …/rooms/{kind}/{slug}`: archives the room (everyone but the bot leaves). */
      archive: (ref: RoomRef, opts?: CallOptions) =>
        outcome<RoomChangeResult>('DELETE', roomPath(ref), undefined, opts),
      /** `POST …/rooms/{kind}/{slug}/unarchive`: the archived room reopened, its desired members back. */
      unarchive: (ref: RoomRef<Exclude<RoomKind, 'dm'>>, opts?: CallOptions) =>
        outcome<RoomChangeResult>('POST', `${roomPath(ref)}/unarchive`, undefined, opts),
      /** `POST …/rooms/event/{slug}/cancel`: the bot posts a notice (with `reason`), then the room is archived. */
      cancel: (ref: RoomRef<'event'>, input: { reason?: string } = {}, opts?: CallOptions) =>
        outcome<RoomChangeResult>('POST', `${roomPath(ref)}/cancel`, input, opts),
      /** `POST …/rooms/{kind}/{slug}/reconcile`: compares with the desired state now and repairs drift. */
      reconcile: (ref: RoomRef, opts?: CallOptions) =>
        outcome<RoomChangeResult>('POST', `${roomPath(ref)}/reconcile`, undefined, opts),
      /** `POST …/rooms/{kind}/{slug}/rename`: the same room under `newSlug`; the old slug then answers `OM_ROOM_RENAMED`. */
      rename: (ref: RoomRef<Exclude<RoomKind, 'dm'>>, newSlug: string, opts?: CallOptions) =>
        outcome<RoomChangeResult>('POST', `${roomPath(ref)}/rename`, { newSlug }, opts),
    },
    members: {
      /** `PUT …/members/{userSlug}`: adds the member (provisioned first if needed) or changes their role. */
      set: <K extends Exclude<RoomKind, 'dm'>>(
        ref: RoomRef<K>,
        userSlug: string,
        input: MemberInput<K> = {},
        opts?: CallOptions,
      ) => outcome<RoomChangeResult>('PUT', `${roomPath(ref)}/members/${seg(userSlug)}`, input, opts),
      /**
       * `PUT …/members`: the room's complete member list (up to 10,000): the unlisted removed, the listed
       * added or given their role, power levels written once. The same list again changes nothing.
       */
      setAll: <K extends Exclude<RoomKind, 'dm'>>(ref: RoomRef<K>, members: ListedMember<K>[], opts?: CallOptions) =>
        outcome<MemberListResult>('PUT', `${roomPath(ref)}/members`, { members }, opts),
      /** `DELETE …/members/{userSlug}`: removes the member. */
      remove: (ref: RoomRef<Exclude<RoomKind, 'dm'>>, userSlug: string, opts?: CallOptions) =>
        outcome<RoomChangeResult>('DELETE', `${roomPath(ref)}/members/${seg(userSlug)}`, undefined, opts),
    },
    dms: {
      /** `POST /v1/tenants/{tenant}/dms`: the DM room of two users (both at power level 50). */
      ensure: (tenant: string, input: DmInput, opts?: CallOptions) =>
        outcome<RoomChangeResult>('POST', `/v1/tenants/${seg(tenant)}/dms`, input, opts),
    },
    events: {
      /** `POST /v1/tenants/{tenant}/events`: one of the platform's `chat.*` events. */
      send: (tenant: string, event: PlatformEvent, opts?: CallOptions) =>
        outcome<RoomChangeResult>('POST', `/v1/tenants/${seg(tenant)}/events`, event, opts),
    },
    /**
     * A room's messages as one user: with a service JWT name the user (`userSlug`); with a user JWT
     * (a browser's) leave it out. The user must be joined to the room (else 403 M_FORBIDDEN).
     */
    messages: {
      /** `GET …/messages`: a page of history, newest first, as the user sees it; `next` is the `before` of the older page. */
      history: (ref: RoomRef, q: HistoryQuery = {}, opts?: CallOptions) =>
        json<HistoryPage>('GET', `${roomPath(ref)}/messages${query(q)}`, undefined, opts),
      /** `POST …/messages`: sends durably, once per `txnId`: `sent` with the event id, or `queued` with the operation. */
      send: (ref: RoomRef, input: SendMessageInput, opts?: CallOptions) =>
        json<MessageAnswer>('POST', `${roomPath(ref)}/messages`, input, opts),
      /** `PUT …/typing`: typing (repeat while it lasts) or stopped. */
      typing: (ref: RoomRef, input: TypingInput, opts?: CallOptions) =>
        json<Record<string, never>>('PUT', `${roomPath(ref)}/typing`, input, opts),
      /** `POST …/receipts`: read up to the event. */
      receipt: (ref: RoomRef, input: ReceiptInput, opts?: CallOptions) =>
        json<Record<string, never>>('POST', `${roomPath(ref)}/receipts`, input, opts),
      /**
       * `POST …/media`: uploads the file as the user and sends it as m.image / m.video / m.audio / m.file,
       * once per `txnId`; the answer's `media.url` is a signed download URL (relative to `baseUrl`).
       */
      upload: async (ref: RoomRef, file: Blob, q: MediaUploadQuery, opts?: CallOptions) =>
        (await (
          await send('POST', `${roomPath(ref)}/media${query(q)}`, file, opts, { file: true })
        ).json()) as MediaSent,
      /** `GET /v1/tenants/{tenant}/me/rooms`: the user's rooms with unread counts and last messages. */
      rooms: (tenant: string, q: { userSlug?: string } = {}, opts?: CallOptions) =>
        json<RoomList>('GET', `/v1/tenants/${seg(tenant)}/me/rooms${query(q)}`, undefined, opts),
      /** `DELETE …/messages/{eventId}`: deletes the message (one's own, or anyone's at the room's redact level). */
      delete: (ref: RoomRef, eventId: string, input: DeleteMessageInput = {}, opts?: CallOptions) =>
        json<MessageDeleted>('DELETE', `${roomPath(ref)}/messages/${seg(eventId)}`, input, opts),
      /** `PUT …/messages/{eventId}/reactions`: reacts with `key`. */
      react: (ref: RoomRef, eventId: string, input: ReactionInput, opts?: CallOptions) =>
        json<ReactionAdded>('PUT', `${roomPath(ref)}/messages/${seg(eventId)}/reactions`, input, opts),
      /** `DELETE …/messages/{eventId}/reactions`: takes the reaction with `key` back. */
      unreact: (ref: RoomRef, eventId: string, input: ReactionInput, opts?: CallOptions) =>
        json<ReactionRemoved>('DELETE', `${roomPath(ref)}/messages/${seg(eventId)}/reactions`, input, opts),
    },
    /**
     * `GET /v1/tenants/{tenant}/me/search`: full-text search across the user's rooms, best match
     * first, as the user (with a service JWT name them in `userSlug`); `next` is the `cursor` of the next page.
     */
    search: (tenant: string, q: SearchQuery, opts?: CallOptions) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(q))
        for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) params.append(k, String(one));
      return json<SearchPage>('GET', `/v1/tenants/${seg(tenant)}/me/search?${params}`, undefined, opts);
    },
    operations,
    /** `GET /healthz`: the process is alive. */
    webhooks: webhookCalls(json),
    audit: auditCall(json),
    /** A room's join requests (knocks): listed, and approved or refused. */
    requests: joinRequestCalls(json, outcome),
    /** Mutes (`mutes.add`, `mutes.remove`) and the drift report (`drift.tenant`, `drift.room`). */
    ...moderationCalls(json, (method, path, body, opts) => outcome<RoomChangeResult>(method, path, body, opts)),
    eventTimers: eventTimerCalls(json),
    groups: groupCalls(json),
    health: async (opts?: CallOptions) =>
      (await (await send('GET', '/healthz', undefined, opts, { auth: false })).json()) as { status: 'ok' },
    /** `GET /readyz`: database, Temporal and homeserver checks; an unready (503) answer is returned, not thrown. */
    ready: async (opts?: CallOptions) =>
      (await (await send('GET', '/readyz', undefined, opts, { auth: false, alsoOk: [503] })).json()) as Readiness,
    /** `GET /metrics`: the Prometheus text exposition. */
    metrics: async (opts?: CallOptions) => (await send('GET', '/metrics', undefined, opts, { auth: false })).text(),
  };
}

export type MatrixOrchestratorClient = ReturnType<typeof createClient>;
