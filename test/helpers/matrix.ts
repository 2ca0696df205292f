import type pg from 'pg';
import { configuredAdmin, type MatrixAdmin } from '../../adapters/matrix/admin.js';
import { MatrixHttpError } from '../../adapters/matrix/errors.js';
import { authorized, matrixRequest, type RequestAuth } from '../../adapters/matrix/http.js';
import { createUserStore } from '../../adapters/store/users.js';
import type { Config } from '../../lib/config.js';
import { TokenCipher } from '../../lib/token-cipher.js';

/**
 * Independent eyes on the homeserver: what Synapse itself says, not what our database believes.
 * Admin mode only: in the appservice mode's homeserver no admin exists (see accountOnServer).
 */
export function adminFor(config: Config): MatrixAdmin {
  return configuredAdmin(config.matrix, 'TEST_OBSERVER');
}

export async function whoami(config: Config, token: string): Promise<string> {
  const r = await matrixRequest<{ user_id: string }>(config.matrix.homeserverUrl, {
    method: 'GET',
    path: '/_matrix/client/v3/account/whoami',
    token,
  });
  return r.user_id;
}

/** Logs in as the admin (observer device) and returns the raw token, for Admin API checks. */
export async function adminToken(config: Config): Promise<string> {
  const r = await matrixRequest<{ access_token: string }>(config.matrix.homeserverUrl, {
    method: 'POST',
    path: '/_matrix/client/v3/login',
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: config.matrix.adminUserId },
      password: config.matrix.adminPassword,
      device_id: 'TEST_OBSERVER',
    },
  });
  return r.access_token;
}

/** Users on the homeserver whose id starts with `@{localpartPrefix}`, per the Admin API. */
export async function listUsers(config: Config, token: string, localpartPrefix: string): Promise<string[]> {
  const r = await matrixRequest<{ users: { name: string }[] }>(config.matrix.homeserverUrl, {
    method: 'GET',
    path: '/_synapse/admin/v2/users',
    token,
    query: { name: localpartPrefix, limit: '1000', guests: 'false' },
  });
  return r.users.map((u) => u.name).filter((n) => n.startsWith(`@${localpartPrefix}`));
}

/**
 * What the homeserver says about an account, in either identity mode: through the Admin API in
 * admin mode; in appservice mode, where no admin exists, through the appservice itself (the account
 * exists when it can be acted as; its display name as its profile shows it). null: no such account.
 */
export async function accountOnServer(
  config: Config,
  userId: string,
): Promise<{ displayName: string | null; deactivated?: boolean } | null> {
  if (config.matrix.identityMode === 'admin') {
    const u = await adminFor(config).getUser(userId);
    return u && { displayName: u.displayName, deactivated: u.deactivated };
  }
  const asUser = { token: config.matrix.asToken, query: { user_id: userId } };
  try {
    await matrixRequest(config.matrix.homeserverUrl, {
      method: 'GET',
      path: '/_matrix/client/v3/account/whoami',
      ...asUser,
    });
  } catch (err) {
    // 403 "Application service has not registered this user"
    if (err instanceof MatrixHttpError && err.status === 403) return null;
    throw err;
  }
  const profile = await matrixRequest<{ displayname?: string }>(config.matrix.homeserverUrl, {
    method: 'GET',
    path: `/_matrix/client/v3/profile/${encodeURIComponent(userId)}`,
    ...asUser,
  });
  return { displayName: profile.displayname ?? null };
}

/**
 * How a test acts as a provisioned platform user itself (drift made by hand, as their own client
 * would): their stored token in admin mode, the appservice token with the user_id assertion in
 * appservice mode.
 */
export async function asPlatformUser(config: Config, db: pg.Pool, tenant: string, slug: string): Promise<RequestAuth> {
  const store = createUserStore(db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
  const credential = await store.getCredential(tenant, slug);
  if (!credential) throw new Error(`${tenant}/${slug} is not provisioned`);
  if (config.matrix.identityMode === 'appservice') {
    return { token: config.matrix.asToken, query: { user_id: credential.userId } };
  }
  if (!credential.accessToken) throw new Error(`no token stored for ${tenant}/${slug}`);
  return { token: credential.accessToken };
}

/**
 * Joins the room as the user, through the client-server API with their own credentials: `{status:
 * 200}`, or Synapse's refusal (`errcode`, and `error`, the whole message).
 */
export async function joinAs(
  config: Config,
  auth: RequestAuth,
  roomId: string,
): Promise<{ status: number; errcode?: string; error?: string }> {
  try {
    await matrixRequest(config.matrix.homeserverUrl, authorized(auth, { method: 'POST', path: `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, body: {} }));
    return { status: 200 };
  } catch (err) {
    if (err instanceof MatrixHttpError) return { status: err.status, errcode: err.errcode, error: err.message };
    throw err;
  }
}

/** Reads as the service bot (as_token): what the room really looks like on the homeserver. */
export function botView(config: Config) {
  const get = <T>(path: string) =>
    matrixRequest<T>(config.matrix.homeserverUrl, { method: 'GET', path, token: config.matrix.asToken });
  const e = encodeURIComponent;
  return {
    joined: async (roomId: string): Promise<string[]> =>
      Object.keys(
        (await get<{ joined: Record<string, unknown> }>(`/_matrix/client/v3/rooms/${e(roomId)}/joined_members`)).joined,
      ).sort(),
    powerLevels: async (roomId: string): Promise<Record<string, number>> =>
      (
        await get<{ users?: Record<string, number> }>(
          `/_matrix/client/v3/rooms/${e(roomId)}/state/m.room.power_levels/`,
        )
      ).users ?? {},
    joinRule: async (roomId: string): Promise<string> =>
      (await get<{ join_rule: string }>(`/_matrix/client/v3/rooms/${e(roomId)}/state/m.room.join_rules/`)).join_rule,
    /** Every room the bot is in: it is in each room the service made, so a new room shows up here. */
    joinedRooms: async (): Promise<string[]> =>
      (await get<{ joined_rooms: string[] }>('/_matrix/client/v3/joined_rooms')).joined_rooms,
    resolveAlias: async (alias: string): Promise<string | null> =>
      get<{ room_id: string }>(`/_matrix/client/v3/directory/room/${e(alias)}`).then(
        (r) => r.room_id,
        () => null,
      ),
  };
}

/** Rooms the Admin API finds by name, alias or id fragment. */
export async function adminRoomSearch(
  config: Config,
  token: string,
  term: string,
): Promise<{ room_id: string; canonical_alias: string | null }[]> {
  const r = await matrixRequest<{ rooms: { room_id: string; canonical_alias: string | null }[] }>(
    config.matrix.homeserverUrl,
    {
      method: 'GET',
      path: '/_synapse/admin/v1/rooms',
      token,
      query: { search_term: term, limit: '100' },
    },
  );
  return r.rooms;
}

/** Every m.room.message of a room, newest first, read back from the homeserver as the bot. */
export async function roomMessages(
  config: Config,
  roomId: string,
): Promise<{ eventId: string; txnId: string; body: string }[]> {
  const out: { eventId: string; txnId: string; body: string }[] = [];
  let from: string | undefined;
  for (;;) {
    const page = await matrixRequest<{
      chunk: { type: string; event_id: string; content: Record<string, string> }[];
      end?: string;
    }>(config.matrix.homeserverUrl, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`,
      token: config.matrix.asToken,
      query: { dir: 'b', limit: '1000', ...(from ? { from } : {}) },
    });
    for (const e of page.chunk) {
      if (e.type === 'm.room.message')
        out.push({ eventId: e.event_id, txnId: e.content['org.openmeet.txn_id']!, body: e.content.body! });
    }
    if (!page.end || page.chunk.length === 0) return out;
    from = page.end;
  }
}
