import type pg from 'pg';
import type { RoomKind } from '../../vocabulary/ids.js';
import { rollback, type Db } from './db.js';

/** Where a slug leads: the entity (its first slug, decision 0031) and the slug it has now. */
export interface SlugRoute {
  entity: string;
  current: string;
}

/** One slug an entity has had: left at `renamedAt` (null: its current one). */
export interface SlugRecord {
  slug: string;
  renamedAt: Date | null;
  /** When its alias was taken off the homeserver (kept as an alternative alias until then). */
  aliasRemovedAt: Date | null;
}

export type RenameOutcome =
  /** Moved (`changed`), or already there: the same rename again changes nothing. */
  | { ok: true; entity: string; changed: boolean }
  | { ok: false; why: 'unknown' }
  /** `slug` is an old slug of the entity, which is at `current` now. */
  | { ok: false; why: 'renamed'; current: string }
  /** `newSlug` is (or was) another entity's. */
  | { ok: false; why: 'taken' }
  | { ok: false; why: 'archived' };

/** The slugs of room entities (migrations/008_room_slugs.sql). */
export interface RoomSlugStore {
  /** The entity a slug leads to, or null when no entity has ever had it. */
  find(tenant: string, kind: RoomKind, slug: string): Promise<SlugRoute | null>;
  /** `find`, or else the slug claimed for a new entity of its own (entity = slug). */
  claim(tenant: string, kind: RoomKind, slug: string): Promise<SlugRoute>;
  /** Moves the entity `slug` names to `newSlug`, in one transaction. */
  rename(tenant: string, kind: RoomKind, slug: string, newSlug: string): Promise<RenameOutcome>;
  /** Every slug of the entity, in the order it took them (empty for an entity never claimed here). */
  history(tenant: string, kind: RoomKind, entity: string): Promise<SlugRecord[]>;
  /** Notes that the alias of an old slug is off the homeserver. */
  aliasRemoved(tenant: string, kind: RoomKind, slug: string): Promise<void>;
  /** The entity's canonical alias, as the rooms table records it. */
  setAlias(tenant: string, kind: RoomKind, entity: string, alias: string): Promise<void>;
}

const FIND = `SELECT s.entity, c.slug AS current FROM room_slugs s
  JOIN room_slugs c ON c.tenant = s.tenant AND c.kind = s.kind AND c.entity = s.entity AND c.renamed_at IS NULL
  WHERE s.tenant = $1 AND s.kind = $2 AND s.slug = $3`;

/** Not settled in this attempt: a concurrent rename of the same entity moved its current slug. */
const AGAIN = Symbol('again');

async function renameOnce(
  client: pg.PoolClient,
  [tenant, kind, slug, newSlug]: [string, RoomKind, string, string],
): Promise<RenameOutcome | typeof AGAIN> {
  const from = await client.query<{ entity: string }>(
    'SELECT entity FROM room_slugs WHERE tenant = $1 AND kind = $2 AND slug = $3',
    [tenant, kind, slug],
  );
  const entity = from.rows[0]?.entity;
  if (entity === undefined) return { ok: false, why: 'unknown' };
  // Locked: renames of one entity are serialized; a waiter finds the row no longer current and tries again.
  const cur = await client.query<{ slug: string }>(
    'SELECT slug FROM room_slugs WHERE tenant = $1 AND kind = $2 AND entity = $3 AND renamed_at IS NULL FOR UPDATE',
    [tenant, kind, entity],
  );
  const current = cur.rows[0]?.slug;
  if (current === undefined) return AGAIN;
  if (current === newSlug) return { ok: true, entity, changed: false };
  if (current !== slug) return { ok: false, why: 'renamed', current };
  const room = await client.query<{ status: string }>(
    'SELECT status FROM rooms WHERE tenant = $1 AND kind = $2 AND slug = $3',
    [tenant, kind, entity],
  );
  if (room.rows[0]?.status === 'archived') return { ok: false, why: 'archived' };
  await client.query('UPDATE room_slugs SET renamed_at = now() WHERE tenant = $1 AND kind = $2 AND slug = $3', [
    tenant,
    kind,
    current,
  ]);
  // A slug the entity had before is taken back; another entity's is refused (no row comes back).
  const took = await client.query(
    `INSERT INTO room_slugs (tenant, kind, slug, entity) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant, kind, slug) DO UPDATE SET renamed_at = NULL, alias_removed_at = NULL
     WHERE room_slugs.entity = EXCLUDED.entity RETURNING slug`,
    [tenant, kind, newSlug, entity],
  );
  if (took.rowCount === 0) return { ok: false, why: 'taken' };
  return { ok: true, entity, changed: true };
}

export function createRoomSlugStore(db: Db): RoomSlugStore {
  const find = async (tenant: string, kind: RoomKind, slug: string): Promise<SlugRoute | null> =>
    (await db.query<SlugRoute>(FIND, [tenant, kind, slug])).rows[0] ?? null;
  return {
    find,
    async claim(tenant, kind, slug) {
      const found = await find(tenant, kind, slug);
      if (found) return found;
      await db.query(
        'INSERT INTO room_slugs (tenant, kind, slug, entity) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING',
        [tenant, kind, slug],
      );
      // Ours, or whoever claimed it (or renamed onto it) a moment before.
      const route = await find(tenant, kind, slug);
      if (!route) throw new Error(`room slug ${tenant}/${kind}/${slug} was neither found nor claimed`);
      return route;
    },
    async rename(...args) {
      for (let attempt = 0; ; attempt++) {
        const client = await db.connect();
        let outcome: RenameOutcome | typeof AGAIN;
        try {
          await client.query('BEGIN');
          outcome = await renameOnce(client, args);
          await client.query(outcome === AGAIN || !outcome.ok ? 'ROLLBACK' : 'COMMIT');
        } catch (err) {
          await rollback(client, err);
          throw err;
        } finally {
          client.release();
        }
        if (outcome !== AGAIN) return outcome;
        if (attempt >= 5) throw new Error(`room ${args[0]}/${args[1]}/${args[2]}: its current slug kept moving`);
      }
    },
    async history(tenant, kind, entity) {
      const r = await db.query<{ slug: string; renamed_at: Date | null; alias_removed_at: Date | null }>(
        `SELECT slug, renamed_at, alias_removed_at FROM room_slugs
         WHERE tenant = $1 AND kind = $2 AND entity = $3 ORDER BY claimed_at, slug`,
        [tenant, kind, entity],
      );
      return r.rows.map((x) => ({ slug: x.slug, renamedAt: x.renamed_at, aliasRemovedAt: x.alias_removed_at }));
    },
    async aliasRemoved(tenant, kind, slug) {
      await db.query(
        'UPDATE room_slugs SET alias_removed_at = now() WHERE tenant = $1 AND kind = $2 AND slug = $3 AND renamed_at IS NOT NULL',
        [tenant, kind, slug],
      );
    },
    async setAlias(tenant, kind, entity, alias) {
      await db.query(
        'UPDATE rooms SET alias = $4, updated_at = now() WHERE tenant = $1 AND kind = $2 AND slug = $3 AND alias <> $4',
        [tenant, kind, entity, alias],
      );
    },
  };
}
