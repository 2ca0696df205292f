import type { RoomKind } from '../../vocabulary/ids.js';
import type { MessageType, SendMessageInput } from '../../vocabulary/contract.js';
import type { Db } from './db.js';
import { outboxAuditInsert } from './audit.js';

/** One client transaction id of one user (decision 0026): the outbox's key. */
export interface OutboxKey {
  tenant: string;
  userSlug: string;
  txnId: string;
}

/** What a message has beside its text (decision 0044). */
export type RichFields = Pick<SendMessageInput, 'html' | 'replyTo' | 'edits'>;

/** The rich fields a send has, or null for plain text. */
function richOf(input: SendMessageInput): RichFields | null {
  const rich: RichFields = {};
  if (input.html !== undefined) rich.html = input.html;
  if (input.replyTo !== undefined) rich.replyTo = input.replyTo;
  if (input.edits !== undefined) rich.edits = input.edits;
  return Object.keys(rich).length ? rich : null;
}

export type OutboxStatus = 'pending' | 'sent' | 'failed';

/** An accepted message (migrations/009_message_outbox.sql). */
export interface OutboxRow extends OutboxKey {
  roomId: string;
  kind: RoomKind;
  slug: string;
  msgtype: MessageType;
  /** Null once the send is settled. */
  body: string | null;
  /** HTML, reply and edit of a rich message while it may still be sent (migrations/011). */
  rich: RichFields | null;
  userId: string | null;
  requestId: string | null;
  status: OutboxStatus;
  eventId: string | null;
  errcode: string | null;
  error: string | null;
  updatedAt: Date;
}

/** Who sends: the account, the request, and — for a send for the platform — who asked (audited, decision 0060). */
export interface OutboxMeta {
  userId?: string;
  requestId?: string;
  audit?: { subject: string | null };
}

/** Recorded now, so this caller sends it; or the row that was there already (a repeat). */
export type OutboxClaim = { owner: true } | { owner: false; row: OutboxRow };

export interface MessageOutbox {
  /**
   * Records an accepted message. A key seen before is a repeat: its row is returned, except a
   * failed one in the same room, which is taken up again (a failed send may be tried again).
   */
  claim(input: SendMessageInput, meta: OutboxMeta): Promise<OutboxClaim>;
  get(key: OutboxKey): Promise<OutboxRow | null>;
  /** The homeserver has the event: the id stored (the first one recorded, should two answers race). */
  markSent(key: OutboxKey, eventId: string): Promise<string>;
  /** Refused for good; only a pending row (a sent one stays sent). */
  markFailed(key: OutboxKey, errcode: string, error: string): Promise<void>;
  /** Rows pending since more than `olderThanMs` (their sender is gone or slow), oldest first. */
  pending(olderThanMs: number, limit: number): Promise<OutboxRow[]>;
  /** Deletes settled rows older than `olderThanMs`; how many. */
  prune(olderThanMs: number): Promise<number>;
}

const COLUMNS = `tenant, user_slug, txn_id, room_id, kind, slug, msgtype, body, rich, user_id, request_id, status,
  event_id, errcode, error, updated_at`;
const KEY = 'tenant = $1 AND user_slug = $2 AND txn_id = $3';

interface Row {
  tenant: string;
  user_slug: string;
  txn_id: string;
  room_id: string;
  kind: RoomKind;
  slug: string;
  msgtype: MessageType;
  body: string | null;
  rich: RichFields | null;
  user_id: string | null;
  request_id: string | null;
  status: OutboxStatus;
  event_id: string | null;
  errcode: string | null;
  error: string | null;
  updated_at: Date;
}

const fromRow = (r: Row): OutboxRow => ({
  tenant: r.tenant,
  userSlug: r.user_slug,
  txnId: r.txn_id,
  roomId: r.room_id,
  kind: r.kind,
  slug: r.slug,
  msgtype: r.msgtype,
  body: r.body,
  rich: r.rich,
  userId: r.user_id,
  requestId: r.request_id,
  status: r.status,
  eventId: r.event_id,
  errcode: r.errcode,
  error: r.error,
  updatedAt: r.updated_at,
});

const keyOf = (k: OutboxKey): string[] => [k.tenant, k.userSlug, k.txnId];

/** The send workflow's input for a row (the retry path), once it still has its text. */
export function outboxInput(row: OutboxRow): SendMessageInput | null {
  if (row.body === null) return null;
  const { tenant, userSlug, kind, slug, roomId, msgtype, body } = row;
  return { tenant, userSlug, kind, slug, roomId, clientTxnId: row.txnId, msgtype, body, ...row.rich };
}

export function createMessageOutbox(db: Db): MessageOutbox {
  const get = async (key: OutboxKey): Promise<OutboxRow | null> => {
    const r = await db.query<Row>(`SELECT ${COLUMNS} FROM message_outbox WHERE ${KEY}`, keyOf(key));
    return r.rows[0] ? fromRow(r.rows[0]) : null;
  };
  const claim: MessageOutbox['claim'] = async (input, meta) => {
    const key = { tenant: input.tenant, userSlug: input.userSlug, txnId: input.clientTxnId };
    const values = [
      ...keyOf(key),
      input.roomId,
      input.kind,
      input.slug,
      input.msgtype,
      input.body,
      meta.userId ?? null,
      meta.requestId ?? null,
      richOf(input),
      meta.audit !== undefined,
      meta.audit?.subject ?? null,
    ];
    const inserted = await db.query(
      `INSERT INTO message_outbox (tenant, user_slug, txn_id, room_id, kind, slug, msgtype, body, user_id, request_id, rich,
         audit, audit_subject)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
      values,
    );
    if (inserted.rowCount === 1) return { owner: true };
    const reopened = await db.query(
      `UPDATE message_outbox SET status = 'pending', kind = $5, slug = $6, msgtype = $7, body = $8, user_id = $9,
         request_id = $10, rich = $11, audit = $12, audit_subject = $13, errcode = NULL, error = NULL, updated_at = now()
       WHERE ${KEY} AND room_id = $4 AND status = 'failed'`,
      values,
    );
    if (reopened.rowCount === 1) return { owner: true };
    const row = await get(key);
    // Deleted in between (pruned): the key is free again.
    return row ? { owner: false, row } : claim(input, meta);
  };
  return {
    get,
    claim,
    async markSent(key, eventId) {
      // Settled and, for a send for the platform, audited in one statement: exactly once per settling.
      const r = await db.query<{ event_id: string }>(
        `WITH settled AS (UPDATE message_outbox SET status = 'sent', event_id = $4, body = NULL, rich = NULL, errcode = NULL,
           error = NULL, updated_at = now() WHERE ${KEY} AND status <> 'sent' RETURNING *),
         audited AS (${outboxAuditInsert('settled', 'done')})
         SELECT event_id FROM settled`,
        [...keyOf(key), eventId],
      );
      if (r.rows[0]) return r.rows[0].event_id;
      return (await get(key))?.eventId ?? eventId;
    },
    async markFailed(key, errcode, error) {
      await db.query(
        `WITH settled AS (UPDATE message_outbox SET status = 'failed', errcode = $4, error = $5, body = NULL, rich = NULL,
           updated_at = now() WHERE ${KEY} AND status = 'pending' RETURNING *)
         ${outboxAuditInsert('settled', 'failed')}`,
        [...keyOf(key), errcode, error.slice(0, 2000)],
      );
    },
    async pending(olderThanMs, limit) {
      const r = await db.query<Row>(
        `SELECT ${COLUMNS} FROM message_outbox WHERE status = 'pending'
           AND updated_at < now() - make_interval(secs => $1::float8 / 1000) ORDER BY updated_at LIMIT $2`,
        [olderThanMs, limit],
      );
      return r.rows.map(fromRow);
    },
    async prune(olderThanMs) {
      const r = await db.query(
        `DELETE FROM message_outbox WHERE status <> 'pending' AND updated_at < now() - make_interval(secs => $1::float8 / 1000)`,
        [olderThanMs],
      );
      return r.rowCount ?? 0;
    },
  };
}
