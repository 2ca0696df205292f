import type pg from 'pg';
import type { Db } from './db.js';

/**
 * Which managed rooms are end-to-end encrypted (decision 0046): `rooms.encrypted`, set when the
 * service creates an encrypted DM, when it adopts a room whose state says so, and when the
 * appservice intake sees an `m.room.encryption` state event in a room (a Matrix client turned it
 * on). Encryption cannot be turned off in Matrix, so the flag only ever goes from false to true.
 */
export interface RoomEncryption {
  /** Whether the room is known to be encrypted (false for a room the service does not manage). */
  isEncrypted(roomId: string): Promise<boolean>;
}

export function createRoomEncryption(db: Db): RoomEncryption {
  return {
    async isEncrypted(roomId) {
      const r = await db.query<{ encrypted: boolean }>('SELECT encrypted FROM rooms WHERE room_id = $1', [roomId]);
      return r.rows[0]?.encrypted === true;
    },
  };
}

/** The rooms in which `events` turn encryption on (an `m.room.encryption` state event). */
export function encryptionTurnedOn(
  events: readonly { ephemeral: boolean; event: Record<string, unknown> }[],
): string[] {
  const rooms = new Set<string>();
  for (const { ephemeral, event } of events)
    if (!ephemeral && event.type === 'm.room.encryption' && event.state_key === '' && typeof event.room_id === 'string')
      rooms.add(event.room_id);
  return [...rooms];
}

/** Marks the managed rooms among `roomIds` encrypted, inside the caller's transaction. */
export async function markEncrypted(client: Pick<pg.PoolClient, 'query'>, roomIds: readonly string[]): Promise<void> {
  if (roomIds.length === 0) return;
  await client.query('UPDATE rooms SET encrypted = true WHERE room_id = ANY($1) AND NOT encrypted', [[...roomIds]]);
}
