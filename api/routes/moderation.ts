/**
 * Mutes through the platform (decision 0058): `POST /v1/tenants/{tenant}/rooms/{kind}/{slug}/mutes`
 * `{actorSlug, userSlug, durationSeconds}` and `DELETE …/mutes/{userSlug}?actorSlug=` to end one
 * early. The acting moderator's role is read from the room's desired members (api/moderation.ts);
 * the room workflow lowers the member's power level below the send level and its durable timer
 * restores it. Removing a message as a moderator is `DELETE …/messages/{eventId}` with `actorSlug`.
 */
import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { createRoomSlugStore } from '../../adapters/store/room-slugs.js';
import { MUTE_MAX_SECONDS, muteProblem } from '../../vocabulary/moderation.js';
import { slugProblem } from '../../vocabulary/ids.js';
import { roomChange } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { moderatedRoom } from '../moderation.js';
import { roomRef } from '../room-input.js';
import { entityOf } from '../room-slugs.js';
import { SLUG_JSON } from '../spec/fields.js';
import { operation, outcomeAnswers } from '../spec/operation.js';
import { object, str, type Field } from '../spec/schema.js';
import { assertValid, readJsonObject } from '../spec/validation.js';

const seconds: Field<number> = {
  optional: false,
  json: { type: 'integer', minimum: 1, maximum: MUTE_MAX_SECONDS, description: 'How long the member may not send, in seconds (at most 30 days).' },
  read(body, name) {
    const v = body[name];
    if (typeof v !== 'number') throw new ApiError('M_BAD_JSON', `field "${name}" must be a number of seconds`);
    return v;
  },
};
const actor = str({ ...SLUG_JSON, description: "The moderator acting (the platform's user): their role in the room's desired members must moderate." });
const MUTE_BODY = object({
  actorSlug: actor,
  userSlug: str({ ...SLUG_JSON, description: 'The member muted.' }),
  durationSeconds: seconds,
});

const ROOM = '/v1/tenants/:tenant/rooms/:kind/:slug';
const ERRORS = ['M_INVALID_PARAM', 'M_BAD_JSON', 'M_FORBIDDEN', 'M_NOT_FOUND', 'OM_ROOM_RENAMED', 'OM_ROOM_ARCHIVED', 'OM_ROOM_MISSING', 'OM_UPSTREAM_FAILED', 'OM_UNAVAILABLE'] as const;
const ops = {
  mute: operation({
    method: 'post',
    path: `${ROOM}/mutes`,
    operationId: 'muteMember',
    summary: 'Mute a member for a time: their power level below what sending takes, restored when it ends',
    description: `The moderator (\`actorSlug\`) must hold a moderating role in the room (event: host, moderator; group: owner, admin, moderator), above the member's; else \`403 M_FORBIDDEN\` naming the roles. Muting again replaces the end. Up to ${MUTE_MAX_SECONDS} s; reconciliation keeps the mute while it runs.`,
    tags: ['moderation'],
    security: 'service',
    body: { schema: MUTE_BODY.json },
    responses: outcomeAnswers('RoomChangeResult'),
    errors: [...ERRORS],
  }),
  unmute: operation({
    method: 'delete',
    path: `${ROOM}/mutes/:userSlug`,
    operationId: 'unmuteMember',
    summary: "End a member's mute now",
    query: [{ name: 'actorSlug', description: 'The moderator acting.', schema: { type: 'string', maxLength: 100 }, required: true }],
    tags: ['moderation'],
    security: 'service',
    responses: outcomeAnswers('RoomChangeResult'),
    errors: [...ERRORS],
  }),
};
export const moderationOperations = Object.values(ops);

/** Mounted at `/`; the paths are the operations' own. */
export function moderationRoutes(deps: AppDeps) {
  const slugs = createRoomSlugStore(deps.db);
  return new Hono<ApiEnv, BlankSchema, '/'>()
    .post(ops.mute.path, async (c) => {
      const ref = roomRef(c.get('principal'), c.req.param('tenant'), c.req.param('kind'), c.req.param('slug'));
      const body = MUTE_BODY.parse(await readJsonObject(c));
      assertValid(slugProblem(body.actorSlug, 'actorSlug') ?? muteProblem(ref.kind, body.userSlug, body.durationSeconds));
      const entity = await entityOf(slugs, ref, { claim: false });
      await moderatedRoom(deps.config, deps.db, entity, ref.slug, body.actorSlug, body.userSlug);
      return roomChange(c, deps, ref, { type: 'mute', ...body });
    })
    .delete(ops.unmute.path, async (c) => {
      const ref = roomRef(c.get('principal'), c.req.param('tenant'), c.req.param('kind'), c.req.param('slug'));
      const userSlug = c.req.param('userSlug');
      assertValid(slugProblem(userSlug, 'userSlug'));
      const actorSlug = c.req.query('actorSlug');
      if (actorSlug === undefined) throw new ApiError('M_INVALID_PARAM', 'query "actorSlug" names the moderator acting');
      assertValid(slugProblem(actorSlug, 'actorSlug') ?? muteProblem(ref.kind, userSlug, 1));
      const entity = await entityOf(slugs, ref, { claim: false });
      await moderatedRoom(deps.config, deps.db, entity, ref.slug, actorSlug, userSlug);
      return roomChange(c, deps, ref, { type: 'unmute', userSlug, actorSlug });
    });
}
