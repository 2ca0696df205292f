/**
 * Changing messages as the user (decision 0044): deleting one (`DELETE …/messages/{eventId}`, with
 * a reason; one's own, or anyone's at the room's redact level) and reacting to one (`PUT` / `DELETE
 * …/messages/{eventId}/reactions`). The socket's `delete` and `react` frames do the same
 * (api/relay/client-frames.ts). Editing is a send with `edits` (messages.ts).
 */
import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import type { AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { REACTION_BODY, REDACT_BODY } from '../message-input.js';
import { userRateLimit } from '../rate-limit.js';
import { relayActionsFor } from '../relay/actions-for.js';
import { relayAuth, type RelayEnv } from '../relay/user-auth.js';
import { below, operation, ref, type Operation } from '../spec/operation.js';
import { readJsonObject } from '../spec/validation.js';
import { createUserDirectory } from '../user-directory.js';
import { MESSAGES_PREFIX } from './messages.js';
import { roomAccess } from './room-access.js';
import { actorOrigin, audited } from '../audit-origin.js';
import { moderatorRemoval } from '../moderation.js';

const MESSAGE = `${MESSAGES_PREFIX}/messages/:eventId`;
const ERRORS = [
  'M_INVALID_PARAM',
  'M_NOT_FOUND',
  'M_FORBIDDEN',
  'OM_ROOM_RENAMED',
  'OM_USER_RENAMED',
  'OM_USER_NOT_MANAGED',
  'OM_UNAVAILABLE',
  'OM_UPSTREAM_FAILED',
  'M_LIMIT_EXCEEDED',
] as const;
const base = { security: 'relay', tags: ['messages'], errors: [...ERRORS] } as const;
const ops = {
  delete: operation({
    ...base,
    method: 'delete',
    path: MESSAGE,
    operationId: 'deleteMessage',
    summary:
      "Delete a message as the user: their own, or anyone's at the room's redact level; or a moderator removes it",
    description:
      "A redaction as the user, with the reason. Refused with `403 M_FORBIDDEN` naming the levels when the user's power level is below the room's `redact` level (someone else's message) or its level for sending redactions. With a service JWT and `actorSlug` (and a `reason`), a moderator removes the message: their role in the room's desired members must moderate (else `403 M_FORBIDDEN` naming the roles); the redaction is theirs where the service can act as them and they have the level, else the bot's (`redactedBy`).",
    body: { schema: REDACT_BODY.json, required: false },
    responses: { 200: { description: 'Deleted.', json: ref('MessageDeleted') } },
  }),
  react: operation({
    ...base,
    method: 'put',
    path: `${MESSAGE}/reactions`,
    operationId: 'addReaction',
    summary: 'React to a message as the user (an `m.annotation`); again with the same key changes nothing',
    body: { schema: REACTION_BODY.json },
    responses: { 200: { description: 'Reacted.', json: ref('ReactionAdded') } },
  }),
  unreact: operation({
    ...base,
    method: 'delete',
    path: `${MESSAGE}/reactions`,
    operationId: 'removeReaction',
    summary: "Take the user's reaction with the key back (its redaction)",
    body: { schema: REACTION_BODY.json },
    responses: { 200: { description: 'Taken back.', json: ref('ReactionRemoved') } },
  }),
};
export const messageChangesOperations: Operation[] = Object.values(ops);

const EVENT_ID = /^\$[^\s]{1,254}$/;

export function messageChangesRoutes(deps: AppDeps) {
  const { actions } = relayActionsFor(deps);
  const directory = createUserDirectory(deps.config, deps.db);
  const joinedRoom = roomAccess(deps, actions, directory);
  const auth = relayAuth(deps.config, directory);
  const limited = userRateLimit(deps.config.relay, () => deps.relay?.limits.refused('http_per_user'));
  const eventIdOf = (raw: string): string => {
    if (!EVENT_ID.test(raw)) throw new ApiError('M_INVALID_PARAM', 'the path must name a Matrix event id like "$abc"');
    return raw;
  };
  return new Hono<RelayEnv, BlankSchema, typeof MESSAGES_PREFIX>()
    .delete(below(MESSAGES_PREFIX, ops.delete), auth, limited, async (c) => {
      const eventId = eventIdOf(c.req.param('eventId'));
      // The body is optional (a user JWT deleting without a reason): no Content-Type, no body.
      const raw = c.req.header('content-type') === undefined ? {} : await readJsonObject(c);
      const { reason, userSlug, actorSlug } = REDACT_BODY.parse(raw);
      if (actorSlug !== undefined) {
        const input = { eventId, actorSlug, reason, userSlug };
        return c.json(await moderatorRemoval(c, { config: deps.config, db: deps.db, actions, directory }, input));
      }
      const { who, room } = await joinedRoom(c, userSlug, true);
      // Recorded in the audit trail with its outcome (decision 0060); the reason is not (a person wrote it).
      const entry = {
        tenant: who.tenant,
        origin: actorOrigin(c),
        operation: 'message.redact',
        room: { kind: room.kind, slug: room.entitySlug ?? room.slug, roomId: room.roomId },
        userSlug: who.userSlug,
        detail: `${eventId}${reason ? ', with a reason' : ''}`,
      };
      const { redactionId } = await audited(
        deps,
        entry,
        () => actions.changes.redact(who, room.roomId, eventId, reason),
        (r) => [`redacted ${eventId} as ${who.userId}: ${r.redactionId}`],
      );
      return c.json({ roomId: room.roomId, eventId, redactionId });
    })
    .put(below(MESSAGES_PREFIX, ops.react), auth, limited, async (c) => {
      const eventId = eventIdOf(c.req.param('eventId'));
      const { key, userSlug } = REACTION_BODY.parse(await readJsonObject(c));
      const { who, room } = await joinedRoom(c, userSlug, true);
      const { reactionId } = await actions.changes.react(who, room.roomId, eventId, key);
      return c.json({ roomId: room.roomId, eventId, key, reactionId });
    })
    .delete(below(MESSAGES_PREFIX, ops.unreact), auth, limited, async (c) => {
      const eventId = eventIdOf(c.req.param('eventId'));
      const { key, userSlug } = REACTION_BODY.parse(await readJsonObject(c));
      const { who, room } = await joinedRoom(c, userSlug, true);
      const { reactionIds } = await actions.changes.unreact(who, room.roomId, eventId, key);
      return c.json({ roomId: room.roomId, eventId, key, reactionIds });
    });
}
