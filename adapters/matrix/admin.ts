import { randomBytes } from 'node:crypto';
import type { MatrixConfig } from '../../lib/config.js';
import { MatrixHttpError } from './errors.js';
import { enc, matrixRequest, type MatrixRequest } from './http.js';

/** What the Synapse Admin API says about a user. */
export interface AdminUser {
  userId: string;
  displayName: string | null;
  deactivated: boolean;
}

/** The Synapse Admin API calls the service needs. */
export interface MatrixAdmin {
  /** The user, or null when the homeserver has never heard of them. */
  getUser(userId: string): Promise<AdminUser | null>;
  /**
   * Creates the user or updates their fields. Never sends a password to an active user (that
   * would log them out); reactivating a deactivated user needs one, so a random one is set.
   */
  upsertUser(userId: string, fields: { displayName: string; reactivate?: boolean }): Promise<void>;
  /**
   * The deactivated accounts whose id contains `idPart`, in one request per 1,000 (the v3 user list
   * filters on deactivation); null when the homeserver has no such list (it answers 404 or 400).
   */
  deactivatedUsers(idPart: string): Promise<string[] | null>;
  /** A new access token acting as the user (admin login); no device is created. */
  loginAs(userId: string): Promise<string>;
  /** Deletes and purges a room (everyone is removed, history is deleted). */
  deleteRoom(roomId: string): Promise<void>;
  /**
   * Synapse's make-room-admin: a local member with the room's highest power level (a creator in
   * room version 12) grants `userId` that level, and invites them into a room that is not public.
   */
  makeRoomAdmin(roomId: string, userId: string): Promise<void>;
  /** Locks or unlocks the account (MSC3939): a locked user's every request is refused, M_USER_LOCKED. */
  setLocked(userId: string, locked: boolean): Promise<void>;
  /** Deactivates the account; `erase`: also GDPR-erases it (profile gone, messages hidden from later joiners). */
  deactivate(userId: string, erase: boolean): Promise<void>;
  /** Deletes every file the user uploaded to this homeserver (and its thumbnails); returns how many. */
  deleteUploads(userId: string): Promise<number>;
}

export interface SynapseAdminOptions {
  homeserverUrl: string;
  adminUserId: string;
  adminPassword: string;
  /** Fixed device id for the admin's own login, so re-logins replace the token instead of piling up devices. */
  deviceId?: string;
}

interface LoginResponse {
  access_token: string;
}

/** MatrixAdmin.deactivatedUsers, through the admin session's `call`. */
async function deactivatedUsers(
  call: <T>(req: Omit<MatrixRequest, 'token'>) => Promise<T>,
  idPart: string,
): Promise<string[] | null> {
  const found: string[] = [];
  let from: string | undefined;
  try {
    do {
      const query = `deactivated=true&limit=1000&user_id=${enc(idPart)}${from ? `&from=${enc(from)}` : ''}`;
      const page = await call<{ users: { name: string }[]; next_token?: string | number }>({
        method: 'GET',
        path: `/_synapse/admin/v3/users?${query}`,
      });
      found.push(...page.users.map((u) => u.name));
      from = page.next_token === undefined ? undefined : String(page.next_token);
    } while (from !== undefined);
  } catch (err) {
    if (err instanceof MatrixHttpError && (err.status === 404 || err.status === 400)) return null;
    throw err;
  }
  return found;
}

const UPLOADS_PAGE = 500;

/** MatrixAdmin's lock and deactivation (offboarding, decision 0056), through the admin session's `call`. */
function offboardingCalls(
  call: <T>(req: Omit<MatrixRequest, 'token'>) => Promise<T>,
): Pick<MatrixAdmin, 'setLocked' | 'deactivate' | 'deleteUploads'> {
  return {
    async setLocked(userId, locked) {
      await call({ method: 'PUT', path: `/_synapse/admin/v2/users/${enc(userId)}`, body: { locked } });
    },
    async deactivate(userId, erase) {
      await call({ method: 'POST', path: `/_synapse/admin/v1/deactivate/${enc(userId)}`, body: { erase } });
    },
    async deleteUploads(userId) {
      // A page at a time from the start (what is deleted leaves the list), until a page deletes nothing.
      let deleted = 0;
      for (;;) {
        const page = await call<{ deleted_media: string[] }>({
          method: 'DELETE',
          path: `/_synapse/admin/v1/users/${enc(userId)}/media?limit=${UPLOADS_PAGE}`,
        });
        deleted += page.deleted_media.length;
        if (page.deleted_media.length === 0) return deleted;
      }
    },
  };
}

/**
 * The Admin API as the configured server admin. The admin token lives in memory only; when the
 * homeserver stops accepting it (M_UNKNOWN_TOKEN), one login (shared by all concurrent callers)
 * replaces it and the call is tried once more.
 */
export function createSynapseAdmin(opts: SynapseAdminOptions): MatrixAdmin {
  const deviceId = opts.deviceId ?? 'MATRIX_ORCHESTRATOR';
  let token: Promise<string> | null = null;

  const login = (): Promise<string> =>
    matrixRequest<LoginResponse>(opts.homeserverUrl, {
      method: 'POST',
      path: '/_matrix/client/v3/login',
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: opts.adminUserId },
        password: opts.adminPassword,
        device_id: deviceId,
        initial_device_display_name: 'matrix-orchestrator',
      },
    }).then((r) => r.access_token);

  const currentToken = (): Promise<string> => {
    if (!token) {
      const p = login();
      token = p;
      // A failed login must not be cached: the next call tries again.
      p.catch(() => {
        if (token === p) token = null;
      });
    }
    return token;
  };

  async function call<T>(req: Omit<MatrixRequest, 'token'>): Promise<T> {
    const used = currentToken();
    try {
      return await matrixRequest<T>(opts.homeserverUrl, { ...req, token: await used });
    } catch (err) {
      if (err instanceof MatrixHttpError && err.errcode === 'M_UNKNOWN_TOKEN') {
        if (token === used) token = null;
        return matrixRequest<T>(opts.homeserverUrl, { ...req, token: await currentToken() });
      }
      throw err;
    }
  }

  return {
    async getUser(userId) {
      try {
        const u = await call<{ name: string; displayname?: string | null; deactivated?: boolean | number }>({
          method: 'GET',
          path: `/_synapse/admin/v2/users/${enc(userId)}`,
        });
        return { userId: u.name, displayName: u.displayname ?? null, deactivated: Boolean(u.deactivated) };
      } catch (err) {
        if (err instanceof MatrixHttpError && err.status === 404) return null;
        throw err;
      }
    },
    deactivatedUsers: (idPart) => deactivatedUsers(call, idPart),
    async upsertUser(userId, fields) {
      const body: Record<string, unknown> = { displayname: fields.displayName };
      if (fields.reactivate) Object.assign(body, { deactivated: false, password: randomBytes(32).toString('base64url') });
      await call({ method: 'PUT', path: `/_synapse/admin/v2/users/${enc(userId)}`, body });
    },
    async loginAs(userId) {
      const r = await call<LoginResponse>({
        method: 'POST',
        path: `/_synapse/admin/v1/users/${enc(userId)}/login`,
        body: {},
      });
      return r.access_token;
    },
    async deleteRoom(roomId) {
      await call({ method: 'DELETE', path: `/_synapse/admin/v2/rooms/${enc(roomId)}`, body: { purge: true } });
    },
    async makeRoomAdmin(roomId, userId) {
      await call({ method: 'POST', path: `/_synapse/admin/v1/rooms/${enc(roomId)}/make_room_admin`, body: { user_id: userId } });
    },
    ...offboardingCalls(call),
  };
}

/**
 * The Admin API as the configured admin (MATRIX_ADMIN_USER / MATRIX_ADMIN_PASSWORD). lib/config.ts
 * requires the password in admin mode only; elsewhere (appservice mode) this fails naming it.
 */
export function configuredAdmin(matrix: MatrixConfig, deviceId?: string): MatrixAdmin {
  if (matrix.adminPassword === null) {
    throw new Error(
      `the Synapse Admin API needs MATRIX_ADMIN_PASSWORD, which is not set (MATRIX_IDENTITY_MODE=${matrix.identityMode})`,
    );
  }
  return createSynapseAdmin({
    homeserverUrl: matrix.homeserverUrl,
    adminUserId: matrix.adminUserId,
    adminPassword: matrix.adminPassword,
    deviceId,
  });
}
