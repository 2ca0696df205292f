/**
 * The audit trail in PostgreSQL (migrations/020_audit.sql, decision 0060). `recordAudit` is the one
 * way an entry is written — every part of the service that changes the homeserver for the platform
 * calls it where the outcome is known —; `queryAudit` pages through a tenant's entries for a room or
 * a user; `forgetUserInAudit` replaces a user's slug and Matrix id by a keyed hash (offboarding with
 * erasure); `pruneAudit` deletes what is older than the retention.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import type { EncryptionKey } from '../../lib/config.js';
import { boundedEntry, type AuditEntry, type AuditOutcome } from '../../vocabulary/audit.js';
import type { RoomKind } from '../../vocabulary/ids.js';
import type { Db } from './db.js';

/** A pool or a client inside a transaction: an entry can be written in the caller's own transaction. */
export type Queryable = Pick<Db, 'query'>;

/** Rows per INSERT statement. */
const INSERT_CHUNK = 1_000;

/**
 * Writes the entries (cut to their bounds); an entry whose `key` was written before is skipped, so
 * a retried write records nothing twice. Returns how many were new.
 */
export async function recordAudit(db: Queryable, entries: readonly AuditEntry[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    const rows = entries.slice(i, i + INSERT_CHUNK).map((raw) => {
      const e = boundedEntry(raw);
      return {
        idempotency_key: e.key ?? null,
        tenant: e.tenant,
        subject: e.origin?.subject ?? null,
        request_id: e.origin?.requestId ?? null,
        operation: e.operation,
        room_kind: e.room?.kind ?? null,
        room_slug: e.room?.slug ?? null,
        room_id: e.room?.roomId ?? null,
        user_slug: e.userSlug ?? null,
        detail: e.detail ?? null,
        actions: e.actions ?? [],
        outcome: e.outcome,
        error_type: e.outcome === 'failed' ? (e.errorType ?? 'Failure') : null,
      };
    });
    const r = await db.query(
      `INSERT INTO audit_log (idempotency_key, tenant, subject, request_id, operation, room_kind, room_slug, room_id,
         user_slug, detail, actions, outcome, error_type)
       SELECT idempotency_key, tenant, subject, request_id, operation, room_kind, room_slug, room_id, user_slug, detail,
         actions, outcome, error_type
       FROM jsonb_to_recordset($1::jsonb) AS x(idempotency_key text, tenant text, subject text, request_id text,
         operation text, room_kind text, room_slug text, room_id text, user_slug text, detail text, actions text[],
         outcome text, error_type text)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [JSON.stringify(rows)],
    );
    inserted += r.rowCount ?? 0;
  }
  return inserted;
}

/**
 * The INSERT of a message's audit entry from the outbox row an UPDATE just settled (`settled`, a
 * data-modifying CTE returning the row's columns): one entry per settling, only for rows sent for
 * the platform (`audit`). The room is named by its entity (the slug the row has may be a later one).
 */
export function outboxAuditInsert(settled: string, outcome: 'done' | 'failed'): string {
  return `INSERT INTO audit_log (tenant, subject, request_id, operation, room_kind, room_slug, room_id, user_slug, detail,
      actions, outcome, error_type)
    SELECT s.tenant, s.audit_subject, s.request_id, 'message.send', s.kind,
      COALESCE((SELECT rs.entity FROM room_slugs rs WHERE rs.tenant = s.tenant AND rs.kind = s.kind AND rs.slug = s.slug), s.slug),
      s.room_id, s.user_slug, s.msgtype || ', txnId ' || s.txn_id,
      ${outcome === 'done' ? "ARRAY['sent ' || s.event_id]" : "'{}'::text[]"}, '${outcome}',
      ${outcome === 'done' ? 'NULL' : 's.errcode'}
    FROM ${settled} s WHERE s.audit`;
}

/** One entry as the route answers it. */
export interface AuditRecord {
  id: number;
  at: Date;
  subject: string | null;
  requestId: string | null;
  operation: string;
  room: { kind: RoomKind; slug: string; roomId: string | null } | null;
  userSlug: string | null;
  detail: string | null;
  actions: string[];
  outcome: AuditOutcome;
  errorType: string | null;
  pseudonymized: boolean;
}

export interface AuditQuery {
  tenant: string;
  /** The room entity (its first slug). */
  room?: { kind: RoomKind; slug: string };
  userSlug?: string;
  since?: Date;
  until?: Date;
  /** Entries older than this id (the `next` of the previous page). */
  before?: number;
  limit: number;
}

interface Row {
  id: string;
  at: Date;
  subject: string | null;
  request_id: string | null;
  operation: string;
  room_kind: RoomKind | null;
  room_slug: string | null;
  room_id: string | null;
  user_slug: string | null;
  detail: string | null;
  actions: string[];
  outcome: AuditOutcome;
  error_type: string | null;
  pseudonymized: boolean;
}

const fromRow = (r: Row): AuditRecord => ({
  id: Number(r.id),
  at: r.at,
  subject: r.subject,
  requestId: r.request_id,
  operation: r.operation,
  room: r.room_kind && r.room_slug ? { kind: r.room_kind, slug: r.room_slug, roomId: r.room_id } : null,
  userSlug: r.user_slug,
  detail: r.detail,
  actions: r.actions,
  outcome: r.outcome,
  errorType: r.error_type,
  pseudonymized: r.pseudonymized,
});

/** A page of the tenant's entries, newest first, and the cursor of the next (null: the last page). */
export async function queryAudit(db: Queryable, q: AuditQuery): Promise<{ entries: AuditRecord[]; next: number | null }> {
  const where = ['tenant = $1'];
  const values: unknown[] = [q.tenant];
  if (q.room) {
    values.push(q.room.kind, q.room.slug);
    where.push(`room_kind = $${values.length - 1} AND room_slug = $${values.length}`);
  }
  if (q.userSlug !== undefined) {
    values.push(q.userSlug);
    // Every slug the user has had (renames: each old slug names the current one), and a DM's
    // changes, which concern both its users: its slug is theirs (`a~b`).
    const u = `$${values.length}`;
    const current = `COALESCE((SELECT new_slug FROM user_renames WHERE tenant = $1 AND old_slug = ${u}), ${u})`;
    const slugs = `ARRAY(SELECT ${current} UNION SELECT old_slug FROM user_renames WHERE tenant = $1 AND new_slug = ${current})`;
    where.push(`(user_slug = ANY(${slugs}) OR (room_kind = 'dm' AND string_to_array(room_slug, '~') && ${slugs}))`);
  }
  if (q.since) {
    values.push(q.since);
    where.push(`at >= $${values.length}`);
  }
  if (q.until) {
    values.push(q.until);
    where.push(`at < $${values.length}`);
  }
  if (q.before !== undefined) {
    values.push(q.before);
    where.push(`id < $${values.length}`);
  }
  values.push(q.limit + 1);
  const r = await db.query<Row>(
    `SELECT id, at, subject, request_id, operation, room_kind, room_slug, room_id, user_slug, detail, actions, outcome,
       error_type, pseudonymized FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${values.length}`,
    values,
  );
  const entries = r.rows.slice(0, q.limit).map(fromRow);
  return { entries, next: r.rows.length > q.limit ? entries.at(-1)!.id : null };
}

/** Deletes entries older than `olderThanMs`; how many. */
export async function pruneAudit(db: Queryable, olderThanMs: number): Promise<number> {
  const r = await db.query(`DELETE FROM audit_log WHERE at < now() - make_interval(secs => $1::float8 / 1000)`, [
    olderThanMs,
  ]);
  return r.rowCount ?? 0;
}

/**
 * The key of the pseudonyms: derived (HKDF) from the active token key, so no new secret is needed.
 * A rotated token key gives later pseudonyms another value; those already written stay as they are.
 */
export function auditPseudonymKey(tokenKey: EncryptionKey): Buffer {
  return Buffer.from(hkdfSync('sha256', tokenKey.key, Buffer.alloc(0), 'matrix-orchestrator audit pseudonym', 32));
}

/** A user's stand-in once forgotten: the same for every entry of that user, meaningless without the key. */
export function auditPseudonym(key: Buffer, tenant: string, slug: string): string {
  return `forgotten-${createHmac('sha256', key).update(`${tenant}\n${slug}`).digest('hex').slice(0, 24)}`;
}

/**
 * Offboarding with erasure: the user's slug (as target) and Matrix id (inside the actions and the
 * detail) are replaced by their pseudonym in every entry of the tenant, except entries whose
 * operation is in `exceptOperations` (the erasure's own record). Idempotent; returns how many
 * entries were changed.
 */
export async function forgetUserInAudit(
  db: Queryable,
  key: Buffer,
  who: { tenant: string; slug: string; userId?: string; exceptOperations?: readonly string[] },
): Promise<number> {
  const pseudonym = auditPseudonym(key, who.tenant, who.slug);
  // $4: the Matrix id, replaced wherever it is written out (actions, detail); '' matches nothing.
  const r = await db.query(
    `UPDATE audit_log SET
       user_slug = CASE WHEN user_slug = $2 THEN $3 ELSE user_slug END,
       subject = CASE WHEN subject = 'user:' || $2 THEN 'user:' || $3 ELSE subject END,
       room_slug = CASE WHEN room_kind = 'dm' THEN array_to_string(array_replace(string_to_array(room_slug, '~'), $2, $3), '~')
         ELSE room_slug END,
       actions = CASE WHEN $4 = '' THEN actions
         ELSE ARRAY(SELECT replace(a, $4, $3) FROM unnest(actions) WITH ORDINALITY AS t(a, n) ORDER BY n) END,
       detail = CASE WHEN $4 = '' THEN detail ELSE replace(detail, $4, $3) END,
       pseudonymized = true
     WHERE tenant = $1 AND NOT (operation = ANY($5::text[]))
       AND (user_slug = $2 OR subject = 'user:' || $2
         OR (room_kind = 'dm' AND $2 = ANY(string_to_array(room_slug, '~')))
         OR ($4 <> '' AND (strpos(detail, $4) > 0 OR EXISTS (SELECT 1 FROM unnest(actions) a WHERE strpos(a, $4) > 0))))`,
    [who.tenant, who.slug, pseudonym, who.userId ?? '', [...(who.exceptOperations ?? [])]],
  );
  return r.rowCount ?? 0;
}
