import { parseSentNotice } from '../../adapters/store/sent-notices.js';

/** A wait for one send's notice; `cancel` when the answer came another way. */
export interface SentWait {
  /** The event id, once the worker has announced the send. */
  readonly eventId: Promise<string>;
  cancel(): void;
}

/**
 * The senders of this instance waiting for their message to be on the homeserver, by workflow id.
 * The feed's LISTEN connection hands every `om_message_sent` payload to `deliver`; only sends
 * someone here is waiting for are kept, and only while they wait (decision 0018).
 */
export interface SentWaiters {
  wait(workflowId: string): SentWait;
  deliver(payload: string | undefined): void;
  /** Sends waited for now. */
  readonly size: number;
}

export function createSentWaiters(): SentWaiters {
  const waiting = new Map<string, Set<(eventId: string) => void>>();
  const forget = (workflowId: string, resolve: (eventId: string) => void): void => {
    const set = waiting.get(workflowId);
    if (!set) return;
    set.delete(resolve);
    if (set.size === 0) waiting.delete(workflowId);
  };
  return {
    wait(workflowId) {
      let resolve!: (eventId: string) => void;
      const eventId = new Promise<string>((r) => (resolve = r));
      let set = waiting.get(workflowId);
      if (!set) waiting.set(workflowId, (set = new Set()));
      set.add(resolve);
      return { eventId, cancel: () => forget(workflowId, resolve) };
    },
    deliver(payload) {
      const notice = parseSentNotice(payload);
      if (!notice) return;
      const set = waiting.get(notice.workflowId);
      if (!set) return;
      waiting.delete(notice.workflowId);
      for (const resolve of set) resolve(notice.eventId);
    },
    get size() {
      let n = 0;
      for (const set of waiting.values()) n += set.size;
      return n;
    },
  };
}
