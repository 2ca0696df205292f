import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../vocabulary/failures.js';
import type { WorkflowGateway } from '../activities/gateway.js';
import type { Config } from '../lib/config.js';
import { randomUUID } from 'node:crypto';
import { changeRoom, ensureReconcileSchedule, provisionUser, reauthUser } from '../starters/starters.js';
import { startUsersBatch } from '../starters/users-batch.js';
import { USERS_BATCH_MAX } from '../vocabulary/users-batch.js';

/** The activities' way to other workflows, over the Temporal client. */
export function createWorkflowGateway(client: Client, config: Config): WorkflowGateway {
  const scheduled = new Set<string>();
  return {
    async provisionUser(tenant, slug, displayName) {
      const update = await provisionUser(client, config, { tenant, slug, displayName });
      try {
        return (await update.result()).userId;
      } catch (err) {
        // An offboarded user is refused for good (decision 0056): the caller's change fails now, not after endless retries.
        // The update's failure wraps the activity's, which wraps the ApplicationFailure.
        let cause = (err as { cause?: unknown }).cause;
        while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as { cause?: unknown }).cause;
        if (err instanceof WorkflowUpdateFailedError && cause instanceof ApplicationFailure && cause.type === FailureType.UserOffboarded)
          throw ApplicationFailure.create({ type: cause.type, message: cause.message, nonRetryable: true });
        throw err;
      }
    },
    async provisionUsers(tenant, users) {
      for (let i = 0; i < users.length; i += USERS_BATCH_MAX) {
        const batch = users.slice(i, i + USERS_BATCH_MAX);
        const handle = await startUsersBatch(client, config, { tenant, batchId: randomUUID(), users: batch });
        await handle.result();
      }
    },
    reauthUser(input) {
      return reauthUser(client, config, input);
    },
    async reconcileRoom(room) {
      const update = await changeRoom(client, config, room, { type: 'reconcile' });
      return update.result();
    },
    async removeMember(room, userSlug) {
      const update = await changeRoom(client, config, room, { type: 'removeMember', userSlug });
      return update.result();
    },
    async ensureSchedule(tenant) {
      if (scheduled.has(tenant)) return;
      await ensureReconcileSchedule(client, config, tenant);
      scheduled.add(tenant);
    },
  };
}
