import type { Client } from '@temporalio/client';
import type { WorkflowGateway } from '../activities/gateway.js';
import type { Config } from '../lib/config.js';
import { changeRoom, ensureReconcileSchedule, provisionUser, reauthUser } from '../starters/starters.js';

/** The activities' way to other workflows, over the Temporal client. */
export function createWorkflowGateway(client: Client, config: Config): WorkflowGateway {
  const scheduled = new Set<string>();
  return {
    async provisionUser(tenant, slug, displayName) {
      const update = await provisionUser(client, config, { tenant, slug, displayName });
      return (await update.result()).userId;
    },
    reauthUser(input) {
      return reauthUser(client, config, input);
    },
    async reconcileRoom(room) {
      const update = await changeRoom(client, config, room, { type: 'reconcile' });
      return update.result();
    },
    async ensureSchedule(tenant) {
      if (scheduled.has(tenant)) return;
      await ensureReconcileSchedule(client, config, tenant);
      scheduled.add(tenant);
    },
  };
}
