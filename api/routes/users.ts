import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { provisionUser } from '../../starters/starters.js';
import { matrixUserId, provisionUserWorkflowId, userIdProblem } from '../../vocabulary/ids.js';
import { authorizedTenant } from '../auth.js';
import { respondWithOutcome } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { displayName, slug } from '../spec/fields.js';
import { operation, outcomeAnswers, below } from '../spec/operation.js';
import { object } from '../spec/schema.js';
import { assertValid, readJsonObject } from '../spec/validation.js';

/** Where api/app.ts mounts this router; its routes are registered below it. */
export const USERS_PREFIX = '/v1/tenants/:tenant/users';

export const USER_BODY = object({
  slug: slug("The user's platform slug; the Matrix localpart is `om_{tenant}_{slug}`, escaped."),
  displayName: displayName(),
});

const provision = operation({
  method: 'post',
  path: '/v1/tenants/:tenant/users',
  operationId: 'provisionUser',
  summary: "Provision a platform user's Matrix account, or update its display name",
  description: 'Idempotent: repeating it changes nothing. The workflow is `user:{tenant}:{slug}`.',
  tags: ['users'],
  security: 'service',
  body: { schema: USER_BODY.json },
  responses: outcomeAnswers('ProvisionedUser', 'UserRunning'),
  errors: ['OM_USER_DEACTIVATED', 'OM_UPSTREAM_FAILED', 'OM_UNAVAILABLE'],
});
export const usersOperations = [provision];

/** `POST /v1/tenants/{tenant}/users`: provision (or update) a platform user's Matrix account. */
export function usersRoutes(deps: AppDeps) {
  const { config } = deps;
  return new Hono<ApiEnv, BlankSchema, typeof USERS_PREFIX>().post(below(USERS_PREFIX, provision), async (c) => {
    const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
    const { slug, displayName } = USER_BODY.parse(await readJsonObject(c));
    assertValid(userIdProblem(config.matrix.userPrefix, config.matrix.serverName, tenant, slug));
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
