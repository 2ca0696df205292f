import { Hono } from 'hono';
import { provisionUser } from '../../lib/starters.js';
import { matrixUserId, provisionUserWorkflowId, slugProblem, tenantProblem, userIdProblem } from '../../workflows/ids.js';
import { DISPLAY_NAME_MAX_LENGTH } from '../../workflows/messages.js';
import { assertTenant } from '../auth.js';
import { respondWithOutcome } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { assertValid, readJsonObject, rejectUnknownFields, requireString } from '../validation.js';

/** `POST /v1/tenants/{tenant}/users`: provision (or update) a platform user's Matrix account. */
export function usersRoutes(deps: AppDeps) {
  const { config } = deps;
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
    const userId = matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);
    return respondWithOutcome(
      c,
      deps,
      provisionUserWorkflowId(tenant, slug),
      () => provisionUser(deps.temporal, config, { tenant, slug, displayName, requestId: c.get('requestId') }),
      { userId },
    );
  });
}
