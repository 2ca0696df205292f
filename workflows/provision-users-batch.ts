import { ActivityFailure, ApplicationFailure, log, patched, setHandler } from '@temporalio/workflow';
import type { UsersBatchActivities } from '../activities/users-batch.js';
import { FailureType } from '../vocabulary/failures.js';
import {
  countOutcomes,
  emptyCounts,
  USERS_BATCH_ATTEMPTS,
  USERS_BATCH_CHUNK,
  USERS_BATCH_CHUNKS_IN_FLIGHT,
  usersBatchProgressQuery,
  type BatchUserOutcome,
  type UsersBatchInput,
  type UsersBatchProgress,
  type UsersBatchResult,
} from '../vocabulary/users-batch.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './heartbeat.js';
import { recordEntries } from './audit-record.js';
import { usersBatchAuditEntries } from './user-audit.js';

/**
 * A chunk retries what failed transiently (the activity resumes from its heartbeat); its last
 * attempt reports the users still failing as failed instead of throwing.
 */
const { provisionMatrixUsersChunk } = proxyActivitiesWithSummaries<UsersBatchActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: USERS_BATCH_ATTEMPTS,
  },
});

/** The chunk's users, each failed with the reason the chunk could not finish (no attempt was left). */
function chunkFailed(users: UsersBatchInput['users'], err: unknown): BatchUserOutcome[] {
  const cause = (err as ActivityFailure).cause as ApplicationFailure | undefined;
  const error = { type: cause?.type ?? FailureType.Unavailable, message: cause?.message ?? String(err) };
  return users.map((u) => ({ slug: u.slug, userId: u.userId, outcome: 'failed' as const, error }));
}

/** Chunks run USERS_BATCH_CHUNKS_IN_FLIGHT at a time (decision 0037); runs from before, one at a time. */
const CHUNKS_IN_FLIGHT = 'users-batch-chunks-in-flight';

/** Runs `run` for chunk 0, 1, … with at most `lanes` at once; each lane takes the next chunk when its own is done. */
async function inLanes(chunks: number, lanes: number, run: (k: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < chunks) await run(next++);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, chunks) }, lane));
}

/**
 * `users-batch:{tenant}:{batchId}` (decision 0035): provisions the batch's users chunk by chunk,
 * each user as the single route would (idempotent, read before write), and completes with every
 * user's outcome in request order. Its progress query says how many users are done (whole chunks).
 */
export async function provisionUsersBatchWorkflow(input: UsersBatchInput): Promise<UsersBatchResult> {
  const progress: UsersBatchProgress = {
    tenant: input.tenant,
    batchId: input.batchId,
    total: input.users.length,
    done: 0,
    counts: emptyCounts(),
  };
  setHandler(usersBatchProgressQuery, () => progress);
  const chunks = Math.ceil(input.users.length / USERS_BATCH_CHUNK);
  const outcomes: BatchUserOutcome[][] = new Array<BatchUserOutcome[]>(chunks);
  const run = async (k: number): Promise<void> => {
    const offset = k * USERS_BATCH_CHUNK;
    const users = input.users.slice(offset, offset + USERS_BATCH_CHUNK);
    let chunk: BatchUserOutcome[];
    try {
      chunk = await provisionMatrixUsersChunk({
        tenant: input.tenant,
        batchId: input.batchId,
        offset,
        users: users.map((u) => ({ slug: u.slug, displayName: u.displayName })),
      });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      chunk = chunkFailed(users, err);
    }
    outcomes[k] = chunk;
    countOutcomes(chunk, progress.counts);
    progress.done += chunk.length;
  };
  await inLanes(chunks, patched(CHUNKS_IN_FLIGHT) ? USERS_BATCH_CHUNKS_IN_FLIGHT : 1, run);
  log.info('users batch done', { batchId: input.batchId, ...progress.counts });
  const users = outcomes.flat();
  // Recorded in the audit trail when the batch carries an origin (nothing awaited otherwise: audit-record.ts).
  const audited = recordEntries(usersBatchAuditEntries(input, users));
  if (audited) await audited;
  return { tenant: input.tenant, batchId: input.batchId, total: users.length, counts: progress.counts, users };
}
