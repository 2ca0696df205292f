/**
 * Members muted for a time (migrations/019, decision 0058), by entity (its first slug). The room
 * workflow records and ends them; every power-levels write reads the ones still running.
 */
import type { RoomKind } from '../../vocabulary/ids.js';
import type { Db } from './db.js';

export interface RoomMuteStore {
  /** Records or replaces mutes (slug → until, epoch ms) and ends others (slug → null), in one transaction. */
  apply(tenant: string, kind: RoomKind, slug: string, changes: Record<string, { until: number; actorSlug: string } | null>): Promise<void>;
  /** The mutes still running (`until` ahead of now), slug → until (epoch ms). */
  active(tenant: string, kind: RoomKind, slug: string): Promise<Map<string, number>>;
}

export function createRoomMuteStore(db: Db): RoomMuteStore {
  return {
    async apply(tenant, kind, slug, changes) {
      const set = Object.entries(changes).filter((e): e is [string, { until: number; actorSlug: string }] => e[1] !== null);
      const ended = Object.entries(changes).filter(([, v]) => v === null).map(([s]) => s);
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        if (ended.length)
          await client.query('DELETE FROM room_mutes WHERE tenant = $1 AND kind = $2 AND slug = $3 AND user_slug = ANY($4::text[])', [
            tenant,
            kind,
            slug,
            ended,
          ]);
        if (set.length)
          await client.query(
            `INSERT INTO room_mutes (tenant, kind, slug, user_slug, until, actor_slug)
             SELECT $1, $2, $3, u, to_timestamp(t / 1000.0), a FROM unnest($4::text[], $5::float8[], $6::text[]) AS x(u, t, a)
             ON CONFLICT (tenant, kind, slug, user_slug) DO UPDATE SET until = EXCLUDED.until, actor_slug = EXCLUDED.actor_slug`,
            [tenant, kind, slug, set.map((e) => e[0]), set.map((e) => e[1].until), set.map((e) => e[1].actorSlug)],
          );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async active(tenant, kind, slug) {
      const r = await db.query<{ user_slug: string; until: Date }>(
        'SELECT user_slug, until FROM room_mutes WHERE tenant = $1 AND kind = $2 AND slug = $3 AND until > now()',
        [tenant, kind, slug],
      );
      return new Map(r.rows.map((x) => [x.user_slug, x.until.getTime()]));
    },
  };
}
