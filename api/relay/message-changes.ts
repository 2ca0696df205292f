/**
 * Deleting, reacting and the checks before an edit (decision 0044), for the HTTP routes and the
 * socket alike. Permissions are read from the homeserver (the room's power levels, the event's
 * sender) and checked before anything is done as the user: a refusal is a 403 naming why.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { identityFor, type Identity } from '../../adapters/identity/index.js';
import { MatrixHttpError, MatrixUnreachableError } from '../../adapters/matrix/errors.js';
import { reactAs, redactAs } from '../../adapters/matrix/message-changes.js';
import type { Db } from '../../adapters/store/db.js';
import { createUserStore } from '../../adapters/store/users.js';
import type { Config } from '../../lib/config.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { FailureType } from '../../vocabulary/failures.js';
import type { UnknownTokenDetails } from '../../vocabulary/user-contract.js';
import { reauthUser } from '../../starters/starters.js';
import type { Client } from '@temporalio/client';
import { ApiError } from '../errors.js';
import { createMessageReads, type MatrixEvent, type MessageReads, type PowerLevels } from './message-reads.js';

export interface Actor {
  tenant: string;
  userSlug: string;
  userId: string;
}

export interface MessageChanges {
  /** An edit's target: there, a message, the user's own and not itself an edit; else 404 / 403 / 400. */
  assertEditable(who: Actor, roomId: string, eventId: string): Promise<void>;
  /** A reply's target: there (404 otherwise). */
  assertVisible(who: Actor, roomId: string, eventId: string): Promise<void>;
  /** Deletes the event as the user, after the power-level check; the redaction's event id. */
  redact(who: Actor, roomId: string, eventId: string, reason?: string): Promise<{ redactionId: string }>;
  /** Reacts with `key`; reacting again with the same key answers the reaction already there. */
  react(who: Actor, roomId: string, eventId: string, key: string): Promise<{ reactionId: string }>;
  /** Takes the user's reaction with `key` back (redacts it); 404 when there is none. */
  unreact(who: Actor, roomId: string, eventId: string, key: string): Promise<{ reactionIds: string[] }>;
  readonly reads: MessageReads;
}

/** Event types the delete route removes: messages and reactions, never room state. */
export const DELETABLE_TYPES = ['m.room.message', 'm.sticker', 'm.reaction'];

/**
 * Why the user may not delete a message sent by `sender` (null: they may). The spec's rules: sending
 * the redaction needs the `m.room.redaction` event level (else `events_default`); someone else's
 * event needs the room's `redact` level (default 50); one's own needs no more.
 */
export function redactRefusal(pl: PowerLevels, userId: string, sender: string): string | null {
  const level = pl.users?.[userId] ?? pl.users_default ?? 0;
  const toSend = pl.events?.['m.room.redaction'] ?? pl.events_default ?? 0;
  if (level < toSend) return `deleting messages in this room needs power level ${toSend}; yours is ${level}`;
  const redact = pl.redact ?? 50;
  if (sender !== userId && level < redact)
    return `only its sender or someone with power level ${redact} or more (a host or moderator) may delete this message; yours is ${level}`;
  return null;
}

/** A homeserver failure while reading, as the caller is told. */
function readFailure(err: unknown): never {
  if (err instanceof MatrixHttpError && err.status === 403)
    throw new ApiError('M_FORBIDDEN', 'the homeserver does not let this user see that event');
  if (err instanceof MatrixUnreachableError)
    throw new ApiError('OM_UNAVAILABLE', 'the homeserver is unreachable; retry later');
  if (err instanceof MatrixHttpError) throw new ApiError('OM_UPSTREAM_FAILED', `the homeserver answered ${err.status}`);
  throw err;
}

const CHANGE_ERRCODES = {
  [FailureType.Forbidden]: 'M_FORBIDDEN',
  [FailureType.NotFound]: 'M_NOT_FOUND',
  [FailureType.BadRequest]: 'M_INVALID_PARAM',
  [FailureType.UserNotManaged]: 'OM_USER_NOT_MANAGED',
} as const;

/** What acting as the user threw (identity.actAs: an ApplicationFailure), as the caller is told. */
export function changeFailure(err: unknown, what: string): ApiError {
  const f = err instanceof ApplicationFailure ? err : null;
  const errcode = f?.nonRetryable ? CHANGE_ERRCODES[f.type as keyof typeof CHANGE_ERRCODES] : undefined;
  if (errcode) return new ApiError(errcode, `${what}: ${f!.message}`);
  return new ApiError('OM_UNAVAILABLE', `${what}: the homeserver did not take it (${f?.message ?? String(err)}); retry`);
}

const matrixErrcode = (err: unknown): string | null => {
  const details = err instanceof ApplicationFailure ? (err.details?.[0] as { errcode?: string } | undefined) : undefined;
  return details?.errcode ?? null;
};
const relatesTo = (e: MatrixEvent): Record<string, unknown> =>
  (e.content?.['m.relates_to'] as Record<string, unknown> | undefined) ?? {};

/** Renews the user's refused token (the `user-auth:` workflow, as sends do), given the refused generation. */
export type RenewToken = (who: Actor, staleGeneration: number) => Promise<void>;

export function messageChangesWith(
  identity: Identity,
  homeserverUrl: string,
  reads: MessageReads,
  renew?: RenewToken,
): MessageChanges {
  /** As the user; a refused token (admin mode: logged out) is renewed once and the call made again. */
  const renewing = async <T>(who: Actor, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (!renew || !(err instanceof ApplicationFailure) || err.type !== FailureType.UnknownToken) throw err;
      await renew(who, (err.details?.[0] as UnknownTokenDetails | undefined)?.generation ?? 0);
      return fn();
    }
  };
  const seen = async (who: Actor, roomId: string, eventId: string): Promise<MatrixEvent> => {
    const event = await reads.event(roomId, eventId, who.userId).catch(readFailure);
    if (!event) throw new ApiError('M_NOT_FOUND', `no event ${eventId} in this room`);
    return event;
  };
  const asUser = (who: Actor, roomId: string) => ({ tenant: who.tenant, userSlug: who.userSlug, roomId, txnId: `om1.${randomUUID()}` });
  const mine = async (who: Actor, roomId: string, eventId: string, key: string): Promise<string[]> => {
    const all = await reads.relations(roomId, eventId, who.userId, 'm.annotation', 'm.reaction').catch(readFailure);
    return all.filter((e) => e.sender === who.userId && relatesTo(e).key === key).map((e) => e.event_id!);
  };
  const redactOne = async (who: Actor, roomId: string, eventId: string, reason?: string): Promise<string> => {
    const input = { ...asUser(who, roomId), eventId, ...(reason === undefined ? {} : { reason }) };
    const r = await renewing(who, () => redactAs(identity, homeserverUrl, input))
      .catch((err: unknown) => { throw changeFailure(err, 'the message could not be deleted'); });
    return r.eventId;
  };
  return {
    reads,
    async assertEditable(who, roomId, eventId) {
      const event = await seen(who, roomId, eventId);
      if (event.type !== 'm.room.message') throw new ApiError('M_INVALID_PARAM', `event ${eventId} is not a message`);
      if (event.sender !== who.userId)
        throw new ApiError('M_FORBIDDEN', `only its sender may edit a message; ${eventId} was sent by ${event.sender}`);
      if (relatesTo(event).rel_type === 'm.replace')
        throw new ApiError('M_INVALID_PARAM', `event ${eventId} is an edit: edit the original message instead`);
      if (!event.content || Object.keys(event.content).length === 0)
        throw new ApiError('M_INVALID_PARAM', `message ${eventId} was deleted`);
    },
    async assertVisible(who, roomId, eventId) {
      await seen(who, roomId, eventId);
    },
    async redact(who, roomId, eventId, reason) {
      const event = await seen(who, roomId, eventId);
      if (!DELETABLE_TYPES.includes(event.type ?? ''))
        throw new ApiError('M_INVALID_PARAM', `event ${eventId} is a ${event.type}: only messages and reactions are deleted here`);
      const refusal = redactRefusal(await reads.powerLevels(roomId).catch(readFailure), who.userId, event.sender ?? '');
      if (refusal) throw new ApiError('M_FORBIDDEN', refusal);
      return { redactionId: await redactOne(who, roomId, eventId, reason) };
    },
    async react(who, roomId, eventId, key) {
      const target = await seen(who, roomId, eventId);
      if (target.type !== 'm.room.message' && target.type !== 'm.sticker')
        throw new ApiError('M_INVALID_PARAM', `event ${eventId} is not a message`);
      try {
        const input = { ...asUser(who, roomId), eventId, key };
        return { reactionId: (await renewing(who, () => reactAs(identity, homeserverUrl, input))).eventId };
      } catch (err) {
        // Synapse refuses the same reaction twice; the one already there is the answer.
        const there = matrixErrcode(err) === 'M_DUPLICATE_ANNOTATION' ? await mine(who, roomId, eventId, key) : [];
        if (there[0]) return { reactionId: there[0] };
        throw changeFailure(err, 'the reaction could not be sent');
      }
    },
    async unreact(who, roomId, eventId, key) {
      const ids = await mine(who, roomId, eventId, key);
      if (ids.length === 0) throw new ApiError('M_NOT_FOUND', `you have not reacted to ${eventId} with that key`);
      for (const id of ids) await redactOne(who, roomId, id);
      return { reactionIds: ids };
    },
  };
}

/** The API's message changes, acting as users through the configured identity mode (both modes). */
export function createMessageChanges(config: Config, db: Db, temporal: Client): MessageChanges {
  const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
  const { identity } = identityFor(config, createUserStore(db, cipher));
  const renew: RenewToken = async (who, staleGeneration) => {
    await reauthUser(temporal, config, { tenant: who.tenant, slug: who.userSlug, staleGeneration });
  };
  return messageChangesWith(identity, config.matrix.homeserverUrl, createMessageReads(config), renew);
}
