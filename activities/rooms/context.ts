import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../lib/failures.js';
import type { PowerLevelTable } from '../../lib/roles.js';
import { matrixUserId, roomAliasLocalpart } from '../../workflows/ids.js';
import type { RoomRef } from '../../workflows/messages.js';
import type { WorkflowGateway } from '../gateway.js';
import type { MatrixAdmin } from '../matrix/admin.js';
import type { MatrixBot } from '../matrix/client.js';
import { matrixCall } from '../matrix/errors.js';
import type { RoomStore } from '../store/rooms.js';
import type { UserStore } from '../store/users.js';
import type { UserSessions } from '../user-session.js';

/** What the room activities are built from (the worker wires the real ones). */
export interface RoomActivityDeps {
  bot: MatrixBot;
  admin: MatrixAdmin;
  rooms: RoomStore;
  users: UserStore;
  sessions: UserSessions;
  gateway: WorkflowGateway;
  homeserverUrl: string;
  userPrefix: string;
  serverName: string;
  powerLevels: PowerLevelTable;
  purgeOnArchive: boolean;
}

/** The dependencies plus the naming rules every room activity shares. */
export interface RoomContext {
  deps: RoomActivityDeps;
  userIdOf(tenant: string, slug: string): string;
  aliasOf(ref: RoomRef): string;
  /** A Matrix id in this tenant's managed namespace (ours to add, remove and level). */
  isManaged(tenant: string, userId: string): boolean;
}

/** The naming rules bound to `deps`. */
export function roomContext(deps: RoomActivityDeps): RoomContext {
  return {
    deps,
    userIdOf: (tenant, slug) => matrixUserId(deps.userPrefix, deps.serverName, tenant, slug),
    aliasOf: (r) => `#${roomAliasLocalpart(deps.userPrefix, r.tenant, r.kind, r.slug)}:${deps.serverName}`,
    isManaged: (tenant, userId) =>
      userId.startsWith(`@${deps.userPrefix}_${tenant}_`) && userId.endsWith(`:${deps.serverName}`),
  };
}

/**
 * Fails as RoomMissing (non-retryable, 410 at the API) when the room cannot be reached: a room
 * deleted behind our back is reported, never replaced by an empty one.
 */
export async function reachableOrFail(ctx: RoomContext, ref: RoomRef, roomId: string): Promise<void> {
  if (!(await matrixCall(() => ctx.deps.bot.roomIsReachable(roomId)))) {
    throw ApplicationFailure.create({
      type: FailureType.RoomMissing,
      message: `room ${roomId} of ${ref.tenant}/${ref.kind}/${ref.slug} is gone from the homeserver (or the bot was removed); not creating an empty replacement`,
      nonRetryable: true,
    });
  }
}
