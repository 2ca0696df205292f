import { Hono, type Context } from 'hono';
import type { BlankSchema } from 'hono/types';
import { MatrixHttpError, MatrixUnreachableError } from '../../adapters/matrix/errors.js';
import { roomKindMessage } from '../../vocabulary/room-rules.js';
import {
  canonicalTenant,
  isRoomKind,
  roomSlugProblem,
  slugProblem,
  tenantProblem,
  userIdProblem,
} from '../../vocabulary/ids.js';
import { assertTenant } from '../auth.js';
import type { AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { userRateLimit } from '../rate-limit.js';
import { createRelayActions, type ResolvedRoom, type Sender } from '../relay/actions.js';
import { createEventLog } from '../../adapters/store/events.js';
import { createRelayHomeserver } from '../relay/homeserver.js';
import { createDirectSends } from '../relay/direct-send.js';
import { relayAuth, type RelayEnv } from '../relay/user-auth.js';
import { MESSAGE_BODY, readMessage, RECEIPT_BODY, TYPING_BODY } from '../message-input.js';
import { emptyAnswer, operation, ref, type Operation, below } from '../spec/operation.js';
import { assertValid, readJsonObject, rejectUnknownFields } from '../spec/validation.js';
import { waitForResult } from '../wait.js';
import { createUserDirectory } from '../user-directory.js';

/** Where api/app.ts mounts this router; its routes are registered below it. */
export const MESSAGES_PREFIX = '/v1/tenants/:tenant/rooms/:kind/:slug';

const PAGE_TOKEN = /^[A-Za-z0-9_~.-]{1,256}$/;


const ROOM = '/v1/tenants/:tenant/rooms/:kind/:slug';
const RELAY_ERRORS = [
  'M_INVALID_PARAM',
  'M_NOT_FOUND',
  'OM_ROOM_RENAMED',
  'OM_USER_RENAMED',
  'OM_UNAVAILABLE',
  'OM_UPSTREAM_FAILED',
] as const;
/** Acting as the user: refused for one the service cannot act as (an adopted account outside its reach). */
const ACTING_ERRORS = [...RELAY_ERRORS, 'OM_USER_NOT_MANAGED', 'M_LIMIT_EXCEEDED'] as const;
const relayOp = { security: 'relay', tags: ['messages'], errors: [...RELAY_ERRORS] } as const;
const ops = {
  history: operation({
    ...relayOp,
    method: 'get',
    path: `${ROOM}/messages`,
    operationId: 'roomHistory',
    summary: "The room's messages, newest first, as the user sees them",
    query: [
      {
        name: 'before',
        description: 'The `next` token of the previous page.',
        schema: { type: 'string', pattern: PAGE_TOKEN.source },
      },
      {
        name: 'limit',
        description: 'Events per page.',
        schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      },
      {
        name: 'userSlug',
        description: 'The user to read as (service JWT only).',
        schema: { type: 'string', maxLength: 100 },
      },
    ],
    responses: { 200: { description: 'One page.', json: ref('HistoryPage') } },
  }),
  send: operation({
    ...relayOp,
    method: 'post',
    path: `${ROOM}/messages`,
    operationId: 'sendMessage',
    summary: 'Send a message as the user, durably and once per `txnId`',
    body: { schema: MESSAGE_BODY.json },
    responses: {
      200: { description: 'Sent.', json: ref('MessageSent') },
      202: {
        description: 'Queued: follow `operation`.',
        json: ref('MessageQueued'),
        headers: { Location: 'The operation.' },
      },
    },
    errors: [...ACTING_ERRORS, 'OM_TXN_CONFLICT'],
  }),
  typing: operation({
    ...relayOp,
    method: 'put',
    path: `${ROOM}/typing`,
    operationId: 'setTyping',
    summary: 'The user is typing, or stopped',
    body: { schema: TYPING_BODY.json },
    responses: { 202: emptyAnswer('Accepted.') },
    errors: [...ACTING_ERRORS],
  }),
  receipt: operation({
    ...relayOp,
    method: 'post',
    path: `${ROOM}/receipts`,
    operationId: 'sendReceipt',
    summary: 'The user has read up to the event',
    body: { schema: RECEIPT_BODY.json },
    responses: { 202: emptyAnswer('Accepted.') },
    errors: [...ACTING_ERRORS],
  }),
};
export const messagesOperations: Operation[] = Object.values(ops);

/**
 * Whom the request acts as: a user JWT acts as its own user (of its own tenant only); a service
 * JWT names the user (`userSlug`) for a tenant it may act for.
 */
export function actingUser(c: Context<RelayEnv>, tenant: string, requested: unknown): Sender {
  const actor = c.get('actor');
  if (requested !== undefined && typeof requested !== 'string')
    throw new ApiError('M_BAD_JSON', 'field "userSlug" must be a string');
  if (actor.kind === 'user') {
    if (actor.user.tenant !== tenant)
      throw new ApiError('M_FORBIDDEN', `this user token is for tenant "${actor.user.tenant}", not "${tenant}"`);
    if (requested !== undefined && requested !== actor.user.userSlug)
      throw new ApiError('M_FORBIDDEN', 'a user token acts only as its own user');
    return { tenant, userSlug: actor.user.userSlug };
  }
  assertTenant(actor.principal, tenant);
  if (requested === undefined)
    throw new ApiError('M_BAD_JSON', 'with a service token, name the user to act as in "userSlug"');
  assertValid(slugProblem(requested, 'userSlug'));
  return { tenant, userSlug: requested };
}

function upstream(err: unknown): never {
  if (err instanceof MatrixHttpError && err.status === 400)
    throw new ApiError('M_INVALID_PARAM', '"before" is not a pagination token of this room');
  if (err instanceof MatrixHttpError && err.status === 403)
    throw new ApiError('M_FORBIDDEN', 'the homeserver does not let this user read the room');
  if (err instanceof MatrixUnreachableError)
    throw new ApiError('OM_UNAVAILABLE', 'the homeserver is unreachable; retry later');
  if (err instanceof MatrixHttpError) throw new ApiError('OM_UPSTREAM_FAILED', `the homeserver answered ${err.status}`);
  throw err;
}

/**
 * A room's messages, as a user: history (`GET`), durable sends (`POST`), typing and read receipts.
 * Authorized by a user JWT or a service JWT (user-auth.ts), and by the user's membership.
 */
export function messagesRoutes(deps: AppDeps) {
  const homeserver = deps.relay?.homeserver ?? createRelayHomeserver(deps.config);
  const actions =
    deps.relay?.actions ??
    createRelayActions({
      ...deps,
      log: createEventLog(deps.db),
      homeserver,
      direct: createDirectSends(deps.config, deps.db),
    });
  const directory = createUserDirectory(deps.config, deps.db);

  /**
   * The room and the user, who must be joined to it now. `acting`: the request acts as the user
   * (send, typing, receipt), refused with OM_USER_NOT_MANAGED for one the service cannot act as.
   */
  async function joinedRoom(
    c: Context<RelayEnv>,
    requested: unknown,
    acting: boolean,
  ): Promise<{ who: Sender & { userId: string }; room: ResolvedRoom }> {
    const params = c.req.param() as { tenant: string; kind: string; slug: string };
    const { kind, slug } = params;
    const tenant = canonicalTenant(params.tenant);
    assertValid(tenantProblem(tenant));
    if (!isRoomKind(kind)) throw new ApiError('M_INVALID_PARAM', roomKindMessage(kind));
    assertValid(roomSlugProblem(kind, slug));
    const who = actingUser(c, tenant, requested);
    const actor = c.get('actor');
    const { userPrefix, serverName } = deps.config.matrix;
    assertValid(userIdProblem(userPrefix, serverName, tenant, who.userSlug, 'userSlug'));
    const user = actor.kind === 'user' ? actor.user : await directory.resolve(tenant, who.userSlug);
    if (acting && !user.canActAs)
      throw new ApiError(
        'OM_USER_NOT_MANAGED',
        `the service cannot act as ${user.userId} (${who.userSlug}): only their own Matrix client can send, type or read for them`,
      );
    const room = await actions.resolveRoom(tenant, { kind, slug });
    if (!(await actions.isJoined(user.userId, room.roomId)))
      throw new ApiError('M_FORBIDDEN', `${who.userSlug} is not joined to ${kind} ${slug}`);
    return { who: { ...who, userId: user.userId }, room };
  }

  // Per route, not `use`: a wildcard here would also run on the rooms routes mounted beside these.
  const auth = relayAuth(deps.config, directory);
  // Sends, typing and receipts with a user JWT: per user, before the body is even read.
  const limited = userRateLimit(deps.config.relay, () => deps.relay?.limits.refused('http_per_user'));
  return new Hono<RelayEnv, BlankSchema, typeof MESSAGES_PREFIX>()
    .get(below(MESSAGES_PREFIX, ops.history), auth, async (c) => {
      const limitRaw = c.req.query('limit') ?? '20';
      if (!/^\d{1,3}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > 100)
        throw new ApiError('M_INVALID_PARAM', 'limit must be a whole number from 1 to 100');
      const before = c.req.query('before');
      if (before !== undefined && !PAGE_TOKEN.test(before))
        throw new ApiError('M_INVALID_PARAM', '"before" must be the "next" token of a previous page');
      const { who, room } = await joinedRoom(c, c.req.query('userSlug'), false);
      const page = await homeserver
        .history(room.roomId, who.userId, { before, limit: Number(limitRaw) })
        .catch(upstream);
      return c.json({ roomId: room.roomId, events: page.events, next: page.next });
    })
    .post(below(MESSAGES_PREFIX, ops.send), auth, limited, async (c) => {
      const raw = await readJsonObject(c);
      rejectUnknownFields(raw, Object.keys(MESSAGE_BODY.fields));
      const { txnId, body: text, msgtype } = readMessage(raw);
      const userSlug = MESSAGE_BODY.fields.userSlug.read(raw, 'userSlug');
      const { who, room } = await joinedRoom(c, userSlug, true);
      const ticket = await actions.send(who, room, { txnId, body: text, msgtype }, c.get('requestId'));
      const outcome = await waitForResult(deps.temporal, () => ticket.result(), deps.config.api.waitMs);
      const operation = `/v1/operations/${encodeURIComponent(ticket.workflowId)}`;
      if (!outcome.done) {
        c.header('Location', operation);
        return c.json({ status: 'queued', workflowId: ticket.workflowId, txnId, roomId: room.roomId, operation }, 202);
      }
      return c.json({
        status: 'sent',
        workflowId: ticket.workflowId,
        txnId,
        roomId: room.roomId,
        eventId: outcome.value.eventId,
        operation,
      });
    })
    .put(below(MESSAGES_PREFIX, ops.typing), auth, limited, async (c) => {
      const { typing, userSlug } = TYPING_BODY.parse(await readJsonObject(c));
      const { who, room } = await joinedRoom(c, userSlug, true);
      await actions.ephemeral(who, room, { typing });
      return c.json({}, 202);
    })
    .post(below(MESSAGES_PREFIX, ops.receipt), auth, limited, async (c) => {
      const { eventId, userSlug } = RECEIPT_BODY.parse(await readJsonObject(c));
      const { who, room } = await joinedRoom(c, userSlug, true);
      await actions.ephemeral(who, room, { readEventId: eventId });
      return c.json({}, 202);
    });
}
