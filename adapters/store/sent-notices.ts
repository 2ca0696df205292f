import type { Db } from './db.js';

/**
 * "This send is on the homeserver": the worker NOTIFYs it the moment the Matrix PUT answers, and
 * every API instance hears it, so the sender's answer does not wait for the workflow to record its
 * completion and the result long-poll to wake (decision 0018). The workflow stays the authority:
 * an answer always comes from it too, and whichever comes first is the same event id.
 */
export const SENT_CHANNEL = 'om_message_sent';

export interface SentNotice {
  workflowId: string;
  eventId: string;
}

/** Sends the notice (a NOTIFY outside any transaction: delivered at once). */
export function sentNotifier(db: Db): (notice: SentNotice) => Promise<void> {
  return async (notice) => {
    await db.query('SELECT pg_notify($1, $2)', [SENT_CHANNEL, JSON.stringify(notice)]);
  };
}

/** The notice in a NOTIFY payload, or null for anything else. */
export function parseSentNotice(payload: string | undefined): SentNotice | null {
  if (!payload) return null;
  try {
    const n = JSON.parse(payload) as Partial<SentNotice>;
    return typeof n.workflowId === 'string' && typeof n.eventId === 'string'
      ? { workflowId: n.workflowId, eventId: n.eventId }
      : null;
  } catch {
    return null;
  }
}
