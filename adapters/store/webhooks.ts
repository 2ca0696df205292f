/**
 * Webhook subscriptions and their deliveries (migrations/014_webhooks.sql, decision 0049). The secret is sealed like
 * users' tokens (the tenant as associated data); it leaves here only toward the activity that signs with it.
 */
import type { TokenCipher } from '../../lib/token-cipher.js';
import type { Db } from './db.js';
import { enqueueReconcileFindings } from './webhook-outbox.js';
import { webhookSweepQueries } from './webhook-sweep.js';

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookSubscription {
  tenant: string;
  url: string;
  eventTypes: string[];
  state: 'active' | 'stopped';
  stoppedReason: string | null;
  stoppedAt: Date | null;
  dropped: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookDelivery {
  seq: number;
  id: string;
  tenant: string;
  roomKey: string;
  type: string;
  payload: Record<string, unknown>;
  state: DeliveryState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  attemptedAt: Date | null;
  finishedAt: Date | null;
}

/** The associated data binding a sealed secret to its tenant's row. */
export const webhookSecretAad = (tenant: string): string => `webhook-secret:${tenant}`;

const SUB_COLUMNS = 'tenant, url, event_types, state, stopped_reason, stopped_at, dropped, created_at, updated_at';
interface SubRow {
  tenant: string;
  url: string;
  event_types: string[];
  state: 'active' | 'stopped';
  stopped_reason: string | null;
  stopped_at: Date | null;
  dropped: string;
  created_at: Date;
  updated_at: Date;
}
const subscription = (r: SubRow): WebhookSubscription => ({
  tenant: r.tenant,
  url: r.url,
  eventTypes: r.event_types,
  state: r.state,
  stoppedReason: r.stopped_reason,
  stoppedAt: r.stopped_at,
  dropped: Number(r.dropped),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const DELIVERY_COLUMNS =
  'seq, id, tenant, room_key, type, payload, state, attempts, last_status, last_error, created_at, attempted_at, finished_at';
interface DeliveryRow {
  seq: string;
  id: string;
  tenant: string;
  room_key: string;
  type: string;
  payload: Record<string, unknown>;
  state: DeliveryState;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  attempted_at: Date | null;
  finished_at: Date | null;
}
const delivery = (r: DeliveryRow): WebhookDelivery => ({
  seq: Number(r.seq),
  id: r.id,
  tenant: r.tenant,
  roomKey: r.room_key,
  type: r.type,
  payload: r.payload,
  state: r.state,
  attempts: r.attempts,
  lastStatus: r.last_status,
  lastError: r.last_error,
  createdAt: r.created_at,
  attemptedAt: r.attempted_at,
  finishedAt: r.finished_at,
});

function subscriptionStore(db: Db, cipher: TokenCipher) {
  return {
    /** Creates or replaces the tenant's subscription; it becomes active again (a stopped one resumes). */
    async put(tenant: string, input: { url: string; secret: string; eventTypes: string[] }): Promise<WebhookSubscription> {
      const sealed = cipher.seal(input.secret, webhookSecretAad(tenant));
      const r = await db.query<SubRow>(
        `INSERT INTO webhook_subscriptions (tenant, url, secret_ciphertext, secret_key_id, event_types)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant) DO UPDATE SET url = EXCLUDED.url, secret_ciphertext = EXCLUDED.secret_ciphertext,
           secret_key_id = EXCLUDED.secret_key_id, event_types = EXCLUDED.event_types, state = 'active',
           stopped_reason = NULL, stopped_at = NULL, updated_at = now()
         RETURNING ${SUB_COLUMNS}`,
        [tenant, input.url, sealed.ciphertext, sealed.keyId, input.eventTypes],
      );
      // Deliveries left pending while it was stopped go again: the sweeper tells their rooms.
      await db.query(`UPDATE webhook_deliveries SET dispatched = false WHERE tenant = $1 AND state = 'pending'`, [tenant]);
      return subscription(r.rows[0]!);
    },

    async get(tenant: string): Promise<WebhookSubscription | null> {
      const r = await db.query<SubRow>(`SELECT ${SUB_COLUMNS} FROM webhook_subscriptions WHERE tenant = $1`, [tenant]);
      return r.rows[0] ? subscription(r.rows[0]) : null;
    },

    /** How many deliveries of the tenant are in each state. */
    async counts(tenant: string): Promise<Record<DeliveryState, number>> {
      const r = await db.query<{ state: DeliveryState; n: number }>(
        'SELECT state, count(*)::int AS n FROM webhook_deliveries WHERE tenant = $1 GROUP BY state',
        [tenant],
      );
      const counts: Record<DeliveryState, number> = { pending: 0, delivered: 0, failed: 0 };
      for (const row of r.rows) counts[row.state] = row.n;
      return counts;
    },

    /** Deletes the subscription and its pending deliveries (nobody will take them); whether there was one. */
    async delete(tenant: string): Promise<boolean> {
      const r = await db.query('DELETE FROM webhook_subscriptions WHERE tenant = $1', [tenant]);
      await db.query(`DELETE FROM webhook_deliveries WHERE tenant = $1 AND state = 'pending'`, [tenant]);
      return (r.rowCount ?? 0) > 0;
    },

    /** Where and with what to deliver, for an active subscription only. */
    async target(tenant: string): Promise<{ url: string; secret: string } | null> {
      const r = await db.query<{ url: string; secret_ciphertext: Buffer; secret_key_id: string }>(
        `SELECT url, secret_ciphertext, secret_key_id FROM webhook_subscriptions WHERE tenant = $1 AND state = 'active'`,
        [tenant],
      );
      const row = r.rows[0];
      if (!row) return null;
      const secret = cipher.open({ keyId: row.secret_key_id, ciphertext: row.secret_ciphertext }, webhookSecretAad(tenant));
      return { url: row.url, secret };
    },

    /** Stops the subscription with a reason the route shows (e.g. the receiver answered 410). */
    async stop(tenant: string, reason: string): Promise<void> {
      await db.query(
        `UPDATE webhook_subscriptions SET state = 'stopped', stopped_reason = $2, stopped_at = now(), updated_at = now()
         WHERE tenant = $1 AND state = 'active'`,
        [tenant, reason],
      );
    },
  };
}

function deliveryStore(db: Db) {
  return {
    /** The oldest pending delivery of a room: the only one that may go now. */
    async head(tenant: string, roomKey: string): Promise<WebhookDelivery | null> {
      const r = await db.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant = $1 AND room_key = $2 AND state = 'pending'
         ORDER BY seq LIMIT 1`,
        [tenant, roomKey],
      );
      return r.rows[0] ? delivery(r.rows[0]) : null;
    },

    async attempted(id: string, outcome: { state: DeliveryState; status: number | null; error: string | null }): Promise<void> {
      await db.query(
        `UPDATE webhook_deliveries SET state = $2, attempts = attempts + 1, last_status = $3, last_error = $4,
           attempted_at = now(), finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
         WHERE id = $1 AND state = 'pending'`,
        [id, outcome.state, outcome.status, outcome.error],
      );
    },

    /** Queues the reconciler's findings for an active subscription (adapters/store/webhook-outbox.ts). */
    reconcileFindings: (tenant: string, runStartedAt: string, findings: Parameters<typeof enqueueReconcileFindings>[3]) =>
      enqueueReconcileFindings(db, tenant, runStartedAt, findings),

    async list(tenant: string, opts: { state?: DeliveryState; limit: number; after?: number }): Promise<WebhookDelivery[]> {
      const r = await db.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE tenant = $1 AND ($2::text IS NULL OR state = $2) AND seq > $3 ORDER BY seq LIMIT $4`,
        [tenant, opts.state ?? null, opts.after ?? 0, opts.limit],
      );
      return r.rows.map(delivery);
    },

  };
}

export function createWebhookStore(db: Db, cipher: TokenCipher) {
  return { ...subscriptionStore(db, cipher), ...deliveryStore(db), ...webhookSweepQueries(db) };
}
export type WebhookStore = ReturnType<typeof createWebhookStore>;
