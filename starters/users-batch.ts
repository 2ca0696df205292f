/** How the API starts a users batch (decision 0035); beside starters.ts, which is at its size limit. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { entityAttributes } from '../vocabulary/search-attributes.js';
import { usersBatchWorkflowId, type UsersBatchInput } from '../vocabulary/users-batch.js';
import type { provisionUsersBatchWorkflow } from '../workflows/provision-users-batch.js';

/** Starts the batch's workflow (a fresh id per request: repeating a batch runs it again, which changes nothing). */
export function startUsersBatch(
  client: Client,
  config: Pick<Config, 'temporal'>,
  input: UsersBatchInput,
): Promise<WorkflowHandle<typeof provisionUsersBatchWorkflow>> {
  const n = input.users.length;
  return client.workflow.start<typeof provisionUsersBatchWorkflow>('provisionUsersBatchWorkflow', {
    workflowId: usersBatchWorkflowId(input.tenant, input.batchId),
    taskQueue: config.temporal.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: entityAttributes({ tenant: input.tenant, kind: 'users-batch', slug: input.batchId }),
    memo: { requestId: input.requestId },
    staticSummary: `Provision ${n} Matrix user${n === 1 ? '' : 's'} of ${input.tenant} (batch ${input.batchId})`,
    staticDetails: [
      `**${n} platform users** of \`${input.tenant}\`, each created or updated as \`POST /v1/tenants/${input.tenant}/users\` would.`,
      '',
      'Progress: query `usersBatchProgress`; the result lists every user\'s outcome in request order.',
    ].join('\n'),
  });
}
