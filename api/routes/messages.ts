import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { MatrixHttpError, MatrixUnreachableError } from '../../adapters/matrix/errors.js';
import type { AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { userRateLimit } from '../rate-limit.js';
import { relayActionsFor } from '../relay/actions-for.js';
import { relayAuth, type RelayEnv } from '../relay/user-auth.js';
import { MESSAGE_BODY, readMessage, RECEIPT_BODY, TYPING_BODY } from '../message-input.js';
import { emptyAnswer, operation, ref, type Operation, below } from '../spec/operation.js';
import { readJsonObject, rejectUnknownFields } from '../spec/validation.js';
import { waitForResult } from '../wait.js';
import { createUserDirectory } from '../user-directory.js';
import { signerFor, withMediaUrls } from '../media/event-media.js';
import { roomAccess } from './room-access.js';
import { historyView } from '../relay/history-view.js';
import { actorOrigin } from '../audit-origin.js';

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
    errors: [...ACTING_ERRORS, 'OM_TXN_CONFLICT', 'OM_ROOM_ENCRYPTED'],
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
  const { actions, homeserver } = relayActionsFor(deps);
  const directory = createUserDirectory(deps.config, deps.db);
  const media = signerFor(deps.config);
  const joinedRoom = roomAccess(deps, actions, directory);

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
      const events = await historyView(page.events, actions.changes.reads, room.roomId, who.userId).catch(upstream);
      // Media events carry download URLs signed for this user (api/media/event-media.ts).
      const shown = media ? events.map((e) => withMediaUrls(e, room.roomId, who.userId, media)) : events;
      return c.json({ roomId: room.roomId, events: shown, next: page.next });
    })
    .post(below(MESSAGES_PREFIX, ops.send), auth, limited, async (c) => {
      const raw = await readJsonObject(c);
      rejectUnknownFields(raw, Object.keys(MESSAGE_BODY.fields));
      const message = readMessage(raw);
      const txnId = message.txnId;
      const userSlug = MESSAGE_BODY.fields.userSlug.read(raw, 'userSlug');
      const { who, room } = await joinedRoom(c, userSlug, true);
      // Sent for the platform (a service JWT): audited (decision 0060); a user's own send is not.
      const origin = c.get('actor').kind === 'service' ? actorOrigin(c) : undefined;
      const ticket = await actions.send(who, room, message, c.get('requestId'), origin);
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
