/**
 * The bot's calls on a room's aliases beyond the one it was created with: a renamed entity's new
 * alias in the directory and the room's `m.room.canonical_alias` (decision 0031). Plain requests
 * with the as_token, which act as the appservice's sender.
 */
import { enc, matrixRequest } from './http.js';
import { MatrixHttpError } from './errors.js';

/** The content of `m.room.canonical_alias`: the canonical alias and the alternatives. */
export interface CanonicalAlias {
  alias?: string;
  alt_aliases?: string[];
}

export interface MatrixAliases {
  /** Puts the alias in the directory, pointing at the room (fails if it exists). */
  putAlias(alias: string, roomId: string): Promise<void>;
  /** The room's canonical alias event content, or null when it has none. */
  canonicalAlias(roomId: string): Promise<CanonicalAlias | null>;
  /** Replaces it; the homeserver checks that every alias it newly names points at the room. */
  setCanonicalAlias(roomId: string, content: CanonicalAlias): Promise<void>;
}

export function createMatrixAliases(opts: { homeserverUrl: string; asToken: string }): MatrixAliases {
  const call = <T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T> =>
    matrixRequest<T>(opts.homeserverUrl, { method, path, token: opts.asToken, body });
  const state = (roomId: string): string => `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.canonical_alias`;
  return {
    async putAlias(alias, roomId) {
      await call('PUT', `/_matrix/client/v3/directory/room/${enc(alias)}`, { room_id: roomId });
    },
    async canonicalAlias(roomId) {
      try {
        return await call<CanonicalAlias>('GET', state(roomId));
      } catch (err) {
        if (err instanceof MatrixHttpError && err.status === 404) return null;
        throw err;
      }
    },
    async setCanonicalAlias(roomId, content) {
      await call('PUT', state(roomId), content);
    },
  };
}
