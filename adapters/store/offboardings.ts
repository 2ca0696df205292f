/**
 * The offboarding record (migrations/018, decision 0056): what was done to a user and when, named
 * only by a keyed hash, and the hold it puts on provisioning them again.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import type { EncryptionKey } from '../../lib/config.js';
import type { OffboardScope } from '../../vocabulary/offboard.js';
import type { Db } from './db.js';

export type OffboardingState = 'running' | 'grace' | 'done' | 'cancelled' | 'failed';

/** One step as recorded: its name, when, and a count where it has one (rooms, rows): never a name. */
export interface OffboardingStep {
  step: string;
  at: string;
  count?: number;
}

export interface OffboardingRecord {
  id: string;
  tenant: string;
  erase: boolean;
  adopted: boolean;
  scope: OffboardScope;
  state: OffboardingState;
  steps: OffboardingStep[];
  requestedAt: Date;
  eraseDueAt: Date | null;
  finishedAt: Date | null;
}

export interface OffboardingStore {
  /** Records the start (idempotent on the id). */
  begin(r: { id: string; tenant: string; userId: string; erase: boolean; adopted: boolean; scope: OffboardScope }): Promise<void>;
  /** Appends a step (one per name: a retried step is recorded once) and optionally moves the state. */
  step(id: string, step: string, opts?: { count?: number; state?: OffboardingState; eraseDueAt?: Date | null }): Promise<void>;
  finish(id: string, state: 'done' | 'cancelled' | 'failed'): Promise<void>;
  get(id: string): Promise<OffboardingRecord | null>;
  /** Whether an offboarding holds this account back (running, in its grace period, or done). */
  holds(tenant: string, userId: string): Promise<boolean>;
}

const subjectKeys = new WeakMap<EncryptionKey, Buffer>();

/**
 * The subject key of one token key: HKDF, so the hash never reuses the encryption key itself.
 * Derived once per key: every membership a room pass brings in asks whether its user is held.
 */
function subjectKey(k: EncryptionKey): Buffer {
  let derived = subjectKeys.get(k);
  if (!derived) {
    derived = Buffer.from(hkdfSync('sha256', k.key, Buffer.alloc(0), 'matrix-orchestrator offboarding subject', 32));
    subjectKeys.set(k, derived);
  }
  return derived;
}

/** HMAC-SHA256 of (tenant, Matrix id): the same user always gives the same subject under one key. */
export function offboardingSubject(key: EncryptionKey, tenant: string, userId: string): string {
  return createHmac('sha256', subjectKey(key)).update(`${tenant}\n${userId}`).digest('hex');
}

interface Row {
  id: string;
  tenant: string;
  erase: boolean;
  adopted: boolean;
  scope: OffboardScope;
  state: OffboardingState;
  steps: OffboardingStep[];
  requested_at: Date;
  erase_due_at: Date | null;
  finished_at: Date | null;
}

/** `keys`: the token keys; the active one hashes, every listed one is looked up (keys rotate). */
export function createOffboardingStore(db: Db, keys: readonly EncryptionKey[], activeKeyId: string): OffboardingStore {
  const active = keys.find((k) => k.id === activeKeyId) ?? keys[0]!;
  return {
    async begin(r) {
      await db.query(
        `INSERT INTO offboardings (id, tenant, subject, subject_key_id, erase, adopted, scope, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'running') ON CONFLICT (id) DO NOTHING`,
        [r.id, r.tenant, offboardingSubject(active, r.tenant, r.userId), active.id, r.erase, r.adopted, r.scope],
      );
    },
    async step(id, step, opts = {}) {
      const entry = { step, at: new Date().toISOString(), ...(opts.count !== undefined ? { count: opts.count } : {}) };
      await db.query(
        `UPDATE offboardings SET
           steps = CASE WHEN steps @> jsonb_build_array(jsonb_build_object('step', $2::text)) THEN steps
                        ELSE steps || jsonb_build_array($3::jsonb) END,
           state = COALESCE($4, state),
           erase_due_at = CASE WHEN $5 THEN $6::timestamptz ELSE erase_due_at END
         WHERE id = $1`,
        [id, step, JSON.stringify(entry), opts.state ?? null, opts.eraseDueAt !== undefined, opts.eraseDueAt ?? null],
      );
    },
    async finish(id, state) {
      await db.query(`UPDATE offboardings SET state = $2, finished_at = COALESCE(finished_at, now()) WHERE id = $1`, [
        id,
        state,
      ]);
    },
    async get(id) {
      const r = await db.query<Row>('SELECT * FROM offboardings WHERE id = $1', [id]);
      const row = r.rows[0];
      if (!row) return null;
      return {
        id: row.id,
        tenant: row.tenant,
        erase: row.erase,
        adopted: row.adopted,
        scope: row.scope,
        state: row.state,
        steps: row.steps,
        requestedAt: row.requested_at,
        eraseDueAt: row.erase_due_at,
        finishedAt: row.finished_at,
      };
    },
    async holds(tenant, userId) {
      const subjects = keys.map((k) => offboardingSubject(k, tenant, userId));
      const r = await db.query(
        `SELECT 1 FROM offboardings WHERE tenant = $1 AND subject = ANY($2) AND state IN ('running', 'grace', 'done') LIMIT 1`,
        [tenant, subjects],
      );
      return r.rowCount !== 0;
    },
  };
}

/** The managed rooms (events and groups, not archived) the user is a desired member of: what offboarding removes them from. */
export async function offboardRooms(db: Db, tenant: string, slug: string): Promise<{ kind: 'event' | 'group'; slug: string }[]> {
  const r = await db.query<{ kind: 'event' | 'group'; slug: string }>(
    `SELECT m.kind, m.slug FROM room_members m JOIN rooms r USING (tenant, kind, slug)
     WHERE m.tenant = $1 AND m.user_slug = $2 AND m.kind <> 'dm' AND r.status = 'active' ORDER BY m.kind, m.slug`,
    [tenant, slug],
  );
  return r.rows;
}

/** Forgets the user's stored token (a new generation, so a renewal racing this one stores nothing). */
export async function dropToken(db: Db, tenant: string, slug: string): Promise<void> {
  await db.query(
    `UPDATE matrix_users SET token_ciphertext = NULL, token_key_id = NULL, token_issued_at = NULL,
       token_generation = token_generation + 1, updated_at = now()
     WHERE tenant = $1 AND slug = $2 AND token_ciphertext IS NOT NULL`,
    [tenant, slug],
  );
}
