/**
 * Tells each room's webhook workflow of its new deliveries (decision 0049). The rows are recorded
 * with the events they come from (adapters/store/webhook-outbox.ts); every SWEEP_EVERY_MS the
 * sweeper reads the pending rows no workflow was told of, signals (or starts) their rooms'
 * workflows, and only then marks them told: a worker that dies in between leaves them to the next
 * sweep. Runs in every worker; two sweeping at once signal the same workflow twice, which is harmless.
 */
import type { Client } from '@temporalio/client';
import type { WebhookStore } from '../adapters/store/webhooks.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { wakeWebhookRoom } from '../starters/webhooks.js';
import { periodic } from '../lib/periodic.js';

export const WEBHOOK_SWEEP_EVERY_MS = 1_000;
/** Delivered and failed rows are kept this long for the deliveries route, then deleted. */
export const WEBHOOK_KEEP_MS = 7 * 24 * 3600_000;
const BATCH = 500;
const PRUNE_EVERY_MS = 3600_000;
/** Rooms told before whose deliveries saw no attempt for this long (past the 10-minute back-off) are told again. */
export const WEBHOOK_STALE_AFTER_MS = 15 * 60_000;
const STALE_EVERY_MS = 60_000;

export interface WebhookSweeper {
  /** One pass now; how many rooms were told. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startWebhookSweeper(deps: {
  client: Client;
  config: Config;
  webhooks: WebhookStore;
  log: Logger;
}): WebhookSweeper {
  let prunedAt = 0;
  let staleAt = Date.now();
  const sweep = async (): Promise<number> => {
    const rooms = await deps.webhooks.undispatched(BATCH);
    let told = 0;
    for (const room of rooms) {
      try {
        await wakeWebhookRoom(deps.client, deps.config, { tenant: room.tenant, roomKey: room.roomKey });
        await deps.webhooks.markDispatched(room.seqs);
        told += 1;
      } catch (err) {
        deps.log.warn(
          { err, tenant: room.tenant, roomKey: room.roomKey },
          'webhook sweep: room left for the next sweep',
        );
      }
    }
    if (Date.now() - staleAt > STALE_EVERY_MS) {
      staleAt = Date.now();
      for (const room of await deps.webhooks.stale(WEBHOOK_STALE_AFTER_MS, BATCH)) {
        await wakeWebhookRoom(deps.client, deps.config, room);
        told += 1;
      }
    }
    if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = Date.now();
      await deps.webhooks.prune(WEBHOOK_KEEP_MS);
    }
    return told;
  };
  const loop = periodic(WEBHOOK_SWEEP_EVERY_MS, sweep, (err: unknown) =>
    deps.log.warn({ err }, 'webhook sweep failed; next in a moment'),
  );
  return { sweep, stop: () => loop.stop() };
}
