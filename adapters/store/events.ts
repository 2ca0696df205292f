import type { RoomKind } from '../../vocabulary/ids.js';
import type { Db } from './db.js';
import { appendTransaction, type AppendResult, type IncomingEvent } from './event-append.js';

export { jsonForPg, LOG_CHANNEL } from './event-append.js';
export type { AppendResult, IncomingEvent } from './event-append.js';

/** A row of the event log, with the managed room it belongs to (null when the room is not ours). */
export interface LogRow {
  seq: number;
  roomId: string;
  roomSeq: number;
  ephemeral: boolean;
  type: string;
  sender: string | null;
  stateKey: string | null;
  event: Record<string, unknown>;
  tenant: string | null;
  kind: RoomKind | null;
  slug: string | null;
}

export interface LogHead {
  /** The last sequence stored. */
  last: number;
  /** Every sequence at or below this may have been pruned (retention). */
  prunedThrough: number;
}

/** The relay's event log in PostgreSQL (migrations/004_relay.sql). */
export interface EventLog {
  /** Stores a transaction's events in one database transaction and notifies every listener on commit. */
  append(txnId: string, events: IncomingEvent[]): Promise<AppendResult>;
  head(): Promise<LogHead>;
  /** Rows with `after < seq <= upTo`, in order, at most `limit`; only of `rooms` when given. */
  read(after: number, opts: { upTo?: number; limit: number; rooms?: readonly string[] }): Promise<LogRow[]>;
  /** Each room's membership of the user as of sequence `seq` (latest change at or below it). */
  membershipAt(userId: string, seq: number): Promise<Map<string, string>>;
  /** Rooms in which the user's membership changed after `seq`. */
  roomsChangedAfter(userId: string, seq: number): Promise<string[]>;
  /** The user's latest known membership in the room, or null when the log has none. */
  latestMembership(userId: string, roomId: string): Promise<string | null>;
  /** Records "joined" (sequence 0) for rooms the homeserver says the user is in and the log knows nothing of. */
  addBaseline(userId: string, roomIds: readonly string[]): Promise<number>;
  /** Deletes events received before `cutoff` (a prefix of the log) and transactions as old. */
  prune(cutoff: Date): Promise<{ events: number; prunedThrough: number }>;
  /** The numeric id (Synapse numbers its transactions) of the transaction stored last, or null. */
  lastTransactionNumber(): Promise<number | null>;
}

interface RowShape {
  seq: string;
  room_id: string;
  room_seq: string;
  ephemeral: boolean;
  type: string;
  sender: string | null;
  state_key: string | null;
  event: Record<string, unknown>;
  tenant: string | null;
  kind: RoomKind | null;
  slug: string | null;
}

const toRow = (r: RowShape): LogRow => ({
  seq: Number(r.seq),
  roomId: r.room_id,
  roomSeq: Number(r.room_seq),
  ephemeral: r.ephemeral,
  type: r.type,
  sender: r.sender,
  stateKey: r.state_key,
  event: r.event,
  tenant: r.tenant,
  kind: r.kind,
  slug: r.slug,
});

/** `serviceUserId`: the bot, whose own events are no news to the platform's webhooks (decision 0049). */
export function createEventLog(db: Db, opts: { serviceUserId?: string } = {}): EventLog {
  return {
    append: (txnId, events) => appendTransaction(db, txnId, events, opts),

    async lastTransactionNumber() {
      // The latest, not the highest: Synapse on SQLite numbers anew after a restart.
      const r = await db.query<{ txn_id: string }>(
        `SELECT txn_id FROM appservice_transactions WHERE txn_id ~ '^[0-9]{1,15}$' ORDER BY received_at DESC LIMIT 1`,
      );
      return r.rows[0] ? Number(r.rows[0].txn_id) : null;
    },

    async head() {
      const r = await db.query<{ last_seq: string; pruned_through: string }>(
        'SELECT last_seq, pruned_through FROM relay_log_head',
      );
      return { last: Number(r.rows[0]!.last_seq), prunedThrough: Number(r.rows[0]!.pruned_through) };
    },

    async read(after, { upTo, limit, rooms }) {
      const r = await db.query<RowShape>(
        `SELECT e.seq, e.room_id, e.room_seq, e.ephemeral, e.type, e.sender, e.state_key, e.event, r.tenant, r.kind,
           COALESCE(c.slug, r.slug) AS slug
         FROM relay_events e LEFT JOIN rooms r ON r.room_id = e.room_id
         -- The room's current slug (decision 0031).
         LEFT JOIN room_slugs c ON c.tenant = r.tenant AND c.kind = r.kind AND c.entity = r.slug AND c.renamed_at IS NULL
         WHERE e.seq > $1 AND ($2::bigint IS NULL OR e.seq <= $2) AND ($3::text[] IS NULL OR e.room_id = ANY($3))
         ORDER BY e.seq LIMIT $4`,
        [after, upTo ?? null, rooms ? [...rooms] : null, limit],
      );
      return r.rows.map(toRow);
    },

    ...membershipReads(db),
    prune: (cutoff) => pruneLog(db, cutoff),
  };
}

/** Who was joined where, as the log says: the session's view of membership at its position. */
function membershipReads(
  db: Db,
): Pick<EventLog, 'membershipAt' | 'roomsChangedAfter' | 'latestMembership' | 'addBaseline'> {
  return {
    async membershipAt(userId, seq) {
      const r = await db.query<{ room_id: string; membership: string }>(
        `SELECT DISTINCT ON (room_id) room_id, membership FROM relay_memberships
         WHERE user_id = $1 AND seq <= $2 ORDER BY room_id, seq DESC`,
        [userId, seq],
      );
      return new Map(r.rows.map((x) => [x.room_id, x.membership]));
    },

    async roomsChangedAfter(userId, seq) {
      const r = await db.query<{ room_id: string }>(
        'SELECT DISTINCT room_id FROM relay_memberships WHERE user_id = $1 AND seq > $2',
        [userId, seq],
      );
      return r.rows.map((x) => x.room_id);
    },

    async latestMembership(userId, roomId) {
      const r = await db.query<{ membership: string }>(
        'SELECT membership FROM relay_memberships WHERE user_id = $1 AND room_id = $2 ORDER BY seq DESC LIMIT 1',
        [userId, roomId],
      );
      return r.rows[0]?.membership ?? null;
    },

    async addBaseline(userId, roomIds) {
      if (roomIds.length === 0) return 0;
      const r = await db.query(
        `INSERT INTO relay_memberships (user_id, room_id, seq, membership)
         SELECT $1, room, 0, 'join' FROM unnest($2::text[]) AS t(room)
         WHERE NOT EXISTS (SELECT 1 FROM relay_memberships m WHERE m.user_id = $1 AND m.room_id = t.room)
         ON CONFLICT DO NOTHING`,
        [userId, [...roomIds]],
      );
      return r.rowCount ?? 0;
    },
  };
}

/** Deletes events received before `cutoff` (a prefix of the log) and transactions as old. */
async function pruneLog(db: Db, cutoff: Date): Promise<{ events: number; prunedThrough: number }> {
  const found = await db.query<{ seq: string | null }>(
    'SELECT max(seq) AS seq FROM relay_events WHERE received_at < $1',
    [cutoff],
  );
  const through = Number(found.rows[0]?.seq ?? 0);
  // Raise the mark first: a resume that reads it afterwards is told to refetch instead of
  // silently missing rows deleted under it (api/relay/session.ts re-checks it per page).
  const head = await db.query<{ pruned_through: string }>(
    'UPDATE relay_log_head SET pruned_through = GREATEST(pruned_through, $1) RETURNING pruned_through',
    [through],
  );
  const prunedThrough = Number(head.rows[0]!.pruned_through);
  const gone = await db.query('DELETE FROM relay_events WHERE seq <= $1', [prunedThrough]);
  // Only the latest membership at or below the mark is needed to know who was joined there.
  await db.query(
    `DELETE FROM relay_memberships m WHERE m.seq <= $1 AND EXISTS (
       SELECT 1 FROM relay_memberships n WHERE n.user_id = m.user_id AND n.room_id = m.room_id AND n.seq > m.seq AND n.seq <= $1)`,
    [prunedThrough],
  );
  await db.query('DELETE FROM appservice_transactions WHERE received_at < $1', [cutoff]);
  return { events: gone.rowCount ?? 0, prunedThrough };
}
