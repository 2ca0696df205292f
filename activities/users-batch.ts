/**
 * The users batch's activity (decision 0035): one chunk of users provisioned with bounded
 * concurrency, each exactly as the single route's activity does it (read before write, the token
 * stored only if absent), each user's failure kept to that user.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../adapters/matrix/errors.js';
import { matrixUserId } from '../vocabulary/ids.js';
import {
  USERS_BATCH_ATTEMPTS,
  USERS_BATCH_CONCURRENCY,
  type BatchUser,
  type BatchUserOutcome,
  type UsersChunkInput,
} from '../vocabulary/users-batch.js';
import { FailureType } from '../vocabulary/failures.js';
import type { StoredUser } from '../adapters/store/users.js';
import { createProvisionSteps, type UserActivityDeps } from './users.js';

/** Heartbeat details: outcomes by the user's index in the chunk, so a retry skips the finished ones. */
type Finished = Record<number, BatchUserOutcome>;

/** How often the activity heartbeats while users are in flight (the worker's own heartbeat is off for it). */
const HEARTBEAT_EVERY_MS = 2_000;
/**
 * At most one heartbeat per this interval as users finish (decision 0037): each serializes and
 * encrypts every outcome so far (0.4 ms of CPU a user when done per user), while the SDK sends the
 * server at most one per 80% of the heartbeat timeout anyway, the latest details then.
 */
const HEARTBEAT_GAP_MS = 1_000;

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Heartbeats `finished` every HEARTBEAT_EVERY_MS, and as users finish at most once per HEARTBEAT_GAP_MS. */
function heartbeater(ctx: Context, finished: Finished) {
  let beaten = 0;
  const beat = (): void => {
    beaten = Date.now();
    ctx.heartbeat(finished);
  };
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  return {
    beat,
    finished: (): void => {
      if (Date.now() - beaten >= HEARTBEAT_GAP_MS) beat();
    },
    stop: (): void => clearInterval(timer),
  };
}

export function createUsersBatchActivities(deps: UserActivityDeps) {
  const { provision } = createProvisionSteps(deps);

  /** One user's outcome; a failure that a retry may cure is thrown (null: the attempt was the last). */
  async function provisionOne(
    tenant: string,
    user: BatchUser,
    known: StoredUser | null,
    lastAttempt: boolean,
  ): Promise<BatchUserOutcome> {
    // Named in a failure: the slug's derived id (a success names the account provisioning found, an adopted one's too).
    const userId = matrixUserId(deps.userPrefix, deps.serverName, tenant, user.slug);
    try {
      const r = await provision({ tenant, slug: user.slug, displayName: user.displayName }, known);
      const outcome = r.created
        ? 'created'
        : r.reactivated
          ? 'reactivated'
          : r.displayNameChanged
            ? 'displayNameChanged'
            : 'unchanged';
      return { slug: user.slug, userId: r.userId, outcome };
    } catch (err) {
      const f = toActivityFailure(err);
      if (!f.nonRetryable && !lastAttempt) throw f;
      return {
        slug: user.slug,
        userId,
        outcome: 'failed',
        error: { type: f.type ?? FailureType.Unavailable, message: f.message },
      };
    }
  }

  return {
    /**
     * Provisions a chunk of the batch, USERS_BATCH_CONCURRENCY users at a time. Permanent failures
     * are outcomes; transient ones fail the attempt once every other user is done, and the retry
     * (resuming from the heartbeat's outcomes) redoes only those users. On the last attempt they
     * are outcomes too.
     */
    async provisionMatrixUsersChunk(input: UsersChunkInput): Promise<BatchUserOutcome[]> {
      const ctx = Context.current();
      const finished: Finished = { ...((ctx.info.heartbeatDetails as Finished | undefined) ?? {}) };
      const lastAttempt = ctx.info.attempt >= USERS_BATCH_ATTEMPTS;
      const todo = input.users.map((u, i) => ({ u, i })).filter(({ i }) => finished[i] === undefined);
      // Every row of the chunk in one query: each user is then read before it is written without a query of its own.
      const known = await deps.users.getMany(
        input.tenant,
        todo.map(({ u }) => u.slug),
      );
      let transient: ApplicationFailure | null = null;
      const heartbeats = heartbeater(ctx, finished);
      try {
        await pool(todo, USERS_BATCH_CONCURRENCY, async ({ u, i }) => {
          try {
            finished[i] = await provisionOne(input.tenant, u, known.get(u.slug) ?? null, lastAttempt);
            heartbeats.finished();
          } catch (err) {
            transient ??= err as ApplicationFailure;
          }
        });
      } finally {
        heartbeats.stop();
      }
      if (transient) {
        // Every outcome so far, for the retry to resume from.
        heartbeats.beat();
        const failed = input.users.length - Object.keys(finished).length;
        const t = transient as ApplicationFailure;
        throw ApplicationFailure.create({
          type: t.type ?? FailureType.Unavailable,
          message: `${failed} of ${input.users.length} users failed transiently (retrying them): ${t.message}`,
          nextRetryDelay: t.nextRetryDelay,
        });
      }
      return input.users.map((_, i) => finished[i]!);
    },
  };
}

export type UsersBatchActivities = ReturnType<typeof createUsersBatchActivities>;
