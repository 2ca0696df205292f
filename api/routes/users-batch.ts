import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { BlankSchema } from 'hono/types';
import { startUsersBatch } from '../../starters/users-batch.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import {
  USERS_BATCH_MAX,
  USERS_BATCH_MAX_BYTES,
  usersBatchProblem,
  usersBatchWorkflowId,
  type BatchUser,
} from '../../vocabulary/users-batch.js';
import { authorizedTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { originOf } from '../audit-origin.js';
import { ApiError, respondError } from '../errors.js';
import { createUserDirectory } from '../user-directory.js';
import { operation, outcomeAnswers } from '../spec/operation.js';
import { CLIENT_JSON_BOUNDS, type JsonBounds } from '../json-bounds.js';
import { readJsonObject, rejectUnknownFields } from '../spec/validation.js';
import { waitForResult } from '../wait.js';
import { USER_BODY } from './users.js';

/** Hono reads `users:batch` as `users` and a parameter: the handler checks the literal suffix. */
const SUFFIX = '/users:batch';
/** Paths the app's 64 KiB body limit leaves to this route's own (USERS_BATCH_MAX_BYTES). */
export const isUsersBatchPath = (path: string): boolean => /^\/v1\/tenants\/[^/]+\/users:batch$/.test(path);

/**
 * The client bounds, but arrays as long as the body allows: a batch over USERS_BATCH_MAX is a 400
 * saying so, not the bounds' 413 (the 1 MiB body limit still bounds what is parsed).
 */
const BATCH_JSON_BOUNDS: JsonBounds = Object.freeze({ ...CLIENT_JSON_BOUNDS, maxItems: USERS_BATCH_MAX_BYTES });

const provisionBatch = operation({
  method: 'post',
  path: '/v1/tenants/:tenant/users:batch',
  operationId: 'provisionUsersBatch',
  summary: "Provision up to 1,000 platform users' Matrix accounts, or update their display names",
  description:
    'Each user as `POST /v1/tenants/{tenant}/users` would (idempotent: repeating the batch changes nothing), with an outcome per user; one user failing does not fail the others. The workflow is `users-batch:{tenant}:{batchId}`, a new one per request.',
  tags: ['users'],
  security: 'service',
  body: {
    schema: {
      type: 'object',
      properties: {
        users: { type: 'array', minItems: 1, maxItems: USERS_BATCH_MAX, items: USER_BODY.json },
      },
      required: ['users'],
      additionalProperties: false,
    },
  },
  responses: outcomeAnswers('UsersBatchResult', 'UsersBatchRunning'),
  errors: ['M_TOO_LARGE', 'OM_UNAVAILABLE'],
});
export const usersBatchOperations = [provisionBatch];

/** `POST /v1/tenants/{tenant}/users:batch`: provisions many users in one workflow. Mounted at `/`. */
export function usersBatchRoutes(deps: AppDeps) {
  const { config } = deps;
  const directory = createUserDirectory(config, deps.db);
  const limit = bodyLimit({
    maxSize: USERS_BATCH_MAX_BYTES,
    onError: (c) => respondError(c, 'M_TOO_LARGE', `request body exceeds ${USERS_BATCH_MAX_BYTES} bytes`),
  });
  return new Hono<ApiEnv, BlankSchema, '/'>().post(provisionBatch.path, limit, async (c) => {
    if (!c.req.path.endsWith(SUFFIX)) return c.notFound();
    const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
    const body = await readJsonObject(c, USERS_BATCH_MAX_BYTES, BATCH_JSON_BOUNDS);
    rejectUnknownFields(body, ['users']);
    const scope = { prefix: config.matrix.userPrefix, serverName: config.matrix.serverName, tenant };
    const problem = usersBatchProblem(body.users, scope);
    if (problem) throw new ApiError(problem.errcode, problem.message);
    // A renamed user's old slug is answered as on the single route; adopted and renamed users keep their account.
    const bindings = await directory.assertCurrent(
      tenant,
      (body.users as BatchUser[]).map((u) => u.slug),
    );
    const users = (body.users as BatchUser[]).map(({ slug, displayName }) => ({
      slug,
      displayName,
      userId: bindings.get(slug)?.userId ?? matrixUserId(scope.prefix, scope.serverName, tenant, slug),
    }));
    const batchId = randomUUID();
    const workflowId = usersBatchWorkflowId(tenant, batchId);
    const operationPath = `/v1/operations/${encodeURIComponent(workflowId)}`;
    const handle = await startUsersBatch(deps.temporal, config, {
      tenant,
      batchId,
      users,
      requestId: c.get('requestId'),
      origin: originOf(c),
    });
    const outcome = await waitForResult(deps.temporal, () => handle.result(), config.api.waitMs);
    if (!outcome.done) {
      c.header('Location', operationPath);
      return c.json({ workflowId, status: 'running', operation: operationPath, batchId, total: users.length }, 202);
    }
    return c.json({ workflowId, status: 'completed', operation: operationPath, ...outcome.value }, 200);
  });
}
