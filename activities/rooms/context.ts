import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { PowerLevelTable } from '../../vocabulary/roles.js';
import { matrixUserId, roomAliasLocalpart } from '../../vocabulary/ids.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import type { WorkflowGateway } from '../gateway.js';
import type { Identity } from '../../adapters/identity/index.js';
import type { MatrixAdmin } from '../../adapters/matrix/admin.js';
import type { MatrixAliases } from '../../adapters/matrix/aliases.js';
import type { MatrixBot } from '../../adapters/matrix/client.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { RoomSlugStore } from '../../adapters/store/room-slugs.js';
import type { MatrixSpaces } from '../../adapters/matrix/spaces.js';
import type { SpaceStore } from '../../adapters/store/spaces.js';
import type { RoomStore } from '../../adapters/store/rooms.js';
import type { UserStore } from '../../adapters/store/users.js';

/** What the room activities are built from (the worker wires the real ones). */
export interface RoomActivityDeps {
  bot: MatrixBot;
  /** The Synapse Admin API, for room purges: admin identity mode only (null in appservice mode). */
  admin: MatrixAdmin | null;
  rooms: RoomStore;
  users: UserStore;
  /** How accounts are made and users acted as, in the configured identity mode. */
  identity: Identity;
  gateway: WorkflowGateway;
  homeserverUrl: string;
  userPrefix: string;
  serverName: string;
  powerLevels: PowerLevelTable;
  purgeOnArchive: boolean;
  /** A renamed room's aliases beyond the first, and the slugs they follow (decision 0031). */
  aliases: MatrixAliases;
  slugs: RoomSlugStore;
  /** How long an old slug's alias stays an alternative alias (ROOM_OLD_ALIAS_KEEP_SECONDS). */
  oldAliasKeepMs: number;
  /** Group spaces and bans on the homeserver, and in PostgreSQL (decision 0051). */
  spaces: MatrixSpaces;
  spaceStore: SpaceStore;
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
}

/** The naming rules bound to `deps`. */
export function roomContext(deps: RoomActivityDeps): RoomContext {
  const derived = (tenant: string, slug: string): string =>
    matrixUserId(deps.userPrefix, deps.serverName, tenant, slug);
  const userIds = async (tenant: string, slugs: readonly string[]): Promise<Map<string, string>> => {
    const bound = await deps.users.bindings(tenant, slugs);
    return new Map(slugs.map((s) => [s, bound.get(s)?.userId ?? derived(tenant, s)]));
  };
  return {
    deps,
    userIds,
    userIdOf: async (tenant, slug) => (await userIds(tenant, [slug])).get(slug)!,
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
