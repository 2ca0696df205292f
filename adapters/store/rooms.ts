import type { RoomKind } from '../../vocabulary/ids.js';
import type { JoinRulesContent } from '../matrix/join-rules.js';
import type { RoomSettings, Visibility } from '../../vocabulary/contract.js';
import type { Db } from './db.js';

export interface RoomRecord {
  tenant: string;
  kind: RoomKind;
  slug: string;
  alias: string;
  roomId: string | null;
  settings: RoomSettings;
  status: 'active' | 'archived';
  members: Record<string, string>;
  /** Taken over (adopted) rather than created by the service. */
  adopted: boolean;
  /** User slugs banned from the room's group (decision 0051); absent: none, or from before bans. */
  bans?: string[];
  /** An event's group (decision 0051), when it has one. */
  group?: string;
}

/** Rooms and their desired membership. */
export interface RoomStore {
  get(tenant: string, kind: RoomKind, slug: string): Promise<RoomRecord | null>;
  /** Records the room (and its tenant) with its alias and settings; keeps an existing room id. */
  upsert(room: { tenant: string; kind: RoomKind; slug: string; alias: string; settings: RoomSettings }): Promise<void>;
  setRoomId(tenant: string, kind: RoomKind, slug: string, roomId: string, adopted?: boolean): Promise<void>;
  /** The entity whose room this is, or null. */
  ownerOf(roomId: string): Promise<{ tenant: string; kind: RoomKind; slug: string } | null>;
  /**
   * Applies desired-membership changes in one transaction. A user renamed meanwhile is recorded
   * under their new slug (not in DMs, named by their users' slugs): `renamed` lists those, old → new.
   * `adopted`: the room is one the service took over (its people may have levels of their own).
   */
  applyMembers(
    tenant: string,
    kind: RoomKind,
    slug: string,
    upserts: Record<string, string>,
    removals: string[],
  ): Promise<MembersApplied>;
  archive(tenant: string, kind: RoomKind, slug: string): Promise<void>;
  /** The join rules an archive closed, kept for the reopen (null clears them); and read back. */
  keepJoinRules(tenant: string, kind: RoomKind, slug: string, rules: JoinRulesContent | null): Promise<void>;
  keptJoinRules(tenant: string, kind: RoomKind, slug: string): Promise<JoinRulesContent | null>;
  listActive(tenant: string): Promise<{ kind: RoomKind; slug: string }[]>;
  recordReconcile(tenant: string, startedAt: Date, rooms: number, fixes: unknown): Promise<void>;
}

export interface MembersApplied {
  renamed: Record<string, string>;
  adopted: boolean;
}

interface RoomRow {
  alias: string;
  room_id: string | null;
  name: string | null;
  topic: string | null;
  visibility: Visibility;
  encrypted: boolean;
  status: 'active' | 'archived';
  adopted: boolean;
  prune: boolean;
  knock: boolean;
}

/** RoomStore.applyMembers: one transaction, on a client of its own. */
async function applyMembers(
  db: Db,
  tenant: string,
  kind: RoomKind,
  slug: string,
  upserts: Record<string, string>,
  removals: string[],
): Promise<MembersApplied> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const renamed: Record<string, string> = {};
    if (kind !== 'dm') {
      const slugs = [...Object.keys(upserts), ...removals];
      // A rename holds its user's row (FOR UPDATE) until it commits: waiting for it here means either
      // it renamed the rows this writes (it came first) or this sees its pointer (it came after).
      if (slugs.length)
        await client.query('SELECT 1 FROM matrix_users WHERE tenant = $1 AND slug = ANY($2::text[]) ORDER BY slug FOR SHARE', [
          tenant,
          slugs,
        ]);
      const r = slugs.length
        ? await client.query<{ old_slug: string; new_slug: string }>(
            'SELECT old_slug, new_slug FROM user_renames WHERE tenant = $1 AND old_slug = ANY($2::text[])',
            [tenant, slugs],
          )
        : { rows: [] };
      for (const x of r.rows) renamed[x.old_slug] = x.new_slug;
    }
    const current = (s: string): string => renamed[s] ?? s;
    const entries = Object.entries(upserts).map(([u, role]) => [current(u), role] as const);
    removals = removals.map(current);
    if (entries.length) {
      await client.query(
        `INSERT INTO room_members (tenant, kind, slug, user_slug, role)
         SELECT $1, $2, $3, u, r FROM unnest($4::text[], $5::text[]) AS t(u, r)
         ON CONFLICT (tenant, kind, slug, user_slug) DO UPDATE SET role = EXCLUDED.role, updated_at = now()`,
        [tenant, kind, slug, entries.map((e) => e[0]), entries.map((e) => e[1])],
      );
    }
    if (removals.length) {
      await client.query(
        'DELETE FROM room_members WHERE tenant = $1 AND kind = $2 AND slug = $3 AND user_slug = ANY($4::text[])',
        [tenant, kind, slug, removals],
      );
    }
    const room = await client.query<{ adopted: boolean }>(
      'SELECT adopted FROM rooms WHERE tenant = $1 AND kind = $2 AND slug = $3',
      [tenant, kind, slug],
    );
    await client.query('COMMIT');
    return { renamed, adopted: room.rows[0]?.adopted ?? false };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** RoomStore's archive, and its copy of the join rules the archive closed (decision 0062). */
function archiveRows(db: Db): Pick<RoomStore, 'archive' | 'keepJoinRules' | 'keptJoinRules'> {
  return {
    async archive(tenant, kind, slug) {
      await db.query(`UPDATE rooms SET status = 'archived', updated_at = now() WHERE tenant = $1 AND kind = $2 AND slug = $3`, [tenant, kind, slug]);
    },
    async keepJoinRules(tenant, kind, slug, rules) {
      await db.query('UPDATE rooms SET archived_join_rules = $4 WHERE tenant = $1 AND kind = $2 AND slug = $3', [
        tenant,
        kind,
        slug,
        rules === null ? null : JSON.stringify(rules),
      ]);
    },
    async keptJoinRules(tenant, kind, slug) {
      const r = await db.query<{ archived_join_rules: JoinRulesContent | null }>(
        'SELECT archived_join_rules FROM rooms WHERE tenant = $1 AND kind = $2 AND slug = $3',
        [tenant, kind, slug],
      );
      return r.rows[0]?.archived_join_rules ?? null;
    },
  };
}

export function createRoomStore(db: Db): RoomStore {
  return {
    async get(tenant, kind, slug) {
      const r = await db.query<RoomRow>(
        'SELECT alias, room_id, name, topic, visibility, encrypted, status, adopted, prune, knock FROM rooms WHERE tenant = $1 AND kind = $2 AND slug = $3',
        [tenant, kind, slug],
      );
      const row = r.rows[0];
      if (!row) return null;
      const m = await db.query<{ user_slug: string; role: string }>(
        'SELECT user_slug, role FROM room_members WHERE tenant = $1 AND kind = $2 AND slug = $3 ORDER BY user_slug',
        [tenant, kind, slug],
      );
      const settings: RoomSettings = { visibility: row.visibility, encrypted: row.encrypted, ...(row.prune ? { prune: true } : {}), ...(row.knock ? { knock: true } : {}) };
      if (row.name !== null) settings.name = row.name;
      if (row.topic !== null) settings.topic = row.topic;
      return {
        tenant,
        kind,
        slug,
        alias: row.alias,
        roomId: row.room_id,
        settings,
        status: row.status,
        members: Object.fromEntries(m.rows.map((x) => [x.user_slug, x.role])),
        adopted: row.adopted,
      };
    },
    async upsert({ tenant, kind, slug, alias, settings }) {
      await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
      await db.query(
        // Settings left out keep what is recorded (an adopted room's own name, topic and visibility).
        `INSERT INTO rooms (tenant, kind, slug, alias, name, topic, visibility, encrypted, prune, knock)
         VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, 'private'), $8, $9, COALESCE($10, false))
         ON CONFLICT (tenant, kind, slug) DO UPDATE SET name = COALESCE(EXCLUDED.name, rooms.name),
           topic = COALESCE(EXCLUDED.topic, rooms.topic), visibility = COALESCE($7, rooms.visibility),
           prune = EXCLUDED.prune, knock = COALESCE($10, rooms.knock), updated_at = now()`,
        [
          tenant,
          kind,
          slug,
          alias,
          settings.name ?? null,
          settings.topic ?? null,
          settings.visibility ?? null,
          settings.encrypted ?? false,
          settings.prune ?? false,
          settings.knock ?? null,
        ],
      );
    },
    async setRoomId(tenant, kind, slug, roomId, adopted = false) {
      await db.query(
        'UPDATE rooms SET room_id = $4, adopted = adopted OR $5, updated_at = now() WHERE tenant = $1 AND kind = $2 AND slug = $3',
        [tenant, kind, slug, roomId, adopted],
      );
    },
    async ownerOf(roomId) {
      const r = await db.query<{ tenant: string; kind: RoomKind; slug: string }>(
        'SELECT tenant, kind, slug FROM rooms WHERE room_id = $1',
        [roomId],
      );
      return r.rows[0] ?? null;
    },
    applyMembers: (tenant, kind, slug, upserts, removals) => applyMembers(db, tenant, kind, slug, upserts, removals),
    ...archiveRows(db),
    async listActive(tenant) {
      const r = await db.query<{ kind: RoomKind; slug: string }>(
        `SELECT kind, slug FROM rooms WHERE tenant = $1 AND status = 'active' AND room_id IS NOT NULL ORDER BY kind, slug`,
        [tenant],
      );
      return r.rows;
    },
    async recordReconcile(tenant, startedAt, rooms, fixes) {
      await db.query('INSERT INTO reconcile_runs (tenant, started_at, rooms, fixes) VALUES ($1, $2, $3, $4)', [tenant, startedAt, rooms, JSON.stringify(fixes)]);
    },
  };
}
