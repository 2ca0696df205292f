/**
 * Join requests (knocks, decision 0055): `GET …/rooms/{kind}/{slug}/requests` lists a room's, and
 * `POST …/requests/{user}` `{approve, reason?, decidedBy?, role?}` decides one through the room
 * workflow. `{user}` is a user slug, or the Matrix id of a user who is not one of the tenant's.
 */
import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { MATRIX_USER_ID } from '../../vocabulary/identity.js';
import { isRoomKind, roleProblem, slugProblem, type RoomKind } from '../../vocabulary/ids.js';
import {
  DECIDED_BY_MAX_LENGTH,
  isJoinRequestState,
  JOIN_REQUEST_REASON_MAX,
  JOIN_REQUEST_STATES,
  joinDecisionProblem,
  type JoinDecision,
} from '../../vocabulary/join-requests.js';
import { createJoinRequestStore } from '../../adapters/store/join-requests.js';
import { createRoomStore } from '../../adapters/store/rooms.js';
import { createRoomSlugStore } from '../../adapters/store/room-slugs.js';
import { createUserLookup } from '../../adapters/store/user-bindings.js';
import { roomChange } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { NEWCOMER_ROLE } from '../platform-events.js';
import { roomRef } from '../room-input.js';
import { entityOf } from '../room-slugs.js';
import { role } from '../spec/fields.js';
import { below, operation, outcomeAnswers, ref } from '../spec/operation.js';
import { flag, object, optional, text } from '../spec/schema.js';
import { assertValid, readJsonObject } from '../spec/validation.js';
import { ROOMS_PREFIX } from './rooms.js';

const REQUESTS = '/v1/tenants/:tenant/rooms/:kind/:slug/requests';

/** `POST …/requests/{user}`. */
export const DECISION_BODY = object({
  approve: flag('true: the user is invited (and, when they are one of ours, joined); false: their knock is refused.'),
  reason: optional(text(JOIN_REQUEST_REASON_MAX, 'Why: a refusal shows it to the user (the kick\'s reason); kept with the request.')),
  decidedBy: optional(text(DECIDED_BY_MAX_LENGTH, 'Who decided, as the platform names them (default `platform`); kept with the request.')),
  role: optional(role()),
});

const ops = {
  list: operation({
    method: 'get',
    path: REQUESTS,
    operationId: 'listJoinRequests',
    summary: "The room's join requests (knocks), the most recent first (at most 100)",
    tags: ['requests'],
    security: 'service',
    query: [{ name: 'state', description: 'Only requests in this state.', schema: { type: 'string', enum: [...JOIN_REQUEST_STATES] } }],
    responses: { 200: { description: 'The requests.', json: ref('JoinRequestList') } },
    errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_ROOM_RENAMED', 'OM_UNAVAILABLE'],
  }),
  decide: operation({
    method: 'post',
    path: `${REQUESTS}/:user`,
    operationId: 'decideJoinRequest',
    summary: 'Approve or refuse a pending join request',
    description: [
      '`{user}`: the user slug, or the Matrix id of a user who is not one of the tenant\'s (URL-encoded). An approval',
      'invites the user (a Matrix invite answers a knock); a user of ours also becomes a desired member (`role`, default',
      'the kind\'s newcomer role: `participant` in events, `member` in groups; a member keeps theirs) and is joined, so',
      'the approval ends in a join. A plain Matrix user approved is invited and joins from their own client. A refusal',
      'kicks the knock with `reason` (Matrix: the knock is rejected; the user can knock again). Each request is decided',
      'once: `404 OM_REQUEST_NOT_FOUND` without one, `409 OM_REQUEST_DECIDED` once decided or withdrawn.',
    ].join(' '),
    tags: ['requests'],
    security: 'service',
    body: { schema: DECISION_BODY.json },
    responses: outcomeAnswers('RoomChangeResult'),
    errors: [
      'M_INVALID_PARAM',
      'OM_REQUEST_NOT_FOUND',
      'OM_REQUEST_DECIDED',
      'OM_ROOM_RENAMED',
      'OM_ROOM_ARCHIVED',
      'OM_ROOM_MISSING',
      'OM_USER_DEACTIVATED',
      'OM_UPSTREAM_FAILED',
      'OM_UNAVAILABLE',
    ],
  }),
};
export const joinRequestOperations = Object.values(ops);

export function joinRequestRoutes(deps: AppDeps) {
  const store = createJoinRequestStore(deps.db);
  const rooms = createRoomStore(deps.db);
  const users = createUserLookup(deps.db);
  const slugs = createRoomSlugStore(deps.db);
  const roomOf = async (c: { req: { param(k: string): string } }, principal: Parameters<typeof roomRef>[0]) => {
    const r = roomRef(principal, c.req.param('tenant'), c.req.param('kind'), c.req.param('slug'));
    const entity = await entityOf(slugs, r, { claim: false });
    if (!(await rooms.get(entity.tenant, entity.kind, entity.slug))) throw new ApiError('M_NOT_FOUND', `no room for ${r.kind} ${r.slug}`);
    return { asked: r, entity };
  };
  /** The Matrix id `{user}` names: a Matrix id as it is, a slug through its binding (none: no request can exist). */
  const userIdOf = async (tenant: string, kind: RoomKind, user: string): Promise<string> => {
    if (user.startsWith('@')) {
      if (user.length > 255 || !MATRIX_USER_ID.test(user)) throw new ApiError('M_INVALID_PARAM', 'the user must be a user slug or a Matrix user id');
      return user;
    }
    assertValid(slugProblem(user, 'user slug'));
    const bound = (await users.many(tenant, [user])).get(user);
    if (!bound) throw new ApiError('OM_REQUEST_NOT_FOUND', `no join request of ${user} in this ${kind}: they have no Matrix account`);
    return bound.userId;
  };
  return new Hono<ApiEnv, BlankSchema, typeof ROOMS_PREFIX>()
    .get(below(ROOMS_PREFIX, ops.list), async (c) => {
      const { entity } = await roomOf(c, c.get('principal'));
      const state = c.req.query('state');
      if (state !== undefined && !isJoinRequestState(state))
        throw new ApiError('M_INVALID_PARAM', `query "state" must be one of ${JOIN_REQUEST_STATES.join(', ')}`);
      return c.json({ requests: await store.list(entity, state) }, 200);
    })
    .post(below(ROOMS_PREFIX, ops.decide), async (c) => {
      const body = DECISION_BODY.parse(await readJsonObject(c));
      const kind = c.req.param('kind');
      if (body.role !== undefined && isRoomKind(kind)) assertValid(roleProblem(kind, body.role, 'field "role": role'));
      const { asked, entity } = await roomOf(c, c.get('principal'));
      const user = c.req.param('user');
      const userId = await userIdOf(entity.tenant, entity.kind, user);
      const request = await store.get(entity, userId);
      if (!request) throw new ApiError('OM_REQUEST_NOT_FOUND', `no join request of ${user} in this ${entity.kind}`);
      if (request.state !== 'pending')
        throw new ApiError('OM_REQUEST_DECIDED', `the join request of ${user} is ${request.state} already: a request is decided once (the user can knock again)`);
      const decision: JoinDecision = {
        userId,
        userSlug: request.userSlug,
        approve: body.approve,
        role: body.role ?? (entity.kind === 'dm' ? 'member' : NEWCOMER_ROLE[entity.kind]),
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
        ...(body.decidedBy !== undefined ? { decidedBy: body.decidedBy } : {}),
      };
      assertValid(joinDecisionProblem(entity.kind, decision));
      return roomChange(c, deps, asked, { type: 'decideRequest', ...decision });
    });
}
