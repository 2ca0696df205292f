/**
 * The Temporal floor of the provisioning benchmark (client side): what the API does per user —
 * Update-with-Start of an entity workflow with search attributes and a memo, waiting for the
 * Update's result — against the floor worker, whose workflow only runs one empty activity. Its
 * rate is the most Temporal lets through in this shape on this machine, whatever the work is.
 */
import { WithStartWorkflowOperation, WorkflowUpdateStage } from '@temporalio/client';
import type { Config } from '../../../lib/config.js';
import { EntityKindKey, EntitySlugKey, TenantKey } from '../../../vocabulary/search-attributes.js';
import { connectCli } from '../../cli/temporal.js';
import { measurement, runPool, type Measurement } from '../stats.js';
import type { floorEntityWorkflow } from './workflows.js';
import { floorUpdate } from './workflows.js';

export async function temporalFloor(
  config: Config,
  taskQueue: string,
  tenant: string,
  n: number,
  concurrency: number,
): Promise<Measurement> {
  // Connected like the API: same namespace and payload codec.
  const { client, close } = await connectCli(config);
  try {
    const list = Array.from({ length: n }, (_, i) => `user${String(i).padStart(4, '0')}`);
    const started = performance.now();
    const { latenciesMs, errors } = await runPool(list, concurrency, async (slug) => {
      const start = new WithStartWorkflowOperation<typeof floorEntityWorkflow>('floorEntityWorkflow', {
        workflowId: `floor:${tenant}:${slug}`,
        taskQueue,
        args: [],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: TenantKey, value: tenant },
          { key: EntityKindKey, value: 'floor' },
          { key: EntitySlugKey, value: slug },
        ],
        memo: { summary: `Temporal floor ${tenant}/${slug}` },
      });
      const handle = await client.workflow.startUpdateWithStart(floorUpdate, {
        args: [{ displayName: `Bench ${slug}` }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
        startWorkflowOperation: start,
      });
      await handle.result();
    });
    const seconds = (performance.now() - started) / 1000;
    for (const e of errors.slice(0, 3)) console.error(`  temporal floor error: ${String(e.error)}`);
    return measurement('Temporal floor', n - errors.length, seconds, latenciesMs, errors.length);
  } finally {
    await close();
  }
}
