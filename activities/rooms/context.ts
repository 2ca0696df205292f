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
import type { JoinRequestStore } from '../../adapters/store/join-requests.js';
import type { RoomMuteStore } from '../../adapters/store/room-mutes.js';
import type { UserStore } from '../../adapters/store/users.js';
import type { EventTimeStore } from '../../adapters/store/event-times.js';
import type { BotNotices } from '../../adapters/matrix/bot-notices.js';

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
  /** Join requests (decision 0055); without it, rooms load none and decisions fail. */
  joinRequests?: JoinRequestStore;
  /** Members muted for a time (decision 0058): every power-levels write reads them. */
  mutes: RoomMuteStore;
  /** Events' times and timers, tenants' policies; the bot's notices (decision 0053). */
  eventTimes?: EventTimeStore;
  notices?: BotNotices;
  /** Whether an offboarding holds the account back (decision 0056): it is never brought into a room. */
  offboardingHolds?: (tenant: string, userId: string) => Promise<boolean>;
  /** Group spaces and bans on the homeserver, and in PostgreSQL (decision 0051). */
  spaces: MatrixSpaces;
  spaceStore: SpaceStore;
}

/** What comparing a room with the homeserver needs, without writing anything: the drift report's (the API's) too. */
export type ReadDeps = Pick<
  RoomActivityDeps,
  'bot' | 'rooms' | 'users' | 'identity' | 'userPrefix' | 'serverName' | 'powerLevels' | 'mutes' | 'joinRequests'
>;

/** The dependencies plus the naming rules every room activity shares. */
export interface RoomContext<D extends ReadDeps = RoomActivityDeps> {
  deps: D;
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

/** A context that only reads (the comparisons reconciliation and the drift report share). */
export type ReadContext = RoomContext<ReadDeps>;

/** The naming rules bound to `deps`. */
export function roomContext<D extends ReadDeps>(deps: D): RoomContext<D> {
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
