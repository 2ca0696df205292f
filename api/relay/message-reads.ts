/**
 * The homeserver's own view of messages, read with the appservice token (as the user where the
 * appservice may assert them, else as its bot): one event, the power levels, and relations
 * (edits, reactions). Nothing here changes a room.
 */
import { MatrixHttpError } from '../../adapters/matrix/errors.js';
import { enc, matrixRequest } from '../../adapters/matrix/http.js';
import type { Config } from '../../lib/config.js';
import { inNamespace } from '../../vocabulary/identity.js';

export type MatrixEvent = Record<string, unknown> & {
  type?: string;
  sender?: string;
  event_id?: string;
  content?: Record<string, unknown>;
  unsigned?: Record<string, unknown>;
};

export interface PowerLevels {
  users?: Record<string, number>;
  users_default?: number;
  events?: Record<string, number>;
  events_default?: number;
  redact?: number;
}

/** At most this many relations of one event are read (pages of 100); past it counts stop growing. */
export const MAX_RELATIONS = 2_000;

export interface MessageReads {
  /** The event as `userId` may see it; null when the homeserver has none (or will not show it). */
  event(roomId: string, eventId: string, userId: string): Promise<MatrixEvent | null>;
  powerLevels(roomId: string): Promise<PowerLevels>;
  /** Events relating to `eventId` by `relType` (and of `eventType`), as `userId` sees them, oldest pages last. */
  relations(roomId: string, eventId: string, userId: string, relType: string, eventType?: string): Promise<MatrixEvent[]>;
}

export function createMessageReads(config: Pick<Config, 'matrix'>): MessageReads {
  const { homeserverUrl: hs, asToken: token, serverName, userPrefix } = config.matrix;
  const as = (userId: string): Record<string, string> =>
    inNamespace({ serverName, userPrefix }, userId) ? { user_id: userId } : {};
  return {
    async event(roomId, eventId, userId) {
      try {
        return await matrixRequest<MatrixEvent>(hs, {
          method: 'GET',
          path: `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(eventId)}`,
          token,
          query: as(userId),
        });
      } catch (err) {
        if (err instanceof MatrixHttpError && err.status === 404) return null;
        throw err;
      }
    },
    async powerLevels(roomId) {
      return matrixRequest<PowerLevels>(hs, {
        method: 'GET',
        path: `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.power_levels/`,
        token,
      });
    },
    async relations(roomId, eventId, userId, relType, eventType) {
      const out: MatrixEvent[] = [];
      let from: string | undefined;
      const path = `/_matrix/client/v1/rooms/${enc(roomId)}/relations/${enc(eventId)}/${enc(relType)}${eventType ? `/${enc(eventType)}` : ''}`;
      do {
        const r = await matrixRequest<{ chunk?: MatrixEvent[]; next_batch?: string }>(hs, {
          method: 'GET',
          path,
          token,
          query: { ...as(userId), limit: '100', ...(from ? { from } : {}) },
        });
        out.push(...(r.chunk ?? []));
        from = r.next_batch;
      } while (from && out.length < MAX_RELATIONS);
      return out;
    },
  };
}
