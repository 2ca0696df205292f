/**
 * What the homeserver itself says, read independently of the worker: room state as the service
 * bot (as_token), users through the Synapse Admin API (as the configured admin, on a device of
 * the CLI's own that is logged out again afterwards) in admin mode, or through the appservice in
 * appservice mode, where no admin exists.
 */
import { appserviceAccounts } from '../../adapters/identity/appservice-accounts.js';
import { MatrixHttpError } from '../../adapters/matrix/errors.js';
import { enc, matrixRequest } from '../../adapters/matrix/http.js';
import type { Config } from '../../lib/config.js';

export interface ActualRoom {
  /** User id → membership (join, invite, leave, ban, knock). */
  memberships: Record<string, string>;
  /** User id → explicit power level. */
  levels: Record<string, number>;
  usersDefault: number;
  name: string | null;
  topic: string | null;
  joinRule: string | null;
  /** From room version 12 on, the room's creators outrank every power level (decision 0006). */
  creators: string[];
}

interface StateEvent {
  type: string;
  state_key?: string;
  sender?: string;
  content: Record<string, unknown>;
}

/** The room's current state as the bot sees it; null when the room is gone or the bot is not in it. */
export async function readRoomAsBot(config: Config, roomId: string): Promise<ActualRoom | null> {
  let events: StateEvent[];
  try {
    events = await matrixRequest<StateEvent[]>(config.matrix.homeserverUrl, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${enc(roomId)}/state`,
      token: config.matrix.asToken,
    });
  } catch (err) {
    if (err instanceof MatrixHttpError && (err.status === 403 || err.status === 404)) return null;
    throw err;
  }
  const room: ActualRoom = {
    memberships: {},
    levels: {},
    usersDefault: 0,
    name: null,
    topic: null,
    joinRule: null,
    creators: [],
  };
  for (const ev of events) {
    const c = ev.content;
    if (ev.type === 'm.room.member' && ev.state_key && typeof c.membership === 'string')
      room.memberships[ev.state_key] = c.membership;
    else if (ev.type === 'm.room.power_levels') {
      room.levels = (c.users as Record<string, number> | undefined) ?? {};
      room.usersDefault = typeof c.users_default === 'number' ? c.users_default : 0;
    } else if (ev.type === 'm.room.name' && typeof c.name === 'string') room.name = c.name;
    else if (ev.type === 'm.room.topic' && typeof c.topic === 'string') room.topic = c.topic;
    else if (ev.type === 'm.room.join_rules' && typeof c.join_rule === 'string') room.joinRule = c.join_rule;
    else if (ev.type === 'm.room.create' && Number(c.room_version) >= 12 && ev.sender) {
      room.creators = [ev.sender, ...(Array.isArray(c.additional_creators) ? (c.additional_creators as string[]) : [])];
    }
  }
  return room;
}

/** The room an alias points at, or null. */
export async function resolveAlias(config: Config, alias: string): Promise<string | null> {
  try {
    const r = await matrixRequest<{ room_id: string }>(config.matrix.homeserverUrl, {
      method: 'GET',
      path: `/_matrix/client/v3/directory/room/${enc(alias)}`,
      token: config.matrix.asToken,
    });
    return r.room_id;
  } catch (err) {
    if (err instanceof MatrixHttpError && err.status === 404) return null;
    throw err;
  }
}

/** A user as the homeserver shows them; null where the way it was read cannot see (the appservice). */
export interface AdminUserView {
  /** How it was read: the Synapse Admin API (admin mode), or the appservice acting as the user. */
  seenThrough: 'Synapse Admin API' | 'appservice';
  displayName: string | null;
  deactivated: boolean | null;
  admin: boolean | null;
  locked: boolean | null;
  shadowBanned: boolean | null;
  createdAt: string | null;
  devices: number;
  joinedRooms: number;
}

/**
 * The user as the appservice sees them (appservice mode: no Admin API): their display name, devices
 * and rooms, acting as them; deactivation from the appservice login (null where the homeserver has
 * none); null when the homeserver has no such account.
 */
export async function appserviceUser(config: Config, userId: string): Promise<AdminUserView | null> {
  const get = <T>(path: string) =>
    matrixRequest<T>(config.matrix.homeserverUrl, {
      method: 'GET',
      path,
      token: config.matrix.asToken,
      query: { user_id: userId },
    });
  try {
    await get('/_matrix/client/v3/account/whoami');
  } catch (err) {
    // 403: "Application service has not registered this user".
    if (err instanceof MatrixHttpError && err.status === 403) return null;
    throw err;
  }
  const [profile, devices, rooms, deactivated] = await Promise.all([
    get<{ displayname?: string }>(`/_matrix/client/v3/profile/${enc(userId)}`).catch(
      () => ({}) as { displayname?: string },
    ),
    get<{ devices?: unknown[] }>('/_matrix/client/v3/devices'),
    get<{ joined_rooms?: unknown[] }>('/_matrix/client/v3/joined_rooms'),
    appserviceAccounts(config.matrix.homeserverUrl, config.matrix.asToken).deactivated(userId),
  ]);
  return {
    seenThrough: 'appservice',
    displayName: profile.displayname ?? null,
    deactivated,
    admin: null,
    locked: null,
    shadowBanned: null,
    createdAt: null,
    devices: devices.devices?.length ?? 0,
    joinedRooms: rooms.joined_rooms?.length ?? 0,
  };
}

/** Runs `fn` with a fresh admin token, and logs that session out again. */
export async function withAdmin<T>(config: Config, fn: (token: string) => Promise<T>): Promise<T> {
  const { access_token: token } = await matrixRequest<{ access_token: string }>(config.matrix.homeserverUrl, {
    method: 'POST',
    path: '/_matrix/client/v3/login',
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: config.matrix.adminUserId },
      password: config.matrix.adminPassword,
      initial_device_display_name: 'matrix-orchestrator operator CLI',
    },
  });
  try {
    return await fn(token);
  } finally {
    await matrixRequest(config.matrix.homeserverUrl, {
      method: 'POST',
      path: '/_matrix/client/v3/logout',
      token,
      body: {},
    }).catch(() => undefined);
  }
}

/** What the Synapse Admin API says about a user; null when the homeserver has never heard of them. */
export async function adminUser(config: Config, token: string, userId: string): Promise<AdminUserView | null> {
  const get = <T>(path: string) => matrixRequest<T>(config.matrix.homeserverUrl, { method: 'GET', path, token });
  let u: Record<string, unknown>;
  try {
    u = await get<Record<string, unknown>>(`/_synapse/admin/v2/users/${enc(userId)}`);
  } catch (err) {
    if (err instanceof MatrixHttpError && err.status === 404) return null;
    throw err;
  }
  const [devices, rooms] = await Promise.all([
    get<{ total?: number; devices?: unknown[] }>(`/_synapse/admin/v2/users/${enc(userId)}/devices`),
    get<{ total?: number; joined_rooms?: unknown[] }>(`/_synapse/admin/v1/users/${enc(userId)}/joined_rooms`),
  ]);
  return {
    seenThrough: 'Synapse Admin API',
    displayName: typeof u.displayname === 'string' ? u.displayname : null,
    deactivated: u.deactivated === true || u.deactivated === 1,
    admin: u.admin === true || u.admin === 1,
    locked: u.locked === true,
    shadowBanned: u.shadow_banned === true,
    // Synapse answers seconds (older versions) or milliseconds.
    createdAt:
      typeof u.creation_ts === 'number'
        ? new Date(u.creation_ts < 1e11 ? u.creation_ts * 1000 : u.creation_ts).toISOString()
        : null,
    devices: devices.total ?? devices.devices?.length ?? 0,
    joinedRooms: rooms.total ?? rooms.joined_rooms?.length ?? 0,
  };
}

/** Whether `accessToken` still acts as `userId` (`whoami`); the reason when it does not. */
export async function tokenWorks(
  config: Config,
  accessToken: string,
  userId: string,
): Promise<{ works: boolean; reason?: string }> {
  try {
    const r = await matrixRequest<{ user_id: string }>(config.matrix.homeserverUrl, {
      method: 'GET',
      path: '/_matrix/client/v3/account/whoami',
      token: accessToken,
    });
    return r.user_id === userId ? { works: true } : { works: false, reason: `acts as ${r.user_id}` };
  } catch (err) {
    if (err instanceof MatrixHttpError) return { works: false, reason: err.errcode ?? `HTTP ${err.status}` };
    throw err;
  }
}
