import type { SendMessageInput } from '../vocabulary/contract.js';
import type { Identity } from '../adapters/identity/index.js';
import { authorized, enc, matrixRequest } from '../adapters/matrix/http.js';
import { sendMessageAs } from '../adapters/matrix/message-send.js';
import type { OutboxKey } from '../adapters/store/outbox.js';
import type { SentNotice } from '../adapters/store/sent-notices.js';

export { matrixTxnId } from '../adapters/matrix/message-send.js';

export interface MessageActivityDeps {
  identity: Identity;
  homeserverUrl: string;
  /** Tells the API a send is on the homeserver before the workflow has recorded it (decision 0018). */
  announceSent?: (notice: SentNotice) => Promise<void>;
  /** Records the event id on the message's outbox row (decision 0036); a send with no row is left alone. */
  recordSent?: (key: OutboxKey, eventId: string) => Promise<unknown>;
  /** Whether a room is end-to-end encrypted: sends into it fail for good (decision 0046). */
  roomEncrypted?: (roomId: string) => Promise<boolean>;
}

/** What users do in rooms, each acting as the user (adapters/identity/: their token, or the appservice's assertion). */
export function createMessageActivities(deps: MessageActivityDeps) {
  const hs = deps.homeserverUrl;
  return {
    /**
     * Sends the message as the user; idempotent by the workflow's transaction id. The retry path of
     * a send the API could not finish itself (decision 0036): the outbox row is settled here.
     */
    async sendMessageAsUser(input: SendMessageInput & { workflowId: string }): Promise<{ eventId: string }> {
      const sent = await sendMessageAs(deps.identity, hs, input, undefined, deps.roomEncrypted);
      // Awaited: a failure retries the activity, whose PUT the homeserver deduplicates.
      await deps.recordSent?.(
        { tenant: input.tenant, userSlug: input.userSlug, txnId: input.clientTxnId },
        sent.eventId,
      );
      // Best effort, not awaited: a lost notice only means the sender hears it from the workflow.
      deps.announceSent?.({ workflowId: input.workflowId, eventId: sent.eventId }).catch(() => undefined);
      return sent;
    },

    /** Sets (or clears) the user's typing notification in the room. */
    async setTypingAsUser(input: {
      tenant: string;
      userSlug: string;
      roomId: string;
      typing: boolean;
      timeoutMs: number;
    }): Promise<void> {
      await deps.identity.actAs({ tenant: input.tenant, slug: input.userSlug }, async (as) => {
        await matrixRequest(
          hs,
          authorized(as, {
            method: 'PUT',
            path: `/_matrix/client/v3/rooms/${enc(input.roomId)}/typing/${enc(as.userId)}`,
            body: input.typing ? { typing: true, timeout: input.timeoutMs } : { typing: false },
          }),
        );
      });
    },

    /** Moves the user's read receipt in the room to the event. */
    async sendReceiptAsUser(input: {
      tenant: string;
      userSlug: string;
      roomId: string;
      eventId: string;
    }): Promise<void> {
      await deps.identity.actAs({ tenant: input.tenant, slug: input.userSlug }, async (as) => {
        await matrixRequest(
          hs,
          authorized(as, {
            method: 'POST',
            path: `/_matrix/client/v3/rooms/${enc(input.roomId)}/receipt/m.read/${enc(input.eventId)}`,
            body: {},
          }),
        );
      });
    },
  };
}

export type MessageActivities = ReturnType<typeof createMessageActivities>;
