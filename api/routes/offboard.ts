/**
 * `POST|GET|DELETE /v1/tenants/{tenant}/users/{userSlug}/offboard` (decision 0056): start a user's
 * offboarding, read it, cancel it inside its erasure grace period.
 */
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { startOffboard } from '../../starters/offboard.js';
import { slugProblem } from '../../vocabulary/ids.js';
import {
  cancelOffboardUpdate,
  offboardStateQuery,
  offboardWorkflowId,
  startingOffboardState,
  type OffboardState,
} from '../../vocabulary/offboard.js';
import type { offboardUserWorkflow } from '../../workflows/offboard.js';
import { recordAudit } from '../../adapters/store/audit.js';
import { originOf } from '../audit-origin.js';
import { authorizedTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { assertValid, readJsonObject } from '../spec/validation.js';
import { createUserDirectory } from '../user-directory.js';
import { waitForResult } from '../wait.js';
import { OFFBOARD_BODY, offboardOps } from './offboard-spec.js';

export { OFFBOARD_SCHEMAS, offboardOperations } from './offboard-spec.js';

type Handle = WorkflowHandle<typeof offboardUserWorkflow>;

const answer = (workflowId: string, s: OffboardState, status: string) => ({
  workflowId,
  ...s,
  eraseDueAt: s.eraseDueAt === null ? null : new Date(s.eraseDueAt).toISOString(),
  status,
});

const notFound = (tenant: string, slug: string) =>
  new ApiError('M_NOT_FOUND', `no offboarding of user ${slug} in tenant ${tenant}`);

/** The run's state and status; 404 when there is no such workflow. */
async function read(handle: Handle, tenant: string, slug: string) {
  try {
    const [state, description] = await Promise.all([handle.query(offboardStateQuery), handle.describe()]);
    return answer(handle.workflowId, state, description.status.name);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(tenant, slug);
    throw err;
  }
}

/** Mounted at `/`; the paths are the operations' own. */
export function offboardRoutes(deps: AppDeps) {
  const { config } = deps;
  const directory = createUserDirectory(config, deps.db);
  const target = (tenant: string, userSlug: string | undefined) => {
    const slug = userSlug ?? '';
    assertValid(slugProblem(slug, 'userSlug'));
    return { slug, handle: deps.temporal.workflow.getHandle<typeof offboardUserWorkflow>(offboardWorkflowId(tenant, slug)) };
  };
  return new Hono<ApiEnv, BlankSchema, '/'>()
    .post(offboardOps.start.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      const slug = c.req.param('userSlug');
      assertValid(slugProblem(slug, 'userSlug'));
      const body = OFFBOARD_BODY.parse(await readJsonObject(c));
      // Renamed away: 409 with the slug to use (the workflow id is the current slug's).
      if (!(await directory.current(tenant, slug))) throw new ApiError('M_NOT_FOUND', `no user ${slug} in tenant ${tenant}`);
      const start = await startOffboard(deps.temporal, config, {
        tenant,
        slug,
        erase: body.erase,
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
        requestId: c.get('requestId'),
      });
      const { handle, input } = start;
      if (start.started)
        // Who asked, in the audit trail (decision 0060); an erasure later keeps it under the user's pseudonym.
        await recordAudit(deps.db, [
          {
            tenant,
            origin: originOf(c),
            operation: 'user.offboard',
            userSlug: slug,
            detail: input.erase ? 'begun, erasure after the grace period' : 'begun, without erasure',
            outcome: 'done',
            key: `offboard:${input.offboardingId}`,
          },
        ]);
      if (start.started) {
        return c.json(answer(handle.workflowId, startingOffboardState(input.offboardingId, input.erase), 'RUNNING'), 202);
      }
      return c.json(await read(handle, tenant, slug), 202);
    })
    .get(offboardOps.get.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      const { slug, handle } = target(tenant, c.req.param('userSlug'));
      return c.json(await read(handle, tenant, slug), 200);
    })
    .delete(offboardOps.cancel.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      const { slug, handle } = target(tenant, c.req.param('userSlug'));
      try {
        const outcome = await waitForResult(deps.temporal, () => handle.executeUpdate(cancelOffboardUpdate), config.api.waitMs);
        if (outcome.done) {
          const origin = originOf(c);
          await recordAudit(deps.db, [
            { tenant, origin, operation: 'user.offboard.cancel', userSlug: slug, outcome: 'done', key: `offboard-cancel:${outcome.value.offboardingId}` },
          ]);
          return c.json(answer(handle.workflowId, outcome.value, 'RUNNING'), 200);
        }
        return c.json(await read(handle, tenant, slug), 202);
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError)
          throw new ApiError('OM_OFFBOARD_NOT_CANCELLABLE', (err.cause as Error | undefined)?.message ?? err.message);
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // Gone altogether, or finished (an update cannot reach a closed run).
        const done = await read(handle, tenant, slug);
        throw new ApiError('OM_OFFBOARD_NOT_CANCELLABLE', `the offboarding is over (phase ${done.phase}); only an erasure's grace period can be cancelled`);
      }
    });
}
