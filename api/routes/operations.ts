import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { parseWorkflowId } from '../../vocabulary/ids.js';
import { roomStateQuery, userStateQuery, type RoomState, type UserState } from '../../vocabulary/contract.js';
import { usersBatchProgressQuery } from '../../vocabulary/users-batch.js';
import { assertTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { createMessageOutbox } from '../../adapters/store/outbox.js';
import { operation, ref, below } from '../spec/operation.js';

/** Where api/app.ts mounts this router; its routes are registered below it. */
export const OPERATIONS_PREFIX = '/v1/operations';

type OperationStatus = 'running' | 'completed' | 'failed';

/** Reads what an entity workflow's state says about the requests it was given. */
function statusOf(state: UserState | RoomState): OperationStatus {
  if ('pendingRequests' in state) {
    if (state.pendingRequests > 0) return 'running';
    if (state.lastError) return 'failed';
    return state.provisioned ? 'completed' : 'running';
  }
  if (state.pendingChanges > 0) return 'running';
  if (state.lastError) return 'failed';
  return state.roomId ? 'completed' : 'running';
}

const getOperation = operation({
  method: 'get',
  path: '/v1/operations/:workflowId',
  operationId: 'getOperation',
  summary: 'Where a workflow started through the API stands',
  description:
    '`status`: `running`, `completed` or `failed`; the workflow status and its state (or result, or failure).',
  tags: ['operations'],
  security: 'service',
  responses: { 200: { description: 'The operation.', json: ref('Operation') } },
  errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_UNAVAILABLE'],
});
export const operationsOperations = [getOperation];

const notFound = (err: unknown): boolean =>
  err instanceof WorkflowNotFoundError ||
  err instanceof ScheduleNotFoundError ||
  ['WorkflowNotFoundError', 'ScheduleNotFoundError'].includes((err as Error).name);

/** `reconcile:{tenant}` names the tenant's schedule, not a run: its latest run answers for it. */
async function latestReconcileRun(deps: AppDeps, scheduleId: string): Promise<string> {
  let info;
  try {
    info = (await deps.temporal.schedule.getHandle(scheduleId).describe()).info;
  } catch (err) {
    if (notFound(err)) throw new ApiError('M_NOT_FOUND', `no workflow "${scheduleId}"`);
    throw err;
  }
  const latest = info.runningActions.at(-1) ?? info.recentActions.at(-1)?.action;
  if (!latest) throw new ApiError('M_NOT_FOUND', `"${scheduleId}" has not run yet`);
  return latest.workflow.workflowId;
}

/** A message send as its outbox row tells it, without a workflow (no runId, no workflowStatus). */
async function outboxOperation(
  deps: AppDeps,
  workflowId: string,
  parsed: { tenant: string; slug: string; userSlug?: string },
): Promise<Record<string, unknown> | null> {
  if (parsed.userSlug === undefined) return null;
  const row = await createMessageOutbox(deps.db).get({
    tenant: parsed.tenant,
    userSlug: parsed.userSlug,
    txnId: parsed.slug,
  });
  if (!row) return null;
  const base = { workflowId, kind: 'msg' };
  if (row.status === 'sent')
    return {
      ...base,
      status: 'completed',
      result: { eventId: row.eventId, roomId: row.roomId, userSlug: row.userSlug, clientTxnId: row.txnId },
    };
  if (row.status === 'failed') return { ...base, status: 'failed', failure: row.error ?? row.errcode ?? 'failed' };
  return { ...base, status: 'running' };
}

/** `GET /v1/operations/{workflowId}`: where a workflow started through the API stands. */
export function operationsRoutes(deps: AppDeps) {
  return new Hono<ApiEnv, BlankSchema, typeof OPERATIONS_PREFIX>().get(
    below(OPERATIONS_PREFIX, getOperation),
    async (c) => {
      const asked = c.req.param('workflowId');
      const parsed = parseWorkflowId(asked);
      if (!parsed) throw new ApiError('M_INVALID_PARAM', `"${asked}" is not a workflow id of this service`);
      assertTenant(c.get('principal'), parsed.tenant);
      const workflowId =
        parsed.kind === 'reconcile' && parsed.slug === '' ? await latestReconcileRun(deps, asked) : asked;
      const handle = deps.temporal.workflow.getHandle(workflowId);
      let description;
      try {
        description = await handle.describe();
      } catch (err) {
        if (!notFound(err)) throw err;
        // A send the API finished itself has no workflow: its outbox row answers (decision 0036).
        const sent = parsed.kind === 'msg' ? await outboxOperation(deps, asked, parsed) : null;
        if (sent) return c.json(sent);
        throw new ApiError('M_NOT_FOUND', `no workflow "${workflowId}"`);
      }
      const workflowStatus = description.status.name;
      const base = { workflowId, runId: description.runId, kind: parsed.kind, workflowStatus };
      // The user and room entities answer a state query, a users batch its progress; the others are running, or their result.
      const resultOnly = parsed.kind !== 'user' && parsed.kind !== 'room';
      if (workflowStatus === 'RUNNING' && !resultOnly) {
        const state = parsed.kind === 'room' ? await handle.query(roomStateQuery) : await handle.query(userStateQuery);
        return c.json({ ...base, status: statusOf(state), state });
      }
      if (workflowStatus === 'RUNNING' && parsed.kind === 'users-batch') {
        const state = await handle.query(usersBatchProgressQuery);
        return c.json({ ...base, status: 'running' as OperationStatus, state });
      }
      if (workflowStatus === 'RUNNING') return c.json({ ...base, status: 'running' as OperationStatus });
      if (workflowStatus === 'COMPLETED' || workflowStatus === 'CONTINUED_AS_NEW') {
        const result = await handle.result();
        if (resultOnly) return c.json({ ...base, status: 'completed' as OperationStatus, result });
        const state = result as UserState | RoomState;
        return c.json({ ...base, status: statusOf(state), state });
      }
      let failure: string = workflowStatus.toLowerCase();
      try {
        await handle.result();
      } catch (err) {
        const e = err as { cause?: { message?: string }; message?: string };
        failure = e.cause?.message ?? e.message ?? failure;
      }
      return c.json({ ...base, status: 'failed' as OperationStatus, failure });
    },
  );
}
