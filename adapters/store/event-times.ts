import type { RoomRef } from '../../vocabulary/contract.js';
import {
  DEFAULT_EVENT_TIMER_POLICY,
  type EventSchedule,
  type EventTimerPolicy,
} from '../../vocabulary/event-time.js';
import type { Db } from './db.js';

/** Events' times and their timers (room_event_times), and the tenants' policies (migrations/016). */
export interface EventTimeStore {
  get(ref: RoomRef): Promise<EventSchedule | null>;
  /** Records the time and its timers as the room workflow has them now (the last write wins). */
  put(ref: RoomRef, s: EventSchedule): Promise<void>;
  /** The tenant's policy, or the defaults. */
  policy(tenant: string): Promise<EventTimerPolicy>;
  /** Whether the tenant has a policy of its own. */
  hasPolicy(tenant: string): Promise<boolean>;
  setPolicy(tenant: string, policy: EventTimerPolicy): Promise<void>;
  /** An archived room active again (rooms.status; decision 0053). */
  reopenRoom(ref: RoomRef): Promise<void>;
}

interface Row {
  starts_at: Date;
  ends_at: Date;
  time_zone: string;
  cancelled: boolean;
  read_only: boolean;
  policy: EventTimerPolicy;
  timers: EventSchedule['timers'];
}

/** A stored policy over the defaults: fields added later keep their default. */
const withDefaults = (p: Partial<EventTimerPolicy>): EventTimerPolicy => ({
  ...DEFAULT_EVENT_TIMER_POLICY,
  ...p,
  templates: { ...DEFAULT_EVENT_TIMER_POLICY.templates, ...p.templates },
});

export function createEventTimeStore(db: Db): EventTimeStore {
  return {
    async get(ref) {
      const { rows } = await db.query<Row>(
        'SELECT starts_at, ends_at, time_zone, cancelled, read_only, policy, timers FROM room_event_times WHERE tenant = $1 AND kind = $2 AND slug = $3',
        [ref.tenant, ref.kind, ref.slug],
      );
      const r = rows[0];
      if (!r) return null;
      return {
        startsAt: r.starts_at.getTime(),
        endsAt: r.ends_at.getTime(),
        timeZone: r.time_zone,
        cancelled: r.cancelled,
        readOnly: r.read_only,
        policy: withDefaults(r.policy),
        timers: r.timers,
      };
    },
    async put(ref, s) {
      await db.query(
        `INSERT INTO room_event_times (tenant, kind, slug, starts_at, ends_at, time_zone, cancelled, read_only, policy, timers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (tenant, kind, slug) DO UPDATE SET starts_at = $4, ends_at = $5, time_zone = $6, cancelled = $7,
           read_only = $8, policy = $9, timers = $10, updated_at = now()`,
        [
          ref.tenant,
          ref.kind,
          ref.slug,
          new Date(s.startsAt),
          new Date(s.endsAt),
          s.timeZone,
          s.cancelled,
          s.readOnly,
          JSON.stringify(s.policy),
          JSON.stringify(s.timers),
        ],
      );
    },
    async policy(tenant) {
      const { rows } = await db.query<{ policy: Partial<EventTimerPolicy> }>(
        'SELECT policy FROM tenant_event_policies WHERE tenant = $1',
        [tenant],
      );
      return withDefaults(rows[0]?.policy ?? {});
    },
    async hasPolicy(tenant) {
      const { rows } = await db.query('SELECT 1 FROM tenant_event_policies WHERE tenant = $1', [tenant]);
      return rows.length > 0;
    },
    async reopenRoom(ref) {
      await db.query(`UPDATE rooms SET status = 'active', updated_at = now() WHERE tenant = $1 AND kind = $2 AND slug = $3`, [
        ref.tenant,
        ref.kind,
        ref.slug,
      ]);
    },
    async setPolicy(tenant, policy) {
      await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
      await db.query(
        `INSERT INTO tenant_event_policies (tenant, policy) VALUES ($1, $2)
         ON CONFLICT (tenant) DO UPDATE SET policy = $2, updated_at = now()`,
        [tenant, JSON.stringify(policy)],
      );
    },
  };
}
