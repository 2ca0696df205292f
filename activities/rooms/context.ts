import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import { canActAs, type IdentityMode } from '../../vocabulary/identity.js';
import type { PowerLevelTable } from '../../vocabulary/roles.js';
import { matrixUserId, roomAliasLocalpart } from '../../vocabulary/ids.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import type { WorkflowGateway } from '../gateway.js';
import type { MatrixAdmin } from '../../adapters/matrix/admin.js';
import type { MatrixBot } from '../../adapters/matrix/client.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { RoomStore } from '../../adapters/store/rooms.js';
import type { UserStore } from '../../adapters/store/users.js';
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
  /** How the service acts as users (vocabulary/identity.ts): whom it can act as, and how it takes over rooms. */
  identityMode: IdentityMode;
}

/** The dependencies plus the naming rules every room activity shares. */
export interface RoomContext {
  deps: RoomActivityDeps;
  /**
   * The Matrix ids of user slugs, by slug: the stored binding (an adopted account, a renamed user's
   * own), else — for a user never provisioned — the id derived from the slug.
   */
  userIds(tenant: string, slugs: readonly string[]): Promise<Map<string, string>>;
  userIdOf(tenant: string, slug: string): Promise<string>;
  aliasOf(ref: RoomRef): string;
  /** A Matrix id in this tenant's managed namespace (the accounts the service creates). */
  isManaged(tenant: string, userId: string): boolean;
  /** Whether the service can act as the user (join, send) in its identity mode; otherwise it invites them. */
  canActAs(userId: string): boolean;
}

/** The naming rules bound to `deps`. */
export function roomContext(deps: RoomActivityDeps): RoomContext {
  const derived = (tenant: string, slug: string): string =>
    matrixUserId(deps.userPrefix, deps.serverName, tenant, slug);
  const userIds = async (tenant: string, slugs: readonly string[]): Promise<Map<string, string>> => {
    const bound = await deps.users.bindings(tenant, slugs);
    return new Map(slugs.map((s) => [s, bound.get(s)?.userId ?? derived(tenant, s)]));
  };
  const scope = { mode: deps.identityMode, serverName: deps.serverName, userPrefix: deps.userPrefix };
  return {
    deps,
    userIds,
    userIdOf: async (tenant, slug) => (await userIds(tenant, [slug])).get(slug)!,
    aliasOf: (r) => `#${roomAliasLocalpart(deps.userPrefix, r.tenant, r.kind, r.slug)}:${deps.serverName}`,
    isManaged: (tenant, userId) =>
      userId.startsWith(`@${deps.userPrefix}_${tenant}_`) && userId.endsWith(`:${deps.serverName}`),
    canActAs: (userId) => canActAs(scope, userId),
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
