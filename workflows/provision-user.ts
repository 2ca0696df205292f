import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { UserActivities } from '../activities/users.js';
import {
  DISPLAY_NAME_MAX_LENGTH,
  provisionUserUpdate,
  userStateQuery,
  type ProvisionMatrixUserResult,
  type ProvisionUserInput,
  type ProvisionUserRequest,
  type ProvisionUserResult,
  type UserState,
} from '../vocabulary/contract.js';
import { endCleanlyOnCancel } from './cancellation.js';
import { MatrixUserIdKey } from '../vocabulary/search-attributes.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';
import { auditProvision } from './user-audit.js';
import { isAuditOrigin } from '../vocabulary/audit.js';

/**
 * Homeserver calls retry until the homeserver answers (it may be down for a while: the workflow
 * waits); permanent failures are marked non-retryable by the activities themselves.
 */
const { provisionMatrixUser, ensureMatrixUser, ensureUserCredential } = proxyActivitiesWithSummaries<UserActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** Provisioning in one activity instead of two (fewer Temporal round trips per user; BENCHMARKS.md). */
const ONE_ACTIVITY = 'one-provisioning-activity';

/** A first run's state: nothing provisioned yet. */
function newUserState(input: ProvisionUserInput): UserState {
  return {
    tenant: input.tenant,
    slug: input.slug,
    userId: null,
    displayName: null,
    provisioned: false,
    requestsApplied: 0,
    pendingRequests: 0,
    lastError: null,
  };
}

/** Rejects a request before it is accepted into history. */
function validateProvisionRequest(req: ProvisionUserRequest): void {
  if (typeof req?.displayName !== 'string' || req.displayName.trim() === '') {
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'displayName must be a non-empty string' });
  }
  if (req.displayName.length > DISPLAY_NAME_MAX_LENGTH) {
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'displayName is too long' });
  }
  if (req.matrixUserId !== undefined && (typeof req.matrixUserId !== 'string' || !req.matrixUserId.startsWith('@'))) {
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'matrixUserId must be a Matrix user id' });
  }
  if (req.origin !== undefined && !isAuditOrigin(req.origin)) {
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'origin must be {subject, requestId?}' });
  }
}

/**
 * The starter sets MatrixUserId from the start (starters/starters.ts): upserting the same value again
 * costs Temporal a visibility write per user for nothing (decision 0037). Runs from before this
 * patch upsert it as they did.
 */
const USER_ID_FROM_START = 'user-id-attribute-from-start';

function noteUserId(state: UserState, userId: string): void {
  if (state.userId !== userId && !hasUserIdAttribute(userId)) {
    upsertSearchAttributes([{ key: MatrixUserIdKey, value: userId }]);
  }
  state.userId = userId;
}

/** Whether the run's MatrixUserId search attribute already says `userId` (and this run may rely on it). */
function hasUserIdAttribute(userId: string): boolean {
  return workflowInfo().typedSearchAttributes.get(MatrixUserIdKey) === userId && patched(USER_ID_FROM_START);
}

/**
 * Account and token: one activity since patch ONE_ACTIVITY; runs from before replay with two.
 * Retire the old branch as decision 0025 says.
 */
async function provision(state: UserState, req: ProvisionUserRequest): Promise<ProvisionMatrixUserResult> {
  const { displayName, matrixUserId } = req;
  const input = { tenant: state.tenant, slug: state.slug, displayName, ...(matrixUserId ? { matrixUserId } : {}) };
  if (patched(ONE_ACTIVITY)) {
    const provisioned = await provisionMatrixUser(input);
    noteUserId(state, provisioned.userId);
    return provisioned;
  }
  const user = await ensureMatrixUser(input);
  noteUserId(state, user.userId);
  // A reactivated user's old token died with the deactivation: replace it.
  const credential = await ensureUserCredential({
    tenant: state.tenant,
    slug: state.slug,
    userId: user.userId,
    renew: user.reactivated,
  });
  return { ...user, tokenIssued: credential.issued };
}

/**
 * The user entity, id `user:{tenant}:{slug}`. Requests arrive as Updates and are applied one at a
 * time, so concurrent identical requests share one run and make one user and one token. The
 * workflow completes after a quiet period; the next request starts a fresh run, which finds the
 * user and token already there and changes nothing.
 */
export async function provisionUserWorkflow(input: ProvisionUserInput): Promise<UserState> {
  const state: UserState = input.carried ?? newUserState(input);
  let received = 0;
  // Serializes requests in arrival order; a failed request does not block the ones behind it.
  let tail: Promise<unknown> = Promise.resolve();

  async function apply(req: ProvisionUserRequest): Promise<ProvisionUserResult> {
    const user = await provision(state, req);
    state.displayName = req.displayName;
    state.provisioned = true;
    state.requestsApplied += 1;
    log.info('user provisioned', { userId: user.userId, created: user.created, tokenIssued: user.tokenIssued });
    return {
      userId: user.userId,
      created: user.created,
      displayNameChanged: user.displayNameChanged,
      displayName: req.displayName,
      tokenIssued: user.tokenIssued,
      ...(user.adopted ? { adopted: true } : {}),
    };
  }

  function enqueue(req: ProvisionUserRequest): Promise<ProvisionUserResult> {
    received += 1;
    state.pendingRequests += 1;
    const run = tail.then(() => apply(req));
    tail = run
      .then(
        (result) => {
          state.lastError = null;
          return auditProvision(state, req, { ok: true, result });
        },
        (err: unknown) => {
          const cause = (err as { cause?: { type?: string; message?: string } }).cause;
          state.lastError = { type: cause?.type ?? 'Failure', message: cause?.message ?? String(err) };
          return auditProvision(state, req, { ok: false, error: err });
        },
      )
      .finally(() => {
        state.pendingRequests -= 1;
      });
    return run;
  }

  setHandler(userStateQuery, () => state);
  setHandler(provisionUserUpdate, enqueue, { validator: validateProvisionRequest });

  if (input.displayName !== undefined) void enqueue({ displayName: input.displayName }).catch(() => undefined);

  const idleMs = input.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  return endCleanlyOnCancel(async () => {
    for (;;) {
      const seen = received;
      const woke = await condition(() => received !== seen || workflowInfo().continueAsNewSuggested, idleMs);
      if (workflowInfo().continueAsNewSuggested) {
        await tail;
        await condition(allHandlersFinished);
        await continueAsNew<typeof provisionUserWorkflow>({ ...input, displayName: undefined, carried: state });
      }
      if (!woke) {
        await tail;
        await condition(allHandlersFinished);
        if (received === seen) return state;
      }
    }
  });
}
