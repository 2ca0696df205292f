import { condition, continueAsNew, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { MessageActivities } from '../activities/messages.js';
import { asUser } from './as-user.js';
import { ephemeralSignal, type EphemeralInput } from '../vocabulary/contract.js';

// Typing and receipts are only worth sending while fresh: a few quick attempts, then let go.
const acts = proxyActivities<MessageActivities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    maximumAttempts: 4,
  },
});

/** At most one "is typing" call per user and room in this window, however often the client says so. */
export const TYPING_WINDOW_MS = 15_000;
/** How long the homeserver shows our typing notification: longer than the window, so it stays on while the user types. */
export const TYPING_TIMEOUT_MS = 25_000;
/** Quiet time after which the workflow completes (the next request starts a new run). */
const IDLE_MS = 30_000;

/**
 * `ephemeral:{tenant}:{userSlug}:{kind}:{slug}`: one user's typing and read receipts in one room,
 * applied one at a time in order. Requests arrive as signals (signal-with-start from any API
 * instance), so the 15-second typing rule holds across instances: "typing" is sent at most once
 * per window (a request inside the window waits for its end, and is dropped if "stopped" comes
 * first); "stopped typing" is sent at once; read receipts coalesce to the latest.
 */
export async function ephemeralWorkflow(input: EphemeralInput): Promise<void> {
  let typingSent = input.carried?.typingSent ?? false;
  let lastTypingAt = input.carried?.lastTypingAt ?? 0;
  let want: boolean | null = null;
  let readUpTo: string | null = null;
  let signals = 0;
  let lastSignalAt = Date.now();

  setHandler(ephemeralSignal, (req) => {
    signals += 1;
    lastSignalAt = Date.now();
    if (typeof req.typing === 'boolean') want = req.typing;
    if (typeof req.readEventId === 'string') readUpTo = req.readEventId;
  });

  const who = { tenant: input.tenant, userSlug: input.userSlug, roomId: input.roomId };
  const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await asUser(input.tenant, input.userSlug, fn);
    } catch (err) {
      // Ephemeral: a refused or failed call is reported here and in the history, never retried later.
      log.warn(`${what} failed; dropped`, { error: String(err) });
    }
  };
  const nextSignal = (timeoutMs: number): Promise<boolean> => {
    const seen = signals;
    return condition(() => signals !== seen, timeoutMs);
  };

  for (;;) {
    const now = Date.now();
    // The homeserver lets a typing notification expire by itself.
    if (typingSent && now - lastTypingAt >= TYPING_TIMEOUT_MS) typingSent = false;
    if (readUpTo !== null) {
      const eventId: string = readUpTo;
      readUpTo = null;
      await attempt('read receipt', () => acts.sendReceiptAsUser({ ...who, eventId }));
      continue;
    }
    if (want === false) {
      want = null;
      if (typingSent) {
        typingSent = false;
        await attempt('stopped typing', () => acts.setTypingAsUser({ ...who, typing: false, timeoutMs: 0 }));
      }
      continue;
    }
    if (want === true) {
      const wait = lastTypingAt + TYPING_WINDOW_MS - now;
      if (wait > 0) {
        await nextSignal(wait);
        continue;
      }
      want = null;
      typingSent = true;
      lastTypingAt = now;
      await attempt('typing', () => acts.setTypingAsUser({ ...who, typing: true, timeoutMs: TYPING_TIMEOUT_MS }));
      continue;
    }
    const quietLeft = lastSignalAt + IDLE_MS - now;
    if (quietLeft <= 0) return;
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof ephemeralWorkflow>({ ...input, carried: { typingSent, lastTypingAt } });
    }
    await nextSignal(quietLeft);
  }
}
