import { ApplicationFailure, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { FailureType } from '../vocabulary/failures.js';
import type { WorkflowGateway } from '../activities/gateway.js';
import type { Config } from '../lib/config.js';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { SERVICE_SUBJECTS } from '../vocabulary/audit.js';
import { changeRoom, ensureReconcileSchedule, provisionUser, reauthUser } from '../starters/starters.js';
import { startUsersBatch } from '../starters/users-batch.js';
import { USERS_BATCH_MAX } from '../vocabulary/users-batch.js';

/** The run of the workflow whose activity calls (the reconciliation), when called from one. */
function reconcileRun(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.runId;
  } catch {
    return undefined;
  }
}

/** The activities' way to other workflows, over the Temporal client. */
export function createWorkflowGateway(client: Client, config: Config): WorkflowGateway {
  const scheduled = new Set<string>();
  return {
    async provisionUser(tenant, slug, displayName) {
      // A member change needed the account: recorded as the service's own (the member change has its own entry).
      const origin = { subject: SERVICE_SUBJECTS.room };
      const update = await provisionUser(client, config, { tenant, slug, displayName, origin });
      try {
        return (await update.result()).userId;
      } catch (err) {
        // An offboarded user is refused for good (decision 0056): the caller's change fails now, not after endless retries.
        const cause = updateCause(err);
        if (cause instanceof ApplicationFailure && cause.type === FailureType.UserOffboarded)
          throw ApplicationFailure.create({ type: cause.type, message: cause.message, nonRetryable: true });
        throw err;
      }
    },
    async provisionUsers(tenant, users) {
      for (let i = 0; i < users.length; i += USERS_BATCH_MAX) {
        const batch = users.slice(i, i + USERS_BATCH_MAX);
        const origin = { subject: SERVICE_SUBJECTS.room };
        const handle = await startUsersBatch(client, config, { tenant, batchId: randomUUID(), users: batch, origin });
        await handle.result();
      }
    },
    reauthUser(input) {
      return reauthUser(client, config, input);
    },
    async reconcileRoom(room) {
      // Recorded in the audit trail as the service's own change, with the reconciliation's run as its request.
      const origin = { subject: SERVICE_SUBJECTS.reconcile, requestId: reconcileRun() };
      const update = await changeRoom(client, config, room, { type: 'reconcile', origin });
      return update.result().catch((err: unknown) => {
        throw updateCause(err);
      });
    },
    async removeMember(room, userSlug) {
      // Recorded in the audit trail as the offboarding's (its `user.offboard` entry says who asked).
      const origin = { subject: SERVICE_SUBJECTS.offboard };
      const update = await changeRoom(client, config, room, { type: 'removeMember', userSlug, origin });
      return update.result();
    },
    async ensureSchedule(tenant) {
      if (scheduled.has(tenant)) return;
      await ensureReconcileSchedule(client, config, tenant);
      scheduled.add(tenant);
    },
  };
}

/**
 * A failed Update as the failure that made it fail: "Workflow Update failed" says nothing, and the
 * reconcile run records (and the room.missing webhook carries) this message. Its type and
 * retryability are kept, so a permanent failure stays permanent for the calling activity.
 */
export function updateCause(err: unknown): unknown {
  if (!(err instanceof WorkflowUpdateFailedError)) return err;
  type Failure = Error & { type?: string; nonRetryable?: boolean; cause?: unknown };
  let cause = err.cause as Failure | undefined;
  while (cause && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause as Failure;
  if (!cause) return err;
  return ApplicationFailure.create({
    type: cause.type ?? cause.name,
    message: cause.message,
    nonRetryable: cause.nonRetryable ?? false,
  });
}
