/**
 * Recording webhook deliveries (decision 0049): inside the event log's own transaction for what
 * the homeserver pushed (so a stored event and its delivery commit together), and for the
 * reconciler's findings. Only tenants with an active subscription to the type get rows; a tenant
 * with WEBHOOK_MAX_PENDING deliveries pending gets no more, and its `dropped` counts them.
 */
import type pg from 'pg';
import type { Db } from './db.js';
import { boundedPayload, webhookCandidate, webhookDeliveryId, type WebhookCandidate, type WebhookSourceEvent } from './webhook-events.js';
import { WEBHOOK_MAX_PENDING, type WebhookEventType } from '../../vocabulary/webhooks.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** One delivery to record: its id, order key and payload. */
export interface NewDelivery {
  id: string;
  tenant: string;
  roomKey: string;
  type: WebhookEventType;
  payload: Record<string, unknown>;
}

/** Inserts `rows` (a repeat id is skipped), at most what each tenant's pending bound leaves room for. */
export async function insertDeliveries(client: Queryable, rows: NewDelivery[]): Promise<number> {
  if (rows.length === 0) return 0;
  const tenants = [...new Set(rows.map((r) => r.tenant))];
  const counts = await client.query<{ tenant: string; n: number }>(
    `SELECT tenant, count(*)::int AS n FROM webhook_deliveries WHERE tenant = ANY($1) AND state = 'pending' GROUP BY tenant`,
    [tenants],
  );
  const room = new Map(tenants.map((t) => [t, WEBHOOK_MAX_PENDING]));
  for (const c of counts.rows) room.set(c.tenant, WEBHOOK_MAX_PENDING - c.n);
  const kept: NewDelivery[] = [];
  const dropped = new Map<string, number>();
  for (const r of rows) {
    const left = room.get(r.tenant)!;
    if (left > 0) {
      kept.push(r);
      room.set(r.tenant, left - 1);
    } else dropped.set(r.tenant, (dropped.get(r.tenant) ?? 0) + 1);
  }
  for (const [tenant, n] of dropped)
    await client.query('UPDATE webhook_subscriptions SET dropped = dropped + $2 WHERE tenant = $1', [tenant, n]);
  if (kept.length === 0) return 0;
  const r = await client.query(
    `INSERT INTO webhook_deliveries (id, tenant, room_key, type, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
     ON CONFLICT (id) DO NOTHING`,
    [
      kept.map((k) => k.id),
      kept.map((k) => k.tenant),
      kept.map((k) => k.roomKey),
      kept.map((k) => k.type),
      kept.map((k) => JSON.stringify(k.payload)),
    ],
  );
  return r.rowCount ?? 0;
}

interface RoomRow {
  room_id: string;
  tenant: string;
  kind: string;
  slug: string;
  event_types: string[];
}

/** The subscribed tenant, kind and current slug of each room (decision 0031: the current slug). */
async function subscribedRooms(client: Queryable, roomIds: string[]): Promise<Map<string, RoomRow>> {
  const r = await client.query<RoomRow>(
    `SELECT r.room_id, r.tenant, r.kind, COALESCE(c.slug, r.slug) AS slug, s.event_types
     FROM rooms r JOIN webhook_subscriptions s ON s.tenant = r.tenant AND s.state = 'active'
     LEFT JOIN room_slugs c ON c.tenant = r.tenant AND c.kind = r.kind AND c.entity = r.slug AND c.renamed_at IS NULL
     WHERE r.room_id = ANY($1)`,
    [roomIds],
  );
  return new Map(r.rows.map((row) => [row.room_id, row]));
}

async function slugsOf(client: Queryable, candidates: WebhookCandidate[]): Promise<Map<string, { tenant: string; slug: string }>> {
  const ids = [...new Set(candidates.flatMap((c) => Object.values(c.users)))];
  const r = await client.query<{ user_id: string; tenant: string; slug: string }>(
    'SELECT user_id, tenant, slug FROM matrix_users WHERE user_id = ANY($1)',
    [ids],
  );
  return new Map(r.rows.map((row) => [row.user_id, { tenant: row.tenant, slug: row.slug }]));
}

/**
 * Records the deliveries the stored events call for, in the caller's transaction (the event log's
 * append): a crash loses both or neither. Cheap when nothing qualifies: no query at all.
 */
export async function enqueueFromEvents(
  client: Queryable,
  events: WebhookSourceEvent[],
  serviceUserId: string | undefined,
): Promise<number> {
  const candidates = events.map((e) => webhookCandidate(e, serviceUserId)).filter((c): c is WebhookCandidate => c !== null);
  if (candidates.length === 0) return 0;
  const rooms = await subscribedRooms(client, [...new Set(candidates.map((c) => c.roomId))]);
  const wanted = candidates.filter((c) => rooms.get(c.roomId)?.event_types.includes(c.type));
  if (wanted.length === 0) return 0;
  const slugs = await slugsOf(client, wanted);
  const rows = wanted.map((c): NewDelivery => {
    const room = rooms.get(c.roomId)!;
    const id = webhookDeliveryId(c.type, c.eventId);
    const users = Object.fromEntries(
      Object.entries(c.users).map(([k, userId]) => {
        const bound = slugs.get(userId);
        return [k, { userId, slug: bound?.tenant === room.tenant ? bound.slug : null }];
      }),
    );
    return {
      id,
      tenant: room.tenant,
      roomKey: c.roomId,
      type: c.type,
      payload: boundedPayload({
        id,
        type: c.type,
        tenant: room.tenant,
        room: { kind: room.kind, slug: room.slug, roomId: c.roomId },
        ...users,
        ...c.data,
      }),
    };
  });
  return insertDeliveries(client, rows);
}

/** The reconciler's findings: one `drift.found` per room it fixed, one `room.missing` per room gone. */
export async function enqueueReconcileFindings(
  db: Db,
  tenant: string,
  runStartedAt: string,
  findings: { kind: string; slug: string; type: 'drift.found' | 'room.missing'; detail: Record<string, unknown> }[],
): Promise<number> {
  if (findings.length === 0) return 0;
  const sub = await db.query<{ event_types: string[] }>(
    `SELECT event_types FROM webhook_subscriptions WHERE tenant = $1 AND state = 'active'`,
    [tenant],
  );
  const types = sub.rows[0]?.event_types ?? [];
  const wanted = findings.filter((f) => types.includes(f.type));
  if (wanted.length === 0) return 0;
  const rooms = await db.query<{ kind: string; slug: string; room_id: string | null }>(
    'SELECT kind, slug, room_id FROM rooms WHERE tenant = $1 AND (kind, slug) IN (SELECT * FROM unnest($2::text[], $3::text[]))',
    [tenant, wanted.map((f) => f.kind), wanted.map((f) => f.slug)],
  );
  const roomIdOf = new Map(rooms.rows.map((r) => [`${r.kind}/${r.slug}`, r.room_id]));
  const client = await db.connect();
  try {
    return await insertDeliveries(
      client,
      wanted.map((f) => {
        const roomId = roomIdOf.get(`${f.kind}/${f.slug}`) ?? null;
        const id = webhookDeliveryId(f.type, `${tenant}/${f.kind}/${f.slug}@${runStartedAt}`);
        return {
          id,
          tenant,
          roomKey: roomId ?? `${tenant}:`,
          type: f.type,
          payload: { id, type: f.type, tenant, room: { kind: f.kind, slug: f.slug, roomId }, reconciledAt: runStartedAt, ...f.detail },
        };
      }),
    );
  } finally {
    client.release();
  }
}
