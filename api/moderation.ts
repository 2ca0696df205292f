/**
 * Moderation through the platform (decision 0058): the acting moderator is named by the platform
 * (`actorSlug`, service JWT only) and their role is read from the room's desired members in
 * PostgreSQL — never a client's claim. Removing a message with its reason: as the moderator where the
 * service can act as them and the homeserver gives them the level, else as the bot.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { MatrixHttpError, MatrixUnreachableError } from '../adapters/matrix/errors.js';
import { redactAsBot } from '../adapters/matrix/message-changes.js';
import { createRoomStore, type RoomRecord } from '../adapters/store/rooms.js';
import type { Db } from '../adapters/store/db.js';
import type { Config } from '../lib/config.js';
import type { RoomRef } from '../vocabulary/contract.js';
import { slugProblem } from '../vocabulary/ids.js';
import { moderationRefusal } from '../vocabulary/moderation.js';
import { ApiError } from './errors.js';
import type { RelayActions } from './relay/actions.js';
import { roomTarget, roomTenant } from './routes/room-access.js';
import { DELETABLE_TYPES, redactRefusal } from './relay/message-changes.js';
import type { RelayEnv } from './relay/user-auth.js';
import { assertValid } from './spec/validation.js';
import type { UserDirectory } from './user-directory.js';

/** The room's stored record, checked to be moderated by `actorSlug` (and `targetSlug` a member below them). */
export async function moderatedRoom(
  config: Pick<Config, 'rooms'>,
  db: Db,
  entity: RoomRef,
  named: string,
  actorSlug: string,
  targetSlug?: string,
): Promise<RoomRecord> {
  assertValid(slugProblem(actorSlug, 'actorSlug'));
  const record = await createRoomStore(db).get(entity.tenant, entity.kind, entity.slug);
  if (!record) throw new ApiError('M_NOT_FOUND', `no ${entity.kind} "${named}" for tenant ${entity.tenant}`);
  if (record.status === 'archived') throw new ApiError('OM_ROOM_ARCHIVED', `${entity.kind} "${named}" is archived`);
  let target: { slug: string; role: string } | undefined;
  if (targetSlug !== undefined) {
    const role = record.members[targetSlug];
    if (role === undefined) throw new ApiError('M_NOT_FOUND', `${targetSlug} is not a member of ${entity.kind} "${named}"`);
    target = { slug: targetSlug, role };
  }
  const refusal = moderationRefusal(config.rooms.powerLevels, entity.kind, { slug: actorSlug, role: record.members[actorSlug] }, target);
  if (refusal) throw new ApiError('M_FORBIDDEN', refusal);
  return record;
}

const upstream = (err: unknown, what: string): ApiError => {
  if (err instanceof MatrixHttpError && err.status === 403) return new ApiError('M_FORBIDDEN', `${what}: the homeserver refused (${err.message})`);
  if (err instanceof MatrixHttpError && err.status === 404) return new ApiError('M_NOT_FOUND', `${what}: ${err.message}`);
  if (err instanceof MatrixUnreachableError) return new ApiError('OM_UNAVAILABLE', `${what}: the homeserver is unreachable; retry later`);
  if (err instanceof MatrixHttpError) return new ApiError('OM_UPSTREAM_FAILED', `${what}: the homeserver answered ${err.status}`);
  return err as ApiError;
};

/**
 * `DELETE …/messages/{eventId}` with `actorSlug`: a moderator removes a message with its reason.
 * Answers who redacted it (`redactedBy`: the moderator's Matrix id, or the bot's).
 */
export async function moderatorRemoval(
  c: Context<RelayEnv>,
  deps: { config: Config; db: Db; actions: Pick<RelayActions, 'resolveRoom' | 'isJoined' | 'changes'>; directory: UserDirectory },
  input: { eventId: string; actorSlug: string; reason: string | undefined; userSlug: string | undefined },
): Promise<{ roomId: string; eventId: string; redactionId: string; redactedBy: string }> {
  const { config, db, actions, directory } = deps;
  if (c.get('actor').kind !== 'service')
    throw new ApiError('M_FORBIDDEN', 'only the platform (a service token) names the acting moderator in "actorSlug"');
  assertValid(slugProblem(input.actorSlug, 'actorSlug'));
  const room = await actions.resolveRoom(roomTenant(c), roomTarget(c));
  if (input.userSlug !== undefined) throw new ApiError('M_INVALID_PARAM', 'give "actorSlug" (a moderator removing) or "userSlug" (a user deleting), not both');
  if (input.reason === undefined) throw new ApiError('M_BAD_JSON', 'a moderator removing a message gives the "reason"');
  const entity = { tenant: room.tenant, kind: room.kind, slug: room.entitySlug ?? room.slug };
  await moderatedRoom(config, db, entity, room.slug, input.actorSlug, undefined);
  const bot = `@${config.matrix.botLocalpart}:${config.matrix.serverName}`;
  const { eventId, reason } = input;
  const event = await actions.changes.reads.event(room.roomId, eventId, bot).catch((err: unknown) => {
    throw upstream(err, 'the message could not be read');
  });
  if (!event) throw new ApiError('M_NOT_FOUND', `no event ${eventId} in this room`);
  if (!DELETABLE_TYPES.includes(event.type ?? ''))
    throw new ApiError('M_INVALID_PARAM', `event ${eventId} is a ${event.type}: only messages and reactions are removed here`);
  const moderator = await directory.resolve(room.tenant, input.actorSlug);
  const levels = await actions.changes.reads.powerLevels(room.roomId).catch((err: unknown) => {
    throw upstream(err, 'the power levels could not be read');
  });
  const asThemselves =
    moderator.canActAs &&
    redactRefusal(levels, moderator.userId, event.sender ?? '') === null &&
    (await actions.isJoined(moderator.userId, room.roomId));
  if (asThemselves) {
    const who = { tenant: room.tenant, userSlug: input.actorSlug, userId: moderator.userId };
    const { redactionId } = await actions.changes.redact(who, room.roomId, eventId, reason);
    return { roomId: room.roomId, eventId, redactionId, redactedBy: moderator.userId };
  }
  const { homeserverUrl, asToken } = config.matrix;
  const r = await redactAsBot(homeserverUrl, asToken, { roomId: room.roomId, eventId, txnId: `om1.${randomUUID()}`, reason }).catch(
    (err: unknown) => {
      throw upstream(err, 'the message could not be removed');
    },
  );
  return { roomId: room.roomId, eventId, redactionId: r.eventId, redactedBy: bot };
}
