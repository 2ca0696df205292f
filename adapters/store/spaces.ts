/**
 * Group spaces and group bans in PostgreSQL (migrations/015_group_spaces.sql, decision 0051): a
 * group's space, an event's group, the tenant's join setting, and the groups' bans.
 */
import { DEFAULT_EVENT_ROOM_JOIN, type EventRoomJoin } from '../../vocabulary/spaces.js';
import type { Db } from './db.js';

/** One ban of a group: active, or lifted (kept so rooms still holding it are unbanned). */
export interface GroupBan {
  userSlug: string;
  reason: string | null;
  lifted: boolean;
}

/** An event room of a group. */
export interface GroupEvent {
  slug: string;
  roomId: string | null;
  status: 'active' | 'archived';
  visibility: 'public' | 'private';
}

export interface SpaceStore {
  /** A group's space, or null (no space yet, or no such group). */
  spaceOf(tenant: string, group: string): Promise<string | null>;
  setSpace(tenant: string, group: string, spaceId: string): Promise<void>;
  /** The group (entity slug) an event room belongs to, or null. */
  groupOf(tenant: string, event: string): Promise<string | null>;
  setGroup(tenant: string, event: string, group: string | null): Promise<void>;
  /** The event rooms of a group, by slug. */
  eventsOf(tenant: string, group: string): Promise<GroupEvent[]>;
  eventRoomJoin(tenant: string): Promise<EventRoomJoin>;
  setEventRoomJoin(tenant: string, join: EventRoomJoin): Promise<void>;
  /** Records the ban (again active, with this reason, if it was lifted). */
  ban(tenant: string, group: string, userSlug: string, reason: string | null): Promise<void>;
  /** Lifts it; false when there was no ban. */
  unban(tenant: string, group: string, userSlug: string): Promise<boolean>;
  bansOf(tenant: string, group: string): Promise<GroupBan[]>;
}

export function createSpaceStore(db: Db): SpaceStore {
  return {
    async spaceOf(tenant, group) {
      const r = await db.query<{ space_id: string | null }>(
        `SELECT space_id FROM rooms WHERE tenant = $1 AND kind = 'group' AND slug = $2`,
        [tenant, group],
      );
      return r.rows[0]?.space_id ?? null;
    },
    async setSpace(tenant, group, spaceId) {
      await db.query(`UPDATE rooms SET space_id = $3, updated_at = now() WHERE tenant = $1 AND kind = 'group' AND slug = $2`, [
        tenant,
        group,
        spaceId,
      ]);
    },
    async groupOf(tenant, event) {
      const r = await db.query<{ group_slug: string | null }>(
        `SELECT group_slug FROM rooms WHERE tenant = $1 AND kind = 'event' AND slug = $2`,
        [tenant, event],
      );
      return r.rows[0]?.group_slug ?? null;
    },
    async setGroup(tenant, event, group) {
      await db.query(`UPDATE rooms SET group_slug = $3, updated_at = now() WHERE tenant = $1 AND kind = 'event' AND slug = $2`, [
        tenant,
        event,
        group,
      ]);
    },
    async eventsOf(tenant, group) {
      const r = await db.query<{ slug: string; room_id: string | null; status: 'active' | 'archived'; visibility: 'public' | 'private' }>(
        `SELECT slug, room_id, status, visibility FROM rooms WHERE tenant = $1 AND kind = 'event' AND group_slug = $2 ORDER BY slug`,
        [tenant, group],
      );
      return r.rows.map((x) => ({ slug: x.slug, roomId: x.room_id, status: x.status, visibility: x.visibility }));
    },
    async eventRoomJoin(tenant) {
      const r = await db.query<{ event_rooms: EventRoomJoin }>('SELECT event_rooms FROM tenant_space_settings WHERE tenant = $1', [
        tenant,
      ]);
      return r.rows[0]?.event_rooms ?? DEFAULT_EVENT_ROOM_JOIN;
    },
    async setEventRoomJoin(tenant, join) {
      await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
      await db.query(
        `INSERT INTO tenant_space_settings (tenant, event_rooms) VALUES ($1, $2)
         ON CONFLICT (tenant) DO UPDATE SET event_rooms = EXCLUDED.event_rooms, updated_at = now()`,
        [tenant, join],
      );
    },
    async ban(tenant, group, userSlug, reason) {
      await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
      await db.query(
        `INSERT INTO group_bans (tenant, group_slug, user_slug, reason) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant, group_slug, user_slug) DO UPDATE SET reason = EXCLUDED.reason,
           banned_at = CASE WHEN group_bans.lifted_at IS NULL THEN group_bans.banned_at ELSE now() END, lifted_at = NULL`,
        [tenant, group, userSlug, reason],
      );
    },
    async unban(tenant, group, userSlug) {
      const r = await db.query(
        `UPDATE group_bans SET lifted_at = COALESCE(lifted_at, now()) WHERE tenant = $1 AND group_slug = $2 AND user_slug = $3`,
        [tenant, group, userSlug],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async bansOf(tenant, group) {
      const r = await db.query<{ user_slug: string; reason: string | null; lifted: boolean }>(
        `SELECT user_slug, reason, lifted_at IS NOT NULL AS lifted FROM group_bans WHERE tenant = $1 AND group_slug = $2 ORDER BY user_slug`,
        [tenant, group],
      );
      return r.rows.map((x) => ({ userSlug: x.user_slug, reason: x.reason, lifted: x.lifted }));
    },
  };
}
