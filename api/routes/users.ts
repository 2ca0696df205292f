import { WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { Hono } from 'hono';
import { matrixUserId, provisionUserWorkflowId, slugProblem, tenantProblem, userIdProblem } from '../../workflows/ids.js';
import { DISPLAY_NAME_MAX_LENGTH, provisionUserUpdate, type ProvisionUserResult } from '../../workflows/messages.js';
import type { provisionUserWorkflow } from '../../workflows/provision-user.js';
import { EntityKindKey, EntitySlugKey, MatrixUserIdKey, TenantKey } from '../../workflows/search-attributes.js';
import { assertTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { assertValid, readJsonObject, rejectUnknownFields, requireString } from '../validation.js';
import { waitAtMost } from '../wait.js';

/** `POST /v1/tenants/{tenant}/users`: provision (or update) a platform user's Matrix account. */
export function usersRoutes(deps: AppDeps) {
  const { config, temporal } = deps;
  return new Hono<ApiEnv>().post('/:tenant/users', async (c) => {
    const tenant = c.req.param('tenant');
    assertValid(tenantProblem(tenant));
    assertTenant(c.get('principal'), tenant);
    const body = await readJsonObject(c);
    rejectUnknownFields(body, ['slug', 'displayName']);
    const slug = requireString(body, 'slug', 1000);
    assertValid(slugProblem(slug));
    assertValid(userIdProblem(config.matrix.userPrefix, config.matrix.serverName, tenant, slug));
    const displayName = requireString(body, 'displayName', DISPLAY_NAME_MAX_LENGTH);

    const workflowId = provisionUserWorkflowId(tenant, slug);
    const userId = matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);
    const requestId = c.get('requestId');
    const start = new WithStartWorkflowOperation<typeof provisionUserWorkflow>('provisionUserWorkflow', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [{ tenant, slug }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: TenantKey, value: tenant },
        { key: EntityKindKey, value: 'user' },
        { key: EntitySlugKey, value: slug },
        { key: MatrixUserIdKey, value: userId },
      ],
      memo: { summary: `Provision Matrix user ${userId} for ${tenant}/${slug}`, requestId },
    });
    let outcome: { done: true; value: ProvisionUserResult } | { done: false };
    try {
      const update = await temporal.workflow.startUpdateWithStart(provisionUserUpdate, {
        args: [{ displayName, requestId }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
        startWorkflowOperation: start,
      });
      outcome = await waitAtMost(update.result(), config.api.waitMs);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = err.cause as { cause?: { message?: string }; message?: string } | undefined;
        throw new ApiError('OM_UPSTREAM_FAILED', `provisioning failed: ${cause?.cause?.message ?? cause?.message ?? err.message}`);
      }
      throw err;
    }
    const operation = `/v1/operations/${encodeURIComponent(workflowId)}`;
    if (!outcome.done) {
      c.header('Location', operation);
      return c.json({ workflowId, status: 'running', userId, operation }, 202);
    }
    return c.json({ workflowId, status: 'completed', ...outcome.value, operation }, 200);
  });
}
