/**
 * Finishes the accepted messages their sender did not (decision 0036): a row of the outbox still
 * pending after SWEEP_AFTER_MS — its API died between recording it and recording the event id, or
 * lost its connection to Temporal before the retry path started — gets its send workflow, which
 * sends it with the same Matrix transaction id (the homeserver deduplicates a PUT that did land).
 * It runs in every worker: the rows are in PostgreSQL, so whichever worker runs next, after any
 * process died, takes them up; workers sweeping at once start the same workflow id, which Temporal
 * runs once.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Db } from '../adapters/store/db.js';
import { createMessageOutbox, outboxInput, type MessageOutbox, type OutboxRow } from '../adapters/store/outbox.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { sendFailureOf } from '../starters/send-failure.js';
import { startSendMessage } from '../starters/starters.js';
import type { SendMessageResult } from '../vocabulary/contract.js';
import { messageWorkflowId } from '../vocabulary/ids.js';
import { periodic } from '../lib/periodic.js';

/** How often the outbox is read. */
export const SWEEP_EVERY_MS = 2_000;
/** A row pending this long has lost its sender (the API's own PUT gives up after 5 s: api/relay/direct-send.ts). */
export const SWEEP_AFTER_MS = 10_000;
/** Settled rows are kept this long (a repeat of the same txnId within it is answered from the row). */
export const OUTBOX_KEEP_MS = 7 * 24 * 3600_000;
const BATCH = 100;
const PRUNE_EVERY_MS = 3600_000;

/** What the sweep did with one row. */
export type SweepOutcome = 'started' | 'running' | 'sent' | 'failed' | 'skipped';

const notFound = (err: unknown): boolean =>
  err instanceof WorkflowNotFoundError || (err as Error | undefined)?.name === 'WorkflowNotFoundError';

/** Settles one pending row from its workflow, or starts the workflow when there is none for this acceptance. */
export async function sweepRow(
  client: Client,
  config: Config,
  outbox: MessageOutbox,
  row: OutboxRow,
): Promise<SweepOutcome> {
  const input = outboxInput(row);
  if (!input) return 'skipped';
  const handle = client.workflow.getHandle(messageWorkflowId(row.tenant, row.userSlug, row.txnId));
  let status: string | null = null;
  let closedAt: Date | undefined;
  try {
    const d = await handle.describe();
    status = d.status.name;
    closedAt = d.closeTime;
  } catch (err) {
    if (!notFound(err)) throw err;
  }
  // No run, or one that failed before this acceptance (a failed send taken up again): a new run.
  const stale = status !== null && status !== 'RUNNING' && status !== 'COMPLETED' && (closedAt ?? 0) < row.updatedAt;
  if (status === null || stale) {
    const start = await startSendMessage(client, config, input, row.requestId ?? undefined, row.userId ?? undefined);
    return start.started ? 'started' : 'running';
  }
  if (status === 'RUNNING') return 'running';
  if (status === 'COMPLETED') {
    const result = (await handle.result()) as SendMessageResult;
    await outbox.markSent(row, result.eventId);
    return 'sent';
  }
  let failure: unknown = new Error(`the send workflow ended ${status.toLowerCase()}`);
  await handle.result().catch((err: unknown) => (failure = err));
  const { errcode, message } = sendFailureOf(failure);
  await outbox.markFailed(row, errcode, message);
  return 'failed';
}

export interface OutboxSweeper {
  /** One pass now; what it did per row. */
  sweep(): Promise<SweepOutcome[]>;
  stop(): Promise<void>;
}

export function startOutboxSweeper(deps: { client: Client; config: Config; db: Db; log: Logger }): OutboxSweeper {
  const outbox = createMessageOutbox(deps.db);
  let prunedAt = 0;
  const sweep = async (): Promise<SweepOutcome[]> => {
    const rows = await outbox.pending(SWEEP_AFTER_MS, BATCH);
    const outcomes: SweepOutcome[] = [];
    for (const row of rows) {
      try {
        outcomes.push(await sweepRow(deps.client, deps.config, outbox, row));
      } catch (err) {
        deps.log.warn(
          { err, tenant: row.tenant, userSlug: row.userSlug, txnId: row.txnId },
          'outbox sweep: row left pending',
        );
      }
    }
    if (rows.length > 0) deps.log.info({ rows: rows.length, outcomes }, 'outbox sweep');
    if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = Date.now();
      await outbox.prune(OUTBOX_KEEP_MS);
    }
    return outcomes;
  };
  const loop = periodic(SWEEP_EVERY_MS, sweep, (err: unknown) =>
    deps.log.warn({ err }, 'outbox sweep failed; next in a moment'),
  );
  return { sweep, stop: () => loop.stop() };
}
