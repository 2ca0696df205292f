/**
 * The bot's calls for taking over a room that exists (adoption): joining it, and what its creation
 * and state say about who outranks whom (its aliases: ./aliases.ts).
 */
import { Method, type MatrixClient } from 'matrix-js-sdk';

export interface RoomCreation {
  roomVersion: string;
  /**
   * Users who outrank every power level and are never listed in `m.room.power_levels` (room
   * version 12 and later: the creator and `additional_creators`); empty in older room versions.
   */
  creators: string[];
}

export interface AdoptionCalls {
  /** The bot joins the room (already joined: fine). */
  join(roomId: string): Promise<void>;
  creation(roomId: string): Promise<RoomCreation>;
  /** `public`, `invite`, `knock`, … ; null when the room has no join rules. */
  joinRule(roomId: string): Promise<string | null>;
  isEncrypted(roomId: string): Promise<boolean>;
}

const status = (err: unknown): unknown => (err as { httpStatus?: unknown }).httpStatus;

async function state<T>(client: MatrixClient, roomId: string, type: string): Promise<T | null> {
  try {
    return (await client.getStateEvent(roomId, type, '')) as T;
  } catch (err) {
    if (status(err) === 404) return null;
    throw err;
  }
}

/** Whether creators outrank every power level in this room version (MSC4289: 12 and later). */
export function creatorsOutrank(roomVersion: string): boolean {
  return roomVersion === 'org.matrix.hydra.11' || (/^\d+$/.test(roomVersion) && Number(roomVersion) >= 12);
}

export function adoptionCalls(client: MatrixClient): AdoptionCalls {
  return {
    async join(roomId) {
      // A plain request: the SDK's joinRoom expects a syncing client.
      await client.http.authedRequest(Method.Post, `/join/${encodeURIComponent(roomId)}`, undefined, {});
    },
    async creation(roomId) {
      // The whole event: in room version 12 the creator is its sender, not a field of its content.
      const create = await client.http.authedRequest<{ sender?: string; content?: Record<string, unknown> }>(
        Method.Get,
        `/rooms/${encodeURIComponent(roomId)}/state/m.room.create/`,
        { format: 'event' },
      );
      const content = (create.content ?? {}) as { room_version?: string; additional_creators?: unknown };
      const roomVersion = content.room_version ?? '1';
      const extra = Array.isArray(content.additional_creators)
        ? content.additional_creators.filter((c): c is string => typeof c === 'string')
        : [];
      const creators = creatorsOutrank(roomVersion) && create.sender ? [create.sender, ...extra] : [];
      return { roomVersion, creators };
    },
    joinRule: async (roomId) =>
      (await state<{ join_rule?: string }>(client, roomId, 'm.room.join_rules'))?.join_rule ?? null,
    isEncrypted: async (roomId) => (await state(client, roomId, 'm.room.encryption')) !== null,
  };
}
