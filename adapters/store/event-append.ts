import { createHash } from 'node:crypto';
import type pg from 'pg';
import { rollback, type Db } from './db.js';
import { encryptionTurnedOn, markEncrypted } from './room-encryption.js';
import { enqueueFromEvents } from './webhook-outbox.js';
import { recordJoinRequests, type RecordedRequest } from './join-requests.js';

/** One event as the appservice received it: a room timeline event, or an ephemeral one (typing, receipts). */
export interface IncomingEvent {
  ephemeral: boolean;
  event: Record<string, unknown> & { room_id: string; type: string };
}

export interface AppendResult {
  /** The transaction id was stored before: nothing was stored now. */
  duplicate: boolean;
  stored: number;
  /** The last sequence after this transaction (null for a duplicate). */
  head: number | null;
  /** Join requests this transaction recorded or changed (decision 0055), for their room workflows. */
  joinRequests?: RecordedRequest[];
}

/** The NOTIFY channel; the payload is the new last sequence. */
export const LOG_CHANNEL = 'relay_log';

// PostgreSQL's jsonb refuses the NUL character and lone surrogates (JSON.stringify writes a lone
// surrogate as an escape, a paired one as itself); a message containing one must not block the log
// (Synapse would retry the transaction forever), so each becomes U+FFFD. Escaped backslashes are kept.
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;
export const jsonForPg = (value: unknown): string => JSON.stringify(value).replace(UNSTORABLE_ESCAPE, '$1\\ufffd');

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** What tells a retried transaction from a new one that reuses its id (migrations/005). */
export const transactionDigest = (events: IncomingEvent[]): Buffer =>
  createHash('sha256').update(JSON.stringify(events)).digest();

type Queryable = Pick<pg.PoolClient, 'query'>;

/** The events not stored before (by event id, also within this transaction); ephemeral ones always. */
async function freshEvents(client: Queryable, events: IncomingEvent[]): Promise<IncomingEvent[]> {
  const ids = events.map((e) => str(e.event.event_id)).filter((id): id is string => id !== null);
  const known = new Set(
    ids.length
      ? (
          await client.query<{ event_id: string }>('SELECT event_id FROM relay_events WHERE event_id = ANY($1)', [ids])
        ).rows.map((r) => r.event_id)
      : [],
  );
  const fresh: IncomingEvent[] = [];
  for (const e of events) {
    const id = str(e.event.event_id);
    if (!e.ephemeral && id !== null) {
      // The same event twice (even within one transaction) is stored once.
      if (known.has(id)) continue;
      known.add(id);
    }
    fresh.push(e);
  }
  return fresh;
}

/** Reserves each room's next sequences for `fresh`; returns the first one of each room. */
async function reserveRoomSequences(client: Queryable, fresh: IncomingEvent[]): Promise<Map<string, number>> {
  const perRoom = new Map<string, number>();
  for (const e of fresh) perRoom.set(e.event.room_id, (perRoom.get(e.event.room_id) ?? 0) + 1);
  const roomRows = await client.query<{ room_id: string; last_seq: string }>(
    `INSERT INTO relay_rooms (room_id, last_seq) SELECT * FROM unnest($1::text[], $2::bigint[])
     ON CONFLICT (room_id) DO UPDATE SET last_seq = relay_rooms.last_seq + EXCLUDED.last_seq
     RETURNING room_id, last_seq`,
    [[...perRoom.keys()], [...perRoom.values()]],
  );
  return new Map(roomRows.rows.map((r) => [r.room_id, Number(r.last_seq) - perRoom.get(r.room_id)! + 1]));
}

/** The rows of `fresh` as columns for `unnest`, numbered after `after`; membership changes beside them. */
export function logColumns(fresh: IncomingEvent[], nextRoomSeq: Map<string, number>, after: number) {
  const events = {
    seq: [] as number[],
    room: [] as string[],
    roomSeq: [] as number[],
    id: [] as (string | null)[],
    eph: [] as boolean[],
    type: [] as string[],
    sender: [] as (string | null)[],
    stateKey: [] as (string | null)[],
    json: [] as string[],
  };
  const members = { user: [] as string[], room: [] as string[], seq: [] as number[], membership: [] as string[] };
  let last = after;
  for (const e of fresh) {
    const ev = e.event;
    const roomSeq = nextRoomSeq.get(ev.room_id)!;
    nextRoomSeq.set(ev.room_id, roomSeq + 1);
    last += 1;
    events.seq.push(last);
    events.room.push(ev.room_id);
    events.roomSeq.push(roomSeq);
    events.id.push(e.ephemeral ? null : str(ev.event_id));
    events.eph.push(e.ephemeral);
    events.type.push(ev.type);
    events.sender.push(str(ev.sender));
    events.stateKey.push(str(ev.state_key));
    events.json.push(jsonForPg(ev));
    const membership = str((ev.content as Record<string, unknown> | undefined)?.membership);
    if (!e.ephemeral && ev.type === 'm.room.member' && str(ev.state_key) && membership) {
      members.user.push(str(ev.state_key)!);
      members.room.push(ev.room_id);
      members.seq.push(last);
      members.membership.push(membership);
    }
  }
  return { events, members, last };
}

async function insertRows(client: Queryable, { events: c, members }: ReturnType<typeof logColumns>): Promise<void> {
  await client.query(
    `INSERT INTO relay_events (seq, room_id, room_seq, event_id, ephemeral, type, sender, state_key, event)
     SELECT s, r, rs, i, e, t, se, sk, j::jsonb
     FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::boolean[], $6::text[], $7::text[], $8::text[], $9::text[])
       AS x(s, r, rs, i, e, t, se, sk, j)`,
    [c.seq, c.room, c.roomSeq, c.id, c.eph, c.type, c.sender, c.stateKey, c.json],
  );
  if (members.user.length) {
    await client.query(
      `INSERT INTO relay_memberships (user_id, room_id, seq, membership) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])`,
      [members.user, members.room, members.seq, members.membership],
    );
  }
}

/**
 * Stores one appservice transaction: its id and its events in one database transaction, with the
 * next global and per-room sequences, membership changes beside them, and a NOTIFY delivered on
 * commit. A transaction seen before (same id, same content) stores nothing; the same id with other
 * content (a homeserver that restarted its numbering) is a new transaction. An event stored before
 * is skipped either way.
 */
export async function appendTransaction(
  db: Db,
  txnId: string,
  events: IncomingEvent[],
  opts: { serviceUserId?: string } = {},
): Promise<AppendResult> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    // A concurrent delivery of the same transaction waits on this row, then finds it a repeat.
    const seen = await client.query(
      `INSERT INTO appservice_transactions (txn_id, events, digest) VALUES ($1, $2, $3)
       ON CONFLICT (txn_id) DO UPDATE SET events = EXCLUDED.events, digest = EXCLUDED.digest, received_at = now()
         WHERE appservice_transactions.digest IS DISTINCT FROM EXCLUDED.digest
       RETURNING txn_id`,
      [txnId, events.length, transactionDigest(events)],
    );
    if (seen.rowCount === 0) {
      await client.query('COMMIT');
      return { duplicate: true, stored: 0, head: null };
    }
    // Locking the head row orders every writer: sequences are handed out and committed in one order.
    const headRow = await client.query<{ last_seq: string }>('SELECT last_seq FROM relay_log_head FOR UPDATE');
    const head = Number(headRow.rows[0]!.last_seq);
    const fresh = await freshEvents(client, events);
    if (fresh.length === 0) {
      await client.query('COMMIT');
      return { duplicate: false, stored: 0, head };
    }
    const columns = logColumns(fresh, await reserveRoomSequences(client, fresh), head);
    await insertRows(client, columns);
    // A Matrix client turned encryption on: the service never sends plaintext there again (decision 0046).
    await markEncrypted(client, encryptionTurnedOn(fresh));
    // The platform's webhook deliveries commit with the events they come from (decision 0049).
    const timeline = fresh.filter((e) => !e.ephemeral).map((e) => e.event);
    await enqueueFromEvents(client, timeline, opts.serviceUserId);
    // Knocks and what became of them on the Matrix side (decision 0055), with the events too.
    const joinRequests = await recordJoinRequests(client, timeline, opts.serviceUserId);
    await client.query('UPDATE relay_log_head SET last_seq = $1', [columns.last]);
    // Delivered to every listening API instance when (and only if) this transaction commits.
    await client.query('SELECT pg_notify($1, $2)', [LOG_CHANNEL, String(columns.last)]);
    await client.query('COMMIT');
    return { duplicate: false, stored: fresh.length, head: columns.last, ...(joinRequests.length ? { joinRequests } : {}) };
  } catch (err) {
    await rollback(client, err);
    throw err;
  } finally {
    client.release();
  }
}
