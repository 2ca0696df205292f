import { WorkflowNotFoundError } from '@temporalio/client';
import { connectTemporal, type TemporalSession } from '../../adapters/temporal.js';
import type { Config } from '../../lib/config.js';

/** A Temporal client like the API's (same namespace and payload codec), failing fast when the server is away. */
export const connectCli = (config: Config): Promise<TemporalSession> =>
  connectTemporal(config, { connectTimeout: '5 seconds' });

export interface WorkflowGlance {
  workflowId: string;
  runId: string;
  status: string;
  startTime: string;
  closeTime: string | null;
}

/**
 * The latest run of a workflow, null when there never was one, or the reason Temporal could not
 * say (an inspection still shows what PostgreSQL and the homeserver say).
 */
export async function glance(config: Config, workflowId: string): Promise<WorkflowGlance | null | { error: string }> {
  let session: TemporalSession | undefined;
  try {
    session = await connectCli(config);
    const d = await session.client.workflow.getHandle(workflowId).describe();
    return {
      workflowId,
      runId: d.runId,
      status: d.status.name,
      startTime: d.startTime.toISOString(),
      closeTime: d.closeTime ? d.closeTime.toISOString() : null,
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError') return null;
    return { error: `Temporal: ${(err as Error).message}` };
  } finally {
    await session?.close().catch(() => undefined);
  }
}
