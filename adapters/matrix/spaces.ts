/**
 * The bot's calls for group spaces and group bans (decision 0051): creating a space, the
 * `m.space.child` / `m.space.parent` links, join rules, bans. Plain requests with the as_token,
 * which act as the appservice's sender.
 */
import { enc, matrixRequest } from './http.js';
import { MatrixHttpError } from './errors.js';

/** One state event of a room: its key and content (an empty content is a removed link). */
export interface StateEntry {
  stateKey: string;
  content: Record<string, unknown>;
}

export interface MatrixSpaces {
  /** A new space (`creation_content.type = m.space`) with the alias, private, only the bot above 0. */
  createSpace(opts: { aliasLocalpart: string; name: string }): Promise<string>;
  /** The room's state events of `type` (every state key), including emptied ones. */
  stateOf(roomId: string, type: string): Promise<StateEntry[]>;
  /** One state event's content, or null when there is none. */
  state(roomId: string, type: string, stateKey?: string): Promise<Record<string, unknown> | null>;
  setState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<void>;
  ban(roomId: string, userId: string, reason: string): Promise<void>;
  unban(roomId: string, userId: string): Promise<void>;
}

export function createMatrixSpaces(opts: { homeserverUrl: string; asToken: string }): MatrixSpaces {
  const call = <T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> =>
    matrixRequest<T>(opts.homeserverUrl, { method, path, token: opts.asToken, body });
  const room = (roomId: string): string => `/_matrix/client/v3/rooms/${enc(roomId)}`;
  return {
    async createSpace({ aliasLocalpart, name }) {
      const res = await call<{ room_id: string }>('POST', '/_matrix/client/v3/createRoom', {
        room_alias_name: aliasLocalpart,
        name,
        preset: 'private_chat',
        visibility: 'private',
        creation_content: { type: 'm.space' },
        initial_state: [
          { type: 'm.room.guest_access', state_key: '', content: { guest_access: 'forbidden' } },
          { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } },
        ],
        // A space holds no conversation: only its administrators post (its children, its name).
        power_level_content_override: { events_default: 100 },
      });
      return res.room_id;
    },
    async stateOf(roomId, type) {
      const all = await call<{ type: string; state_key: string; content: Record<string, unknown> }[]>(
        'GET',
        `${room(roomId)}/state`,
      );
      return all.filter((e) => e.type === type).map((e) => ({ stateKey: e.state_key, content: e.content ?? {} }));
    },
    async state(roomId, type, stateKey = '') {
      try {
        return await call<Record<string, unknown>>('GET', `${room(roomId)}/state/${enc(type)}/${enc(stateKey)}`);
      } catch (err) {
        if (err instanceof MatrixHttpError && err.status === 404) return null;
        throw err;
      }
    },
    async setState(roomId, type, stateKey, content) {
      await call('PUT', `${room(roomId)}/state/${enc(type)}/${enc(stateKey)}`, content);
    },
    async ban(roomId, userId, reason) {
      await call('POST', `${room(roomId)}/ban`, { user_id: userId, reason });
    },
    async unban(roomId, userId) {
      await call('POST', `${room(roomId)}/unban`, { user_id: userId });
    },
  };
}
