/**
 * Sends the API makes itself (decision 0036): the accepted message is recorded in the outbox,
 * sent to the homeserver as the user, and its event id recorded; whatever is not confirmed is
 * finished by the send workflow (`msg:…`, the same Matrix transaction id) as the retry path.
 */
import { ApplicationFailure } from '@temporalio/common';
import { identityFor, type Identity } from '../../adapters/identity/index.js';
import { sendMessageAs } from '../../adapters/matrix/message-send.js';
import type { Db } from '../../adapters/store/db.js';
import { createMessageOutbox, type MessageOutbox } from '../../adapters/store/outbox.js';
import { createUserStore } from '../../adapters/store/users.js';
import type { Config } from '../../lib/config.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { sendFailureOf } from '../../starters/send-failure.js';
import type { SendMessageInput, SendMessageResult } from '../../vocabulary/contract.js';
import { FailureType } from '../../vocabulary/failures.js';
import { messageWorkflowId } from '../../vocabulary/ids.js';
import { ApiError, type ErrorCode } from '../errors.js';

export interface SendTicket {
  workflowId: string;
  /**
   * The event id once sent; rejects with an ApiError naming why it could not be, or with the
   * signal's reason once `signal` is aborted (the wait on Temporal and the notice are both dropped).
   */
  result(signal?: AbortSignal): Promise<SendMessageResult>;
}

/**
 * How long the API's own PUT may take before the send is handed to the workflow: well below the
 * worker's sweep age (worker/outbox-sweeper.ts), so the two rarely overlap (when they do, the
 * homeserver deduplicates the second PUT by the transaction id).
 */
export const DIRECT_SEND_TIMEOUT_MS = 5_000;

export interface DirectSends {
  readonly outbox: MessageOutbox;
  /** The homeserver's answer to the API's own PUT, classified. */
  attempt(input: SendMessageInput & { workflowId: string }): Promise<Attempt>;
}

type Attempt =
  | { kind: 'sent'; eventId: string }
  /** A permanent refusal (not a member, bad request, an account the service cannot act as). */
  | { kind: 'refused'; error: unknown }
  /** Anything a retry could cure, a token to renew included: the workflow takes over. */
  | { kind: 'retry'; error: unknown };

/** Permanent: a non-retryable activity failure other than a refused token (the workflow renews that one). */
function isRefusal(err: unknown): boolean {
  const f = err as ApplicationFailure | undefined;
  const isFailure = err instanceof ApplicationFailure || f?.name === 'ApplicationFailure';
  return isFailure && f?.nonRetryable === true && f.type !== FailureType.UnknownToken;
}

export function directSendsWith(outbox: MessageOutbox, identity: Identity, homeserverUrl: string): DirectSends {
  return {
    outbox,
    async attempt(input) {
      try {
        const { eventId } = await sendMessageAs(identity, homeserverUrl, input, DIRECT_SEND_TIMEOUT_MS);
        return { kind: 'sent', eventId };
      } catch (err) {
        return isRefusal(err) ? { kind: 'refused', error: err } : { kind: 'retry', error: err };
      }
    },
  };
}

/** The API's direct sends, acting as users through the configured identity mode (both modes). */
export function createDirectSends(config: Config, db: Db): DirectSends {
  const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
  // Only actAs is used here: in admin mode that reads the user's stored token, never the Admin API.
  const { identity } = identityFor(config, createUserStore(db, cipher));
  return directSendsWith(createMessageOutbox(db), identity, config.matrix.homeserverUrl);
}

/** `audit`: a send for the platform, recorded in the audit trail when it settles (decision 0060). */
type Message = SendMessageInput & { requestId?: string; userId?: string; audit?: { subject: string | null } };

/** Rejects with the signal's reason once it is aborted, else settles as `p` does. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * One send through the outbox. `viaWorkflow` starts (or joins) the send workflow: the retry path,
 * taken at once for a repeat of a send still pending and for a failure a retry could cure.
 */
export async function sendThroughOutbox(
  direct: DirectSends,
  message: Message,
  viaWorkflow: () => Promise<SendTicket>,
): Promise<SendTicket> {
  const { tenant, userSlug, clientTxnId, roomId } = message;
  const workflowId = messageWorkflowId(tenant, userSlug, clientTxnId);
  const key = { tenant, userSlug, txnId: clientTxnId };
  const result = (eventId: string): SendMessageResult => ({ eventId, roomId, userSlug, clientTxnId });
  const meta = { userId: message.userId, requestId: message.requestId, ...(message.audit ? { audit: message.audit } : {}) };
  const claim = await direct.outbox.claim(message, meta);
  if (!claim.owner) {
    const row = claim.row;
    if (row.roomId !== roomId)
      throw new ApiError('OM_TXN_CONFLICT', `txnId "${clientTxnId}" was already used for another message; use a new one`);
    if (row.status === 'sent' && row.eventId) {
      const answer = result(row.eventId);
      return { workflowId, result: (signal) => untilAborted(Promise.resolve(answer), signal) };
    }
    // Pending: its sender is still at it, or died. The workflow finishes it (the same Matrix
    // transaction id: a PUT racing the sender's is deduplicated by the homeserver).
    return viaWorkflow();
  }
  // Started here, not in result(): it runs to its end whether or not anyone waits for it (a 202,
  // a closed socket), outside any caller's abort signal.
  const settled = direct.attempt({ ...message, workflowId }).then(
    async (a): Promise<{ done: SendMessageResult } | { ticket: SendTicket }> => {
      if (a.kind === 'sent') {
        // Answered at once, recorded just after (decision 0036): should this process die in between,
        // the row is still pending, and the sweeper's resend (the same Matrix transaction id) gets
        // this same event back from the homeserver.
        direct.outbox.markSent(key, a.eventId).catch(() => undefined);
        return { done: result(a.eventId) };
      }
      if (a.kind === 'refused') {
        const { errcode, message: why } = sendFailureOf(a.error);
        await direct.outbox.markFailed(key, errcode, why);
        throw new ApiError(errcode as ErrorCode, why);
      }
      return { ticket: await viaWorkflow() };
    },
  );
  // Nobody may be waiting; a failure to record is finished by the sweeper (the row stays pending).
  settled.catch(() => undefined);
  return {
    workflowId,
    async result(signal) {
      const s = await untilAborted(settled, signal);
      return 'done' in s ? s.done : s.ticket.result(signal);
    },
  };
}
