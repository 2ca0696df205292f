/** Starting and cancelling a user's offboarding (`offboard:{tenant}:{slug}`, decision 0056). */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { entityAttributes } from '../vocabulary/search-attributes.js';
import { offboardWorkflowId, type OffboardInput } from '../vocabulary/offboard.js';
import type { offboardUserWorkflow } from '../workflows/offboard.js';

type StarterConfig = Pick<Config, 'temporal' | 'offboarding'>;

export interface OffboardStart {
  handle: WorkflowHandle<typeof offboardUserWorkflow>;
  /** False: an offboarding of this user was running already (its own input holds; this request's is ignored). */
  started: boolean;
  input: OffboardInput;
}

/**
 * Starts the user's offboarding, or finds the one running. The grace period and the adopted-account
 * setting are the API's configuration at the time of the request, carried in the input so the run
 * keeps them. The reason goes only into the memo (encrypted by the payload codec), never the database.
 */
export async function startOffboard(
  client: Client,
  config: StarterConfig,
  req: { tenant: string; slug: string; erase: boolean; reason?: string; requestId?: string },
): Promise<OffboardStart> {
  const input: OffboardInput = {
    tenant: req.tenant,
    slug: req.slug,
    offboardingId: randomUUID(),
    erase: req.erase,
    graceMs: config.offboarding.eraseGraceSeconds * 1000,
    adoptedFull: config.offboarding.adoptedAccounts === 'full',
    ...(req.requestId ? { requestId: req.requestId } : {}),
  };
  const workflowId = offboardWorkflowId(req.tenant, req.slug);
  try {
    const handle = await client.workflow.start<typeof offboardUserWorkflow>('offboardUserWorkflow', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: entityAttributes({ tenant: req.tenant, kind: 'offboard', slug: req.slug }),
      memo: { offboardingId: input.offboardingId, requestId: req.requestId, ...(req.reason ? { reason: req.reason } : {}) },
      staticSummary: `Offboard ${req.tenant}/${req.slug}${req.erase ? ', with erasure after the grace period' : ''}`,
    });
    return { handle, started: true, input };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError) && (err as Error).name !== 'WorkflowExecutionAlreadyStartedError')
      throw err;
    return { handle: client.workflow.getHandle<typeof offboardUserWorkflow>(workflowId), started: false, input };
  }
}
