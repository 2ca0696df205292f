/**
 * The tenant's rooms as the relay and the message routes name them (a slug, old slugs told the new
 * one, or a room id), and whether a user is joined to one now.
 */
import type { Db } from '../../adapters/store/db.js';
import type { EventLog } from '../../adapters/store/events.js';
import type { RoomKind } from '../../vocabulary/ids.js';
import { ApiError } from '../errors.js';
import { renamedError } from '../room-slugs.js';
import type { RelayHomeserver } from './homeserver.js';
import type { RoomInfo, RoomTarget } from './protocol.js';

interface RoomRow {
  room_id: string | null;
  /** With resolveJoined: the user's latest membership in the event log. */
  membership?: string | null;
  kind: RoomKind;
  /** The current slug. */
  slug: string;
  entity: string;
  name: string | null;
  status: string;
  encrypted: boolean;
}

/**
 * Rooms with their current slug (a room whose slug was never claimed in room_slugs, e.g. started
 * by hand, keeps its own), selected with `columns`. By a room id, or a slug (`$3`: the entity it
 * leads to, or itself).
 */
const ROOM_COLUMNS =
  'r.room_id, r.kind, COALESCE(c.slug, r.slug) AS slug, r.slug AS entity, r.name, r.status, r.encrypted';
const ROOMS = (columns = ROOM_COLUMNS): string => `SELECT ${columns} FROM rooms r
  LEFT JOIN room_slugs c ON c.tenant = r.tenant AND c.kind = r.kind AND c.entity = r.slug AND c.renamed_at IS NULL`;
const BY_ID = 'WHERE r.tenant = $1 AND r.room_id = $2';
const BY_SLUG = `WHERE r.tenant = $1 AND r.kind = $2 AND r.slug =
  COALESCE((SELECT entity FROM room_slugs WHERE tenant = $1 AND kind = $2 AND slug = $3), $3)`;
/** The user's latest membership in the event log, the user being the query's parameter `$n`. */
const MEMBERSHIP = (n: number): string => `(SELECT m.membership FROM relay_memberships m
  WHERE m.user_id = $${n} AND m.room_id = r.room_id ORDER BY m.seq DESC LIMIT 1) AS membership`;

export interface ResolvedRoom extends RoomInfo {
  tenant: string;
  /** The entity's first slug, which names its workflows (decision 0031); `slug` is its current one. */
  entitySlug?: string;
  /** End-to-end encrypted (`rooms.encrypted`): nothing is sent into it (decision 0046). */
  encrypted?: boolean;
}

export interface RoomLookup {
  resolveRoom(tenant: string, target: RoomTarget): Promise<ResolvedRoom>;
  /**
   * `resolveRoom` and `isJoined` together: the room and whether the user is joined to it now, the
   * log's answer read in the same query as the room (one round trip for every message a user sends).
   */
  resolveJoined(tenant: string, target: RoomTarget, userId: string): Promise<{ room: ResolvedRoom; joined: boolean }>;
  /** Whether the user is joined to the room now: the event log says so, or else the homeserver does (the log can lag). */
  isJoined(userId: string, roomId: string): Promise<boolean>;
  /** The tenant's active rooms among `roomIds`. */
  roomsInfo(tenant: string, roomIds: readonly string[]): Promise<RoomInfo[]>;
}

export function createRoomLookup(
  db: Db,
  log: Pick<EventLog, 'latestMembership'>,
  homeserver: Pick<RelayHomeserver, 'membership'>,
): RoomLookup {
  /** The room's row; with `userId`, also that user's latest membership in the event log. */
  async function roomRow(tenant: string, target: RoomTarget, userId?: string): Promise<RoomRow | undefined> {
    const params = 'roomId' in target ? [tenant, target.roomId] : [tenant, target.kind, target.slug];
    const columns = userId ? `${ROOM_COLUMNS}, ${MEMBERSHIP(params.length + 1)}` : ROOM_COLUMNS;
    const where = 'roomId' in target ? BY_ID : BY_SLUG;
    return (await db.query<RoomRow>(`${ROOMS(columns)} ${where}`, userId ? [...params, userId] : params)).rows[0];
  }
  const resolved = (tenant: string, target: RoomTarget, row: RoomRow | undefined): ResolvedRoom => {
    const named = 'roomId' in target ? target.roomId : `${target.kind} ${target.slug}`;
    if (!row?.room_id) throw new ApiError('M_NOT_FOUND', `no room ${named} in tenant ${tenant}`);
    // Named by an old slug: the client is told the new one, as over HTTP (api/room-slugs.ts).
    if (!('roomId' in target) && row.slug !== target.slug) throw renamedError(target, row.slug);
    if (row.status === 'archived') throw new ApiError('OM_ROOM_ARCHIVED', `room ${named} is archived`);
    const { room_id: roomId, kind, slug, entity: entitySlug, name, encrypted } = row;
    return { tenant, roomId, kind, slug, entitySlug, name, encrypted };
  };
  // The log can lag the homeserver (a join not pushed yet, e.g. while Synapse catches up after
  // this API was down): the homeserver decides before a member is refused.
  const joinedByHomeserver = async (userId: string, roomId: string): Promise<boolean> =>
    (await homeserver.membership(roomId, userId)) === 'join';
  return {
    resolveRoom: async (tenant, target) => resolved(tenant, target, await roomRow(tenant, target)),
    async resolveJoined(tenant, target, userId) {
      const row = await roomRow(tenant, target, userId);
      const room = resolved(tenant, target, row);
      return { room, joined: row?.membership === 'join' || (await joinedByHomeserver(userId, room.roomId)) };
    },
    async isJoined(userId, roomId) {
      if ((await log.latestMembership(userId, roomId)) === 'join') return true;
      return joinedByHomeserver(userId, roomId);
    },
    async roomsInfo(tenant, roomIds): Promise<RoomInfo[]> {
      if (roomIds.length === 0) return [];
      const r = await db.query<RoomRow>(
        `${ROOMS()} WHERE r.tenant = $1 AND r.room_id = ANY($2) AND r.status = 'active' ORDER BY r.kind, slug`,
        [tenant, [...roomIds]],
      );
      return r.rows.map((x) => ({ roomId: x.room_id!, kind: x.kind, slug: x.slug, name: x.name }));
    },
  };
}
