/**
 * The drift report's reads (decision 0059): a page of a tenant's rooms, each compared with the
 * homeserver as the bot by activities/rooms/drift.ts (reconciliation's own comparisons; nothing is
 * written), beside what the recent reconcile runs did about it.
 */
import { identityFor } from '../adapters/identity/index.js';
import { createMatrixBot } from '../adapters/matrix/client.js';
import type { Db } from '../adapters/store/db.js';
import { createJoinRequestStore } from '../adapters/store/join-requests.js';
import { createReconcileRunReads, type RoomReconciled } from '../adapters/store/reconcile-runs.js';
import { createRoomMuteStore } from '../adapters/store/room-mutes.js';
import { createRoomStore } from '../adapters/store/rooms.js';
import { createUserStore } from '../adapters/store/users.js';
import type { Config } from '../lib/config.js';
import { TokenCipher } from '../lib/token-cipher.js';
import { roomContext } from '../activities/rooms/context.js';
import { driftUnknown, roomDrift, type RoomDrift } from '../activities/rooms/drift.js';
import type { RoomKind } from '../vocabulary/ids.js';

/** Rooms compared per page at most (DRIFT_PAGE_MAX), and by default; compared this many at once. */
export const DRIFT_PAGE = { default: 20, max: 50, parallel: 4 } as const;

export type RoomDriftLine = RoomDrift & { reconciliation: RoomReconciled };

export interface DriftReport {
  rooms: RoomDriftLine[];
  /** Pass as `after` for the next page; null on the last. */
  next: string | null;
}

export function createDriftReader(config: Config, db: Db) {
  const users = createUserStore(db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
  const rooms = createRoomStore(db);
  const runs = createReconcileRunReads(db);
  const { userPrefix, serverName, homeserverUrl, asToken, botLocalpart } = config.matrix;
  const ctx = roomContext({
    bot: createMatrixBot({ homeserverUrl, asToken, userId: `@${botLocalpart}:${serverName}` }),
    rooms,
    users,
    identity: identityFor(config, users).identity,
    userPrefix,
    serverName,
    powerLevels: config.rooms.powerLevels,
    mutes: createRoomMuteStore(db),
    // Approved join requests keep plain Matrix users out of the prune's drift, as in reconciliation.
    joinRequests: createJoinRequestStore(db),
  });
  const compare = async (tenant: string, kind: RoomKind, slug: string): Promise<RoomDrift | null> => {
    const record = await rooms.get(tenant, kind, slug);
    if (!record) return null;
    try {
      return await roomDrift(ctx, record);
    } catch (err) {
      return driftUnknown(record, `the homeserver could not be read: ${(err as Error).message ?? String(err)}`);
    }
  };
  const withRuns = async (tenant: string, found: RoomDrift[]): Promise<RoomDriftLine[]> => {
    const done = await runs.reconciled(tenant, found.map((r) => `${r.kind}/${r.slug}`));
    return found.map((r) => ({ ...r, reconciliation: done.get(`${r.kind}/${r.slug}`)! }));
  };
  return {
    /** One room by its entity's slug; null when PostgreSQL has no such room. */
    async room(tenant: string, kind: RoomKind, slug: string): Promise<RoomDriftLine | null> {
      const r = await compare(tenant, kind, slug);
      return r ? (await withRuns(tenant, [r]))[0]! : null;
    },
    /** Up to `limit` of the tenant's rooms (not archived) after `after` (`kind/slug`), in that order. */
    async page(tenant: string, after: { kind: RoomKind; slug: string } | null, limit: number): Promise<DriftReport> {
      const refs = await runs.roomPage(tenant, after, limit + 1);
      const more = refs.length > limit;
      const page = refs.slice(0, limit);
      const found: RoomDrift[] = [];
      for (let i = 0; i < page.length; i += DRIFT_PAGE.parallel) {
        const chunk = await Promise.all(page.slice(i, i + DRIFT_PAGE.parallel).map((r) => compare(tenant, r.kind, r.slug)));
        for (const r of chunk) if (r) found.push(r);
      }
      const last = page.at(-1);
      return { rooms: await withRuns(tenant, found), next: more && last ? `${last.kind}/${last.slug}` : null };
    },
  };
}
