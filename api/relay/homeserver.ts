/**
 * The few homeserver calls the API makes itself, all with the appservice token: reads (history,
 * membership) and the appservice ping. Nothing here changes a room; every change goes through a
 * workflow, as the user (docs/architecture.md).
 */
import { MatrixHttpError } from '../../adapters/matrix/errors.js';
import { enc, matrixRequest } from '../../adapters/matrix/http.js';
import type { Config } from '../../lib/config.js';
import { inNamespace } from '../../vocabulary/identity.js';

export interface HistoryPage {
  events: Record<string, unknown>[];
  /** Pass as `before` for the next (older) page; null at the start of the room. */
  next: string | null;
}

export interface RelayHomeserver {
  /**
   * Rooms the user is joined to, as the homeserver says now. An account outside the appservice's
   * namespace (adopted) cannot be asked as itself: then those of `among()` it is joined to, read by the bot.
   */
  joinedRooms(userId: string, among?: () => Promise<readonly string[]>): Promise<string[]>;
  /** The user's membership in the room, read by the bot (null: none). */
  membership(roomId: string, userId: string): Promise<string | null>;
  /** Every membership in the room, read by the bot: user id → membership. */
  memberships(roomId: string): Promise<Record<string, string>>;
  /** Timeline events, newest first, as the user sees them (the homeserver applies history visibility). */
  history(roomId: string, userId: string, opts: { before?: string; limit: number }): Promise<HistoryPage>;
  /** Asks the homeserver to ping us; on success it retries at once what it queued while we were down. */
  requestPing(): Promise<void>;
}

export function createRelayHomeserver(config: Pick<Config, 'matrix'>): RelayHomeserver {
  const historyVisibility = async (roomId: string): Promise<string> => {
    const r = await matrixRequest<{ history_visibility?: string }>(config.matrix.homeserverUrl, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.history_visibility/`,
      token: config.matrix.asToken,
    }).catch(() => ({ history_visibility: 'joined' }));
    return r.history_visibility ?? 'shared';
  };
  const { homeserverUrl: hs, asToken: token, appserviceId, serverName, userPrefix } = config.matrix;
  /** Whether the appservice may act as the id (`?user_id=`): inside its user namespace. */
  const asserts = (userId: string): boolean => inNamespace({ serverName, userPrefix }, userId);
  const membership = async (roomId: string, userId: string): Promise<string | null> => {
    try {
      const r = await matrixRequest<{ membership?: string }>(hs, {
        method: 'GET',
        path: `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`,
        token,
      });
      return r.membership ?? null;
    } catch (err) {
      if (err instanceof MatrixHttpError && err.status === 404) return null;
      throw err;
    }
  };
  return {
    async joinedRooms(userId, among) {
      if (!asserts(userId)) {
        const rooms = among ? await among() : [];
        const joined = await Promise.all(rooms.map(async (r) => ((await membership(r, userId)) === 'join' ? r : null)));
        return joined.filter((r): r is string => r !== null);
      }
      const r = await matrixRequest<{ joined_rooms?: string[] }>(hs, {
        method: 'GET',
        path: '/_matrix/client/v3/joined_rooms',
        token,
        query: { user_id: userId },
        // Asked on every connect: a slow homeserver must not hold sockets up for long.
        timeoutMs: 3_000,
      });
      return r.joined_rooms ?? [];
    },
    membership,
    async memberships(roomId) {
      const r = await matrixRequest<{ chunk?: { state_key?: string; content?: { membership?: string } }[] }>(hs, {
        method: 'GET',
        path: `/_matrix/client/v3/rooms/${enc(roomId)}/members`,
        token,
      });
      const out: Record<string, string> = {};
      for (const ev of r.chunk ?? [])
        if (ev.state_key && ev.content?.membership) out[ev.state_key] = ev.content.membership;
      return out;
    },
    async history(roomId, userId, opts) {
      // As the user where the appservice may (their history visibility applies); an adopted account
      // outside its namespace only where every member sees the whole history, read by the bot.
      const query: Record<string, string> = { dir: 'b', limit: String(opts.limit) };
      if (asserts(userId)) query.user_id = userId;
      else if (!['shared', 'world_readable'].includes(await historyVisibility(roomId))) {
        throw new MatrixHttpError(
          403,
          'M_FORBIDDEN',
          'history not readable for this user',
          undefined,
          'GET',
          'messages',
        );
      }
      if (opts.before) query.from = opts.before;
      const r = await matrixRequest<{ chunk?: Record<string, unknown>[]; end?: string }>(hs, {
        method: 'GET',
        path: `/_matrix/client/v3/rooms/${enc(roomId)}/messages`,
        token,
        query,
      });
      return { events: r.chunk ?? [], next: r.end ?? null };
    },
    async requestPing() {
      await matrixRequest(hs, {
        method: 'POST',
        path: `/_matrix/client/v1/appservice/${enc(appserviceId)}/ping`,
        token,
        body: {},
      });
    },
  };
}
