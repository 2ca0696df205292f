/**
 * What a user does to messages besides sending them (decision 0044), as the user through the
 * identity adapter (their token, or the appservice's assertion): deleting (a redaction, with a
 * reason) and reacting (an `m.reaction` annotation). Throws what `identity.actAs` throws.
 */
import type { Identity } from '../identity/types.js';
import { enc, matrixRequest } from './http.js';
import { putEventAs } from './put-as-user.js';

interface AsUser {
  tenant: string;
  userSlug: string;
  roomId: string;
  /** The Matrix transaction id: a repeat with the same one is answered with the same event. */
  txnId: string;
}

/** `PUT /rooms/{id}/redact/{eventId}/{txn}` as the user; the redaction's event id. */
export function redactAs(
  identity: Identity,
  homeserverUrl: string,
  input: AsUser & { eventId: string; reason?: string },
): Promise<{ eventId: string }> {
  return putEventAs(identity, homeserverUrl, input, {
    path: `/_matrix/client/v3/rooms/${enc(input.roomId)}/redact/${enc(input.eventId)}/${enc(input.txnId)}`,
    body: input.reason === undefined ? {} : { reason: input.reason },
  });
}

/** `PUT /rooms/{id}/send/m.reaction/{txn}` as the user: an `m.annotation` of the event with the key. */
export function reactAs(
  identity: Identity,
  homeserverUrl: string,
  input: AsUser & { eventId: string; key: string },
): Promise<{ eventId: string }> {
  return putEventAs(identity, homeserverUrl, input, {
    path: `/_matrix/client/v3/rooms/${enc(input.roomId)}/send/m.reaction/${enc(input.txnId)}`,
    body: { 'm.relates_to': { rel_type: 'm.annotation', event_id: input.eventId, key: input.key } },
  });
}

/** `PUT /rooms/{id}/redact/{eventId}/{txn}` as the service bot (the appservice's sender), with the reason. */
export async function redactAsBot(
  homeserverUrl: string,
  asToken: string,
  input: { roomId: string; eventId: string; txnId: string; reason: string },
): Promise<{ eventId: string }> {
  const r = await matrixRequest<{ event_id: string }>(homeserverUrl, {
    method: 'PUT',
    path: `/_matrix/client/v3/rooms/${enc(input.roomId)}/redact/${enc(input.eventId)}/${enc(input.txnId)}`,
    token: asToken,
    body: { reason: input.reason },
  });
  return { eventId: r.event_id };
}
