import { ActivityFailure, ApplicationFailure, log, setHandler } from '@temporalio/workflow';
import type { UsersBatchActivities } from '../activities/users-batch.js';
import { FailureType } from '../vocabulary/failures.js';
import {
  countOutcomes,
  emptyCounts,
  USERS_BATCH_ATTEMPTS,
  USERS_BATCH_CHUNK,
  usersBatchProgressQuery,
  type BatchUserOutcome,
  type UsersBatchInput,
  type UsersBatchProgress,
  type UsersBatchResult,
} from '../vocabulary/users-batch.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './heartbeat.js';

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

/**
 * `users-batch:{tenant}:{batchId}` (decision 0035): provisions the batch's users chunk by chunk,
 * each user as the single route would (idempotent, read before write), and completes with every
 * user's outcome in request order. Its progress query says how many users are done.
 */
export async function provisionUsersBatchWorkflow(input: UsersBatchInput): Promise<UsersBatchResult> {
  const outcomes: BatchUserOutcome[] = [];
  const progress: UsersBatchProgress = {
    tenant: input.tenant,
    batchId: input.batchId,
    total: input.users.length,
    done: 0,
    counts: emptyCounts(),
  };
  setHandler(usersBatchProgressQuery, () => progress);
  for (let offset = 0; offset < input.users.length; offset += USERS_BATCH_CHUNK) {
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
    outcomes.push(...chunk);
    countOutcomes(chunk, progress.counts);
    progress.done = outcomes.length;
  }
  log.info('users batch done', { batchId: input.batchId, ...progress.counts });
  return { tenant: input.tenant, batchId: input.batchId, total: outcomes.length, counts: progress.counts, users: outcomes };
}
