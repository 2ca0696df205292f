import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { SendMessageInput } from '../../vocabulary/contract.js';
import type { Identity } from '../identity/types.js';
import { enc } from './http.js';
import { putEventAs } from './put-as-user.js';
import { messageContent } from './message-content.js';

/**
 * The Matrix transaction id of a send, derived from its `msg:` id (decision 0026): whoever sends
 * it — the API itself, the workflow's activity, a retry of either — sends the same id, and the
 * homeserver answers a repeat with the event it already has instead of posting the message again.
 */
export function matrixTxnId(workflowId: string): string {
  return `om1.${createHash('sha256').update(workflowId).digest('base64url')}`;
}

/**
 * `PUT /rooms/{id}/send/m.room.message/{txn}` as the user (their token, or the appservice's
 * assertion: adapters/identity/); the content as message-content.ts builds it (rich text, replies,
 * edits), with the client's transaction id in it for the relay's echo. Throws what `identity.actAs`
 * throws: an ApplicationFailure, non-retryable for a refusal.
 * `isEncrypted`: whether the room is end-to-end encrypted; then nothing is sent and the send fails
 * for good as `RoomEncrypted` — the service never puts plaintext into an encrypted room (decision 0046).
 */
export async function sendMessageAs(
  identity: Identity,
  homeserverUrl: string,
  input: SendMessageInput & { workflowId: string },
  timeoutMs?: number,
  isEncrypted?: (roomId: string) => Promise<boolean>,
): Promise<{ eventId: string }> {
  if (isEncrypted && (await isEncrypted(input.roomId))) throw roomEncrypted(input.roomId);
  return putEventAs(identity, homeserverUrl, input, {
    path: `/_matrix/client/v3/rooms/${enc(input.roomId)}/send/m.room.message/${enc(matrixTxnId(input.workflowId))}`,
    body: messageContent(input),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

/** The refusal of a send into an encrypted room: non-retryable, answered `409 OM_ROOM_ENCRYPTED`. */
export function roomEncrypted(roomId: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `room ${roomId} is end-to-end encrypted: the service never sends plaintext into it; only the user's own client can`,
    type: FailureType.RoomEncrypted,
    nonRetryable: true,
  });
}
