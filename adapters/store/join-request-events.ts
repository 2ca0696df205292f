/**
 * What a room's membership event means for its join requests (decision 0055). Pure: the event
 * log's writer (join-requests.ts) calls it inside the transaction that stores the events.
 */
import { JOIN_REQUEST_REASON_MAX } from '../../vocabulary/join-requests.js';

/** A timeline event as the appservice pushed it. */
export interface RequestSourceEvent {
  room_id: string;
  type: string;
  event_id?: unknown;
  sender?: unknown;
  state_key?: unknown;
  content?: unknown;
}

/**
 * A knock (a new request, replacing any earlier one of the user's in that room), or what became
 * of a pending request on the Matrix side: the user gave up (`withdrawn`: left by themselves), or
 * someone other than the service decided from a Matrix client (an invite or a join answers a
 * knock: `approved`; a kick or a ban rejects it: `refused`).
 */
export type RequestTransition =
  | { kind: 'knock'; roomId: string; userId: string; eventId: string; reason: string | null }
  | { kind: 'settle'; roomId: string; userId: string; state: 'approved' | 'refused' | 'withdrawn'; by: string; reason: string | null };

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * The transition a timeline event makes, or null. The service's own bot is skipped: its invites and
 * kicks carry out decisions already recorded when the room workflow claimed them.
 */
export function requestTransition(e: RequestSourceEvent, serviceUserId: string | undefined): RequestTransition | null {
  if (e.type !== 'm.room.member') return null;
  const eventId = str(e.event_id);
  const sender = str(e.sender);
  const userId = str(e.state_key);
  if (!eventId || !sender || !userId || sender === serviceUserId) return null;
  const content = e.content !== null && typeof e.content === 'object' ? (e.content as Record<string, unknown>) : {};
  const membership = str(content.membership);
  const reason = str(content.reason)?.slice(0, JOIN_REQUEST_REASON_MAX) ?? null;
  const roomId = e.room_id;
  if (membership === 'knock') return sender === userId ? { kind: 'knock', roomId, userId, eventId, reason } : null;
  if (membership === 'leave' && sender === userId) return { kind: 'settle', roomId, userId, state: 'withdrawn', by: sender, reason };
  if (membership === 'leave' || membership === 'ban') return { kind: 'settle', roomId, userId, state: 'refused', by: sender, reason };
  if (membership === 'invite' || membership === 'join') return { kind: 'settle', roomId, userId, state: 'approved', by: sender, reason: null };
  return null;
}
