/**
 * `GET …/rooms/{kind}/{slug}`: the room's state as its workflow has it (its query while it runs, its
 * result once ended), with the join requests, the space hierarchy and each desired member's
 * membership on the homeserver now.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { createJoinRequestStore } from '../adapters/store/join-requests.js';
import { createUserLookup } from '../adapters/store/user-bindings.js';
import { roomStateQuery, type RoomRef, type RoomState } from '../vocabulary/contract.js';
import { matrixUserId, roomWorkflowId } from '../vocabulary/ids.js';
import type { AppDeps } from './context.js';
import { ApiError } from './errors.js';
import { createRelayHomeserver } from './relay/homeserver.js';
import { hierarchyOf } from './space-view.js';

export function createRoomView(deps: AppDeps) {
  const homeserver = deps.relay?.homeserver ?? createRelayHomeserver(deps.config);
  const users = createUserLookup(deps.db);
  const joinRequests = createJoinRequestStore(deps.db);
  /**
   * Each desired member's membership on the homeserver now (`none` when they have none): `invite`
   * for one who has not joined yet, e.g. an adopted account the service cannot act as, until their
   * own client accepts. Left out when the homeserver does not answer: the state is still worth having.
   */
  async function membershipsOf(state: RoomState): Promise<{ memberships?: Record<string, string> }> {
    if (!state.roomId) return {};
    try {
      const slugs = Object.keys(state.members);
      const [all, bound] = await Promise.all([homeserver.memberships(state.roomId), users.many(state.tenant, slugs)]);
      const { userPrefix, serverName } = deps.config.matrix;
      const idOf = (s: string) => bound.get(s)?.userId ?? matrixUserId(userPrefix, serverName, state.tenant, s);
      return { memberships: Object.fromEntries(slugs.map((s) => [s, all[idOf(s)] ?? 'none'])) };
    } catch (err) {
      deps.log.warn({ err }, 'room view: memberships not read from the homeserver');
      return {};
    }
  }

  /** The view of the entity `r` (its first slug). */
  return async function view(r: RoomRef): Promise<Record<string, unknown>> {
    const handle = deps.temporal.workflow.getHandle(roomWorkflowId(r.tenant, r.kind, r.slug));
    try {
      const d = await handle.describe();
      const state =
        d.status.name === 'RUNNING' ? await handle.query(roomStateQuery) : ((await handle.result()) as RoomState);
      // Join requests as PostgreSQL has them now (the workflow's copy may lag a knock by a signal).
      const requests = await joinRequests.list(r);
      return {
        workflowStatus: d.status.name,
        ...state,
        ...(requests.length ? { requests } : {}),
        ...(await hierarchyOf(deps.db, r)),
        ...(await membershipsOf(state)),
      };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError') {
        throw new ApiError('M_NOT_FOUND', `no room for ${r.kind} ${r.slug}`);
      }
      const cause = (err as { cause?: { message?: string } }).cause;
      if (cause?.message) throw new ApiError('OM_ROOM_MISSING', cause.message);
      throw err;
    }
  };
}
