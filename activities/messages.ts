import { createHash } from 'node:crypto';
import { CLIENT_TXN_ID_KEY, type SendMessageInput } from '../vocabulary/contract.js';
import type { Identity } from '../adapters/identity/index.js';
import { authorized, enc, matrixRequest } from '../adapters/matrix/http.js';
import type { SentNotice } from '../adapters/store/sent-notices.js';

export interface MessageActivityDeps {
  identity: Identity;
  homeserverUrl: string;
  /** Tells the API a send is on the homeserver before the workflow has recorded it (decision 0018). */
  announceSent?: (notice: SentNotice) => Promise<void>;
}

/**
 * The Matrix transaction id of a send, derived from its workflow id: a retried activity (or a
 * repeated client transaction id) re-sends with the same id, and the homeserver answers with the
 * event it already has instead of posting the message again.
 */
export function matrixTxnId(workflowId: string): string {
  return `om1.${createHash('sha256').update(workflowId).digest('base64url')}`;
}

/** What users do in rooms, each acting as the user (adapters/identity/: their token, or the appservice's assertion). */
export function createMessageActivities(deps: MessageActivityDeps) {
  const hs = deps.homeserverUrl;
  return {
    /** Sends the message as the user; idempotent by the workflow's transaction id. */
    async sendMessageAsUser(input: SendMessageInput & { workflowId: string }): Promise<{ eventId: string }> {
      const content = { msgtype: input.msgtype, body: input.body, [CLIENT_TXN_ID_KEY]: input.clientTxnId };
      const user = { tenant: input.tenant, slug: input.userSlug };
      const sent = await deps.identity.actAs(user, async (as) => {
        const r = await matrixRequest<{ event_id: string }>(
          hs,
          authorized(as, {
            method: 'PUT',
            path: `/_matrix/client/v3/rooms/${enc(input.roomId)}/send/m.room.message/${enc(matrixTxnId(input.workflowId))}`,
            body: content,
          }),
        );
        return { eventId: r.event_id };
      });
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
