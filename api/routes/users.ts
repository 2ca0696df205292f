import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { provisionUser } from '../../starters/starters.js';
import { bindingProblem, canActAs } from '../../vocabulary/identity.js';
import { matrixUserId, provisionUserWorkflowId, userIdProblem } from '../../vocabulary/ids.js';
import { authorizedTenant } from '../auth.js';
import { respondWithOutcome } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { originOf } from '../audit-origin.js';
import { ApiError } from '../errors.js';
import { displayName, matrixUserIdField, slug } from '../spec/fields.js';
import { operation, outcomeAnswers, below } from '../spec/operation.js';
import { object, optional } from '../spec/schema.js';
import { assertValid, readJsonObject } from '../spec/validation.js';
import { createUserDirectory } from '../user-directory.js';
import { renameOperation, renameRoute } from './user-rename.js';

/** Where api/app.ts mounts this router; its routes are registered below it. */
export const USERS_PREFIX = '/v1/tenants/:tenant/users';

export const USER_BODY = object({
  slug: slug("The user's platform slug; the Matrix localpart is `om_{tenant}_{slug}`, escaped."),
  displayName: displayName('The Matrix display name (never applied to an adopted account).'),
  matrixUserId: optional(matrixUserIdField),
});

const provision = operation({
  method: 'post',
  path: '/v1/tenants/:tenant/users',
  operationId: 'provisionUser',
  summary: "Provision a platform user's Matrix account (or adopt an existing one), or update its display name",
  description: [
    'Idempotent: repeating it changes nothing. The workflow is `user:{tenant}:{slug}`.',
    'With `matrixUserId`, the user is bound to that existing account instead (adoption): never created, renamed or',
    'deactivated; acted as only where the identity mode can (`canActAs` in the answer). A binding never changes:',
    'another `matrixUserId` for the slug, or one bound to another user, is `409 OM_USER_BINDING_CONFLICT`.',
  ].join(' '),
  tags: ['users'],
  security: 'service',
  body: { schema: USER_BODY.json },
  responses: outcomeAnswers('ProvisionedUser', 'UserRunning'),
  errors: [
    'M_INVALID_PARAM',
    'M_NOT_FOUND',
    'OM_USER_BINDING_CONFLICT',
    'OM_USER_RENAMED',
    'OM_USER_DEACTIVATED',
    'OM_USER_OFFBOARDED',
    'OM_UPSTREAM_FAILED',
    'OM_UNAVAILABLE',
  ],
});
export const usersOperations = [provision, renameOperation];

/**
 * `POST /v1/tenants/{tenant}/users`: provision (or adopt, or update) a platform user's Matrix
 * account; `POST …/users/{userSlug}/rename`: the user gets a new slug, keeping their account.
 */
export function usersRoutes(deps: AppDeps) {
  const { config } = deps;
  const directory = createUserDirectory(config, deps.db);
  return new Hono<ApiEnv, BlankSchema, typeof USERS_PREFIX>()
    .post(below(USERS_PREFIX, provision), async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      const input = USER_BODY.parse(await readJsonObject(c));
      const { slug, displayName } = input;
      const { userPrefix, serverName } = config.matrix;
      const derived = matrixUserId(userPrefix, serverName, tenant, slug);
      assertValid(userIdProblem(userPrefix, serverName, tenant, slug));
      if (input.matrixUserId !== undefined)
        assertValid(bindingProblem(directory.scope, directory.own, input.matrixUserId, derived));
      // The binding is the workflow's to write (one writer, in order); a conflict seen now is told now.
      const bound = await directory.current(tenant, slug);
      const userId = input.matrixUserId ?? bound?.userId ?? derived;
      if (bound && bound.userId !== userId)
        throw new ApiError('OM_USER_BINDING_CONFLICT', `${slug} is bound to ${bound.userId}, not ${userId}`);
      const adopting = userId !== derived && !bound;
      const holder = adopting ? await directory.slugBoundTo(tenant, userId) : null;
      if (holder !== null)
        throw new ApiError('OM_USER_BINDING_CONFLICT', `${userId} is already bound to user ${holder}`);
      return respondWithOutcome(
        c,
        deps,
        provisionUserWorkflowId(tenant, slug),
        () =>
          provisionUser(deps.temporal, config, {
            tenant,
            slug,
            displayName,
            userId,
            ...(adopting ? { matrixUserId: userId } : {}),
            requestId: c.get('requestId'),
            origin: originOf(c),
          }),
        { userId, adopted: bound?.adopted ?? adopting, canActAs: canActAs(directory.scope, userId) },
      );
    })
    .post(below(USERS_PREFIX, renameOperation), renameRoute(deps));
}
