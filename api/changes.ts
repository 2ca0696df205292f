import {
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type WorkflowUpdateHandle,
} from '@temporalio/client';
import type { Context } from 'hono';
import { FailureType } from '../vocabulary/failures.js';
import { changeRoom } from '../starters/starters.js';
import { roomWorkflowId } from '../vocabulary/ids.js';
import type { RoomChange, RoomChangeResult, RoomRef } from '../vocabulary/contract.js';
import type { ApiEnv, AppDeps } from './context.js';
import { ApiError, type ErrorCode } from './errors.js';
import { createRoomSlugStore } from '../adapters/store/room-slugs.js';
import { matrixNamesProblem } from './room-input.js';
import { entityOf, renameEntity } from './room-slugs.js';
import { assertValid } from './spec/validation.js';
import { waitForResult } from './wait.js';
import { originOf } from './audit-origin.js';
import { createUserDirectory, type UserDirectory } from './user-directory.js';

class AcceptTimeout extends Error {}

/** Workflow failure types that are the caller's problem, and how the API names them. */
const FAILURE_ERRCODES: Readonly<Record<string, ErrorCode>> = {
  [FailureType.InvalidChange]: 'M_INVALID_PARAM',
  [FailureType.RoomArchived]: 'OM_ROOM_ARCHIVED',
  [FailureType.RoomMissing]: 'OM_ROOM_MISSING',
  [FailureType.UserDeactivated]: 'OM_USER_DEACTIVATED',
  [FailureType.UserBanned]: 'OM_USER_BANNED',
  [FailureType.UserBindingConflict]: 'OM_USER_BINDING_CONFLICT',
  [FailureType.AccountMissing]: 'M_NOT_FOUND',
  [FailureType.UserNotManaged]: 'OM_USER_NOT_MANAGED',
  [FailureType.RoomAdoptionConflict]: 'OM_ROOM_ADOPTION_CONFLICT',
  [FailureType.RoomNotAdoptable]: 'OM_ROOM_NOT_ADOPTABLE',
  [FailureType.KnockUnsupported]: 'OM_KNOCK_UNSUPPORTED',
  [FailureType.RequestNotFound]: 'OM_REQUEST_NOT_FOUND',
  [FailureType.RequestDecided]: 'OM_REQUEST_DECIDED',
  [FailureType.UserOffboarded]: 'OM_USER_OFFBOARDED',
};

/**
 * Waits up to the configured time for an update's outcome: 200 with the result, 202 with the
 * operation to follow, or the failure as a Matrix-style error naming what went wrong.
 */
export async function respondWithOutcome<T extends object>(
  c: Context<ApiEnv>,
  deps: AppDeps,
  workflowId: string,
  accepted: () => Promise<WorkflowUpdateHandle<T>>,
  extra: Record<string, unknown> = {},
): Promise<Response> {
  const operation = `/v1/operations/${encodeURIComponent(workflowId)}`;
  let outcome: { done: true; value: T } | { done: false };
  try {
    // Accepting needs a worker to run a workflow task; with none polling, the call would wait
    // forever. Aborted, not given a deadline: the client's retry interceptor would retry that.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), deps.config.api.acceptTimeoutMs);
    let handle: WorkflowUpdateHandle<T>;
    try {
      handle = await deps.temporal.withAbortSignal(abort.signal, accepted);
    } catch (err) {
      if (abort.signal.aborted) throw new AcceptTimeout();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    outcome = await waitForResult(deps.temporal, () => handle.result(), deps.config.api.waitMs);
  } catch (err) {
    if (err instanceof AcceptTimeout || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new ApiError(
        'OM_UNAVAILABLE',
        `no worker accepted the request within ${deps.config.api.acceptTimeoutMs / 1000} s (is a worker running?); it may still be applied later, and repeating it is safe`,
      );
    }
    if (err instanceof WorkflowUpdateFailedError || (err as Error).name === 'WorkflowUpdateFailedError') {
      let cause = (err as { cause?: unknown }).cause as
        { type?: string; message?: string; cause?: unknown } | undefined;
      while (cause && !cause.type && cause.cause) cause = cause.cause as typeof cause;
      const errcode = (cause?.type && FAILURE_ERRCODES[cause.type]) || 'OM_UPSTREAM_FAILED';
      throw new ApiError(errcode, cause?.message ?? (err as Error).message);
    }
    throw err;
  }
  if (!outcome.done) {
    c.header('Location', operation);
    return c.json({ workflowId, status: 'running', operation, ...extra }, 202);
  }
  return c.json({ workflowId, status: 'completed', ...extra, ...outcome.value, operation }, 200);
}

const directories = new WeakMap<AppDeps, UserDirectory>();

/** The user slugs a change names: its member, a list's members, or a DM's two users. */
const usersOf = (ref: RoomRef, change: RoomChange): string[] =>
  change.type === 'addMember' || change.type === 'removeMember'
    ? [change.userSlug]
    : change.type === 'setMembers'
      ? change.members.map((m) => m.userSlug)
      : ref.kind === 'dm' && change.type === 'ensure'
        ? ref.slug.split('~')
        : [];

/**
 * Sends one change to a room and answers with its outcome. `ref` names the room as the request
 * did; the change goes to the entity behind that slug (api/room-slugs.ts), a new one claiming it.
 * A rename is committed in PostgreSQL first, so requests naming either slug route right at once;
 * the workflow then brings the room's aliases along (decision 0031). A user named by a slug
 * renamed since is told the new one (409 OM_USER_RENAMED), not made anew.
 */
export async function roomChange(
  c: Context<ApiEnv>,
  deps: AppDeps,
  ref: RoomRef,
  change: RoomChange,
): Promise<Response> {
  // Every route that makes a room, a member or a DM comes through here: check the Matrix names once.
  assertValid(matrixNamesProblem(deps.config.matrix, ref, change));
  const users = usersOf(ref, change);
  if (users.length) {
    let directory = directories.get(deps);
    if (!directory) directories.set(deps, (directory = createUserDirectory(deps.config, deps.db)));
    await directory.assertCurrent(ref.tenant, users);
  }
  const slugs = createRoomSlugStore(deps.db);
  const entity =
    change.type === 'rename'
      ? await renameEntity(slugs, ref, change.newSlug)
      : await entityOf(slugs, ref, { claim: true });
  return respondWithOutcome<RoomChangeResult>(c, deps, roomWorkflowId(entity.tenant, entity.kind, entity.slug), () =>
    changeRoom(deps.temporal, deps.config, entity, { ...change, requestId: c.get('requestId'), origin: originOf(c) }),
  );
}
