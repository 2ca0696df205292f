import { Hono, type Context } from 'hono';
import { MatrixHttpError, MatrixUnreachableError } from '../../activities/matrix/errors.js';
import {
  isRoomKind,
  matrixUserId,
  roomSlugProblem,
  slugProblem,
  tenantProblem,
  clientTxnIdProblem,
} from '../../workflows/ids.js';
import { MESSAGE_BODY_MAX_LENGTH, MESSAGE_TYPES } from '../../workflows/messages.js';
import { assertTenant } from '../auth.js';
import type { AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { createRelayActions, type ResolvedRoom, type Sender } from '../relay/actions.js';
import { createEventLog } from '../../activities/store/events.js';
import { createRelayHomeserver } from '../relay/homeserver.js';
import { relayAuth, type RelayEnv } from '../relay/user-auth.js';
import { assertValid, optionalEnum, readJsonObject, rejectUnknownFields, requireString } from '../validation.js';
import { waitAtMost } from '../wait.js';

const PAGE_TOKEN = /^[A-Za-z0-9_~.-]{1,256}$/;

/**
 * Whom the request acts as: a user JWT acts as its own user (of its own tenant only); a service
 * JWT names the user (`userSlug`) for a tenant it may act for.
 */
function sender(c: Context<RelayEnv>, tenant: string, requested: unknown): Sender {
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
  const actions = deps.relay?.actions ?? createRelayActions({ ...deps, log: createEventLog(deps.db), homeserver });
  const base = '/:tenant/rooms/:kind/:slug';
  const matrixId = (s: Sender): string =>
    matrixUserId(deps.config.matrix.userPrefix, deps.config.matrix.serverName, s.tenant, s.userSlug);

  async function joinedRoom(c: Context<RelayEnv>, requested: unknown): Promise<{ who: Sender; room: ResolvedRoom }> {
    const { tenant, kind, slug } = c.req.param() as { tenant: string; kind: string; slug: string };
    assertValid(tenantProblem(tenant));
    if (!isRoomKind(kind))
      throw new ApiError('M_INVALID_PARAM', `room kind must be event, group or dm, not ${JSON.stringify(kind)}`);
    assertValid(roomSlugProblem(kind, slug));
    const who = sender(c, tenant, requested);
    const room = await actions.resolveRoom(tenant, { kind, slug });
    if (!(await actions.isJoined(matrixId(who), room.roomId)))
      throw new ApiError('M_FORBIDDEN', `${who.userSlug} is not joined to ${kind} ${slug}`);
    return { who, room };
  }

  // Per route, not `use`: a wildcard here would also run on the rooms routes mounted beside these.
  const auth = relayAuth(deps.config);
  return new Hono<RelayEnv>()
    .get(`${base}/messages`, auth, async (c) => {
      const limitRaw = c.req.query('limit') ?? '20';
      if (!/^\d{1,3}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > 100)
        throw new ApiError('M_INVALID_PARAM', 'limit must be a whole number from 1 to 100');
      const before = c.req.query('before');
      if (before !== undefined && !PAGE_TOKEN.test(before))
        throw new ApiError('M_INVALID_PARAM', '"before" must be the "next" token of a previous page');
      const { who, room } = await joinedRoom(c, c.req.query('userSlug'));
      const page = await homeserver
        .history(room.roomId, matrixId(who), { before, limit: Number(limitRaw) })
        .catch(upstream);
      return c.json({ roomId: room.roomId, events: page.events, next: page.next });
    })
    .post(`${base}/messages`, auth, async (c) => {
      const body = await readJsonObject(c);
      rejectUnknownFields(body, ['txnId', 'body', 'msgtype', 'userSlug']);
      const txnId = requireString(body, 'txnId', 64);
      assertValid(clientTxnIdProblem(txnId));
      const text = requireString(body, 'body', MESSAGE_BODY_MAX_LENGTH);
      const msgtype = optionalEnum(body, 'msgtype', MESSAGE_TYPES) ?? 'm.text';
      const { who, room } = await joinedRoom(c, body.userSlug);
      const ticket = await actions.send(who, room, { txnId, body: text, msgtype }, c.get('requestId'));
      const outcome = await waitAtMost(ticket.result(), deps.config.api.waitMs);
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
    .put(`${base}/typing`, auth, async (c) => {
      const body = await readJsonObject(c);
      rejectUnknownFields(body, ['typing', 'userSlug']);
      if (typeof body.typing !== 'boolean') throw new ApiError('M_BAD_JSON', 'field "typing" must be true or false');
      const { who, room } = await joinedRoom(c, body.userSlug);
      await actions.ephemeral(who, room, { typing: body.typing });
      return c.json({}, 202);
    })
    .post(`${base}/receipts`, auth, async (c) => {
      const body = await readJsonObject(c);
      rejectUnknownFields(body, ['eventId', 'userSlug']);
      const eventId = requireString(body, 'eventId', 255);
      if (!eventId.startsWith('$'))
        throw new ApiError('M_INVALID_PARAM', 'field "eventId" must be a Matrix event id like "$abc"');
      const { who, room } = await joinedRoom(c, body.userSlug);
      await actions.ephemeral(who, room, { readEventId: eventId });
      return c.json({}, 202);
    });
}
