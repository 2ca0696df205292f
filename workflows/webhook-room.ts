/**
 * `webhook:{tenant}:{roomKey}`: delivers one room's webhook deliveries in order (decision 0049).
 * One attempt at a time at the room's oldest pending delivery; a failed attempt is waited out on a
 * durable timer (WEBHOOK_BACKOFF: 5 s doubling to 10 minutes) and tried again, so a receiver down
 * for an hour holds the room's deliveries, in order, and loses none; other rooms' workflows go on.
 * Ends when the room has nothing pending (the sweeper's signal, arriving meanwhile, keeps it going),
 * or when the subscription is stopped (the receiver answered 410, or it was deleted).
 */
import { continueAsNew, log, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { createWebhookActivities } from '../activities/webhooks.js';
import {
  WEBHOOK_BACKOFF,
  webhookBackoffMs,
  webhookStateQuery,
  webhookWakeSignal,
  type WebhookRoomInput,
  type WebhookRoomState,
} from '../vocabulary/webhooks.js';

type WebhookActivities = ReturnType<typeof createWebhookActivities>;

// The activity answers every HTTP outcome itself; these retries are for the database or the worker.
const { attemptWebhookDelivery } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export interface WebhookRoomResult {
  delivered: number;
  stopped?: string;
}

export async function webhookRoomWorkflow(input: WebhookRoomInput): Promise<WebhookRoomResult> {
  const backoff = input.backoff ?? WEBHOOK_BACKOFF;
  const state: WebhookRoomState = { tenant: input.tenant, roomKey: input.roomKey, delivered: input.delivered ?? 0, failing: null };
  let woken = false;
  setHandler(webhookWakeSignal, () => {
    woken = true;
  });
  setHandler(webhookStateQuery, () => state);
  let failures = input.failures ?? 0;
  for (;;) {
    // Signals and a long outage's attempts grow the history: a new run carries the count on.
    if (workflowInfo().continueAsNewSuggested)
      return continueAsNew<typeof webhookRoomWorkflow>({ ...input, delivered: state.delivered, failures });
    woken = false;
    const attempt = await attemptWebhookDelivery({ tenant: input.tenant, roomKey: input.roomKey });
    if (attempt.outcome === 'none') {
      if (woken) continue;
      return { delivered: state.delivered };
    }
    if (attempt.outcome === 'stopped') {
      log.warn('webhook subscription stopped', { tenant: input.tenant, reason: attempt.reason });
      return { delivered: state.delivered, stopped: attempt.reason };
    }
    if (attempt.outcome === 'delivered' || attempt.outcome === 'failed') {
      if (attempt.outcome === 'delivered') state.delivered += 1;
      else log.warn('webhook delivery given up', { tenant: input.tenant, id: attempt.id, error: attempt.error });
      failures = 0;
      state.failing = null;
      continue;
    }
    failures += 1;
    const wait = webhookBackoffMs(failures, backoff);
    state.failing = {
      id: attempt.id,
      attempts: failures,
      error: attempt.error,
      nextAttemptAt: new Date(Date.now() + wait).toISOString(),
    };
    await sleep(wait);
  }
}
