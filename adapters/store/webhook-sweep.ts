/** What the worker's webhook sweeper reads and marks (worker/webhook-sweeper.ts, decision 0049). */
import type { Db } from './db.js';

export function webhookSweepQueries(db: Db) {
  return {
    /** Pending deliveries no workflow was told of yet, as their rooms (at most `limit` rows read). */
    async undispatched(limit: number): Promise<{ tenant: string; roomKey: string; seqs: number[] }[]> {
      const r = await db.query<{ seq: string; tenant: string; room_key: string }>(
        `SELECT seq, tenant, room_key FROM webhook_deliveries WHERE state = 'pending' AND NOT dispatched ORDER BY seq LIMIT $1`,
        [limit],
      );
      const rooms = new Map<string, { tenant: string; roomKey: string; seqs: number[] }>();
      for (const row of r.rows) {
        const key = `${row.tenant}\n${row.room_key}`;
        const room = rooms.get(key) ?? { tenant: row.tenant, roomKey: row.room_key, seqs: [] };
        room.seqs.push(Number(row.seq));
        rooms.set(key, room);
      }
      return [...rooms.values()];
    },

    /**
     * Rooms of active subscriptions with deliveries pending but nothing attempted for `quietMs`
     * (longer than the longest back-off): their workflow was told and is gone (terminated, or
     * ended on a signal it never saw). The sweeper tells them again.
     */
    async stale(quietMs: number, limit: number): Promise<{ tenant: string; roomKey: string }[]> {
      const r = await db.query<{ tenant: string; room_key: string }>(
        `SELECT d.tenant, d.room_key FROM webhook_deliveries d
         JOIN webhook_subscriptions s ON s.tenant = d.tenant AND s.state = 'active'
         WHERE d.state = 'pending' AND d.dispatched
         GROUP BY d.tenant, d.room_key
         HAVING max(COALESCE(d.attempted_at, d.created_at)) < now() - make_interval(secs => $1)
         LIMIT $2`,
        [quietMs / 1000, limit],
      );
      return r.rows.map((row) => ({ tenant: row.tenant, roomKey: row.room_key }));
    },

    async markDispatched(seqs: number[]): Promise<void> {
      await db.query('UPDATE webhook_deliveries SET dispatched = true WHERE seq = ANY($1)', [seqs]);
    },

    /** Deletes delivered and failed rows finished more than `olderThanMs` ago. */
    async prune(olderThanMs: number): Promise<number> {
      const r = await db.query(
        `DELETE FROM webhook_deliveries WHERE state <> 'pending' AND finished_at < now() - make_interval(secs => $1)`,
        [olderThanMs / 1000],
      );
      return r.rowCount ?? 0;
    },
  };
}
