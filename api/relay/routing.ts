import type { LogRow } from '../../adapters/store/events.js';

/** Who a socket belongs to, and the rooms that user is joined to at the socket's position in the log. */
export interface Audience {
  userId: string;
  tenant: string;
  joined: Set<string>;
}

const membershipOf = (row: LogRow): string | null => {
  const m = (row.event.content as { membership?: unknown } | undefined)?.membership;
  return typeof m === 'string' ? m : null;
};

/**
 * Applies one log row, in order, to the audience and says whether the socket gets it. A change of
 * the user's own membership takes effect at once: from a join on they see the room, from a leave
 * or kick on they do not (the leave itself is delivered, so the client learns it). Only rooms the
 * tenant owns are ever delivered. Typing is a moment, not history: it is not replayed on resume.
 */
export function route(audience: Audience, row: LogRow, replaying: boolean): boolean {
  const ours = row.tenant === audience.tenant;
  if (!row.ephemeral && row.type === 'm.room.member' && row.stateKey === audience.userId) {
    const membership = membershipOf(row);
    if (membership === 'join') audience.joined.add(row.roomId);
    else audience.joined.delete(row.roomId);
    return ours;
  }
  if (replaying && row.type === 'm.typing') return false;
  return ours && audience.joined.has(row.roomId);
}
