/**
 * "The platform that came before": Matrix accounts with passwords, used through their own clients
 * (plain client-server calls with the token a password login gives), with none of the service's
 * doing. The accounts are made the way a homeserver admin makes them (Admin API); everything after
 * that is what the users themselves do.
 */
import { matrixRequest } from '../../adapters/matrix/http.js';
import type { Config } from '../../lib/config.js';
import { adminToken } from './matrix.js';

const e = encodeURIComponent;

/** One user's own Matrix client: their token, their calls. */
export interface OwnClient {
  userId: string;
  token: string;
  createRoom(body: Record<string, unknown>): Promise<string>;
  invite(roomId: string, userId: string): Promise<void>;
  join(roomIdOrAlias: string): Promise<string>;
  send(roomId: string, txnId: string, body: string): Promise<string>;
  powerLevels(roomId: string): Promise<Record<string, unknown>>;
  setPowerLevels(roomId: string, content: Record<string, unknown>): Promise<void>;
  membership(roomId: string, userId: string): Promise<string | null>;
}

export function ownClient(config: Config, userId: string, token: string): OwnClient {
  const hs = config.matrix.homeserverUrl;
  const call = <T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) =>
    matrixRequest<T>(hs, { method, path: `/_matrix/client/v3${path}`, token, body });
  return {
    userId,
    token,
    createRoom: async (body) => (await call<{ room_id: string }>('POST', '/createRoom', body)).room_id,
    invite: async (roomId, who) => {
      await call('POST', `/rooms/${e(roomId)}/invite`, { user_id: who });
    },
    join: async (room) => (await call<{ room_id: string }>('POST', `/join/${e(room)}`, {})).room_id,
    send: async (roomId, txnId, body) =>
      (
        await call<{ event_id: string }>('PUT', `/rooms/${e(roomId)}/send/m.room.message/${e(txnId)}`, {
          msgtype: 'm.text',
          body,
        })
      ).event_id,
    powerLevels: (roomId) => call<Record<string, unknown>>('GET', `/rooms/${e(roomId)}/state/m.room.power_levels/`),
    setPowerLevels: async (roomId, content) => {
      await call('PUT', `/rooms/${e(roomId)}/state/m.room.power_levels/`, content);
    },
    membership: async (roomId, who) =>
      call<{ membership?: string }>('GET', `/rooms/${e(roomId)}/state/m.room.member/${e(who)}`).then(
        (r) => r.membership ?? null,
        () => null,
      ),
  };
}

/**
 * An account with a password, as a homeserver admin makes it, then logged in with that password
 * the way a user's client logs in: the token is theirs (their own device), not the service's.
 */
export async function accountWithPassword(
  config: Config,
  localpart: string,
  displayName: string,
): Promise<OwnClient & { password: string }> {
  const hs = config.matrix.homeserverUrl;
  const userId = `@${localpart}:${config.matrix.serverName}`;
  const password = `pw-${localpart}-${Math.random().toString(36).slice(2)}`;
  await matrixRequest(hs, {
    method: 'PUT',
    path: `/_synapse/admin/v2/users/${e(userId)}`,
    token: await adminToken(config),
    body: { password, displayname: displayName },
  });
  const login = await matrixRequest<{ access_token: string; user_id: string }>(hs, {
    method: 'POST',
    path: '/_matrix/client/v3/login',
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: localpart }, password },
  });
  return { ...ownClient(config, login.user_id, login.access_token), password };
}

/** A room's state event content as the service bot reads it (null: none). */
export async function stateAsBot(
  config: Config,
  roomId: string,
  type: string,
  key = '',
): Promise<Record<string, unknown> | null> {
  return matrixRequest<Record<string, unknown>>(config.matrix.homeserverUrl, {
    method: 'GET',
    path: `/_matrix/client/v3/rooms/${e(roomId)}/state/${type}/${e(key)}`,
    token: config.matrix.asToken,
  }).catch(() => null);
}

/** Every membership of the room, as the bot reads it: user id → membership. */
export async function membershipsAsBot(config: Config, roomId: string): Promise<Record<string, string>> {
  const r = await matrixRequest<{ chunk: { state_key: string; content: { membership: string } }[] }>(
    config.matrix.homeserverUrl,
    { method: 'GET', path: `/_matrix/client/v3/rooms/${e(roomId)}/members`, token: config.matrix.asToken },
  );
  return Object.fromEntries(r.chunk.map((ev) => [ev.state_key, ev.content.membership]));
}
