/**
 * Which Matrix events become webhook deliveries (decision 0049), and their payloads. Pure: the
 * event log's writer (webhook-outbox.ts) calls it inside the transaction that stores the events.
 */
import { createHash } from 'node:crypto';
import { WEBHOOK_BODY_MAX_CHARS, WEBHOOK_PAYLOAD_MAX_BYTES, type WebhookEventType } from '../../vocabulary/webhooks.js';

/** A Matrix event as the appservice pushed it (timeline events only). */
export interface WebhookSourceEvent {
  room_id: string;
  type: string;
  event_id?: unknown;
  sender?: unknown;
  state_key?: unknown;
  origin_server_ts?: unknown;
  content?: unknown;
}

/** What one event means for the platform, before its room and users are named. */
export interface WebhookCandidate {
  type: WebhookEventType;
  eventId: string;
  roomId: string;
  /** Matrix ids the payload names; the writer adds each one's platform slug. */
  users: Record<string, string>;
  data: Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const cut = (s: string | null, max: number): string | null => (s === null ? null : s.slice(0, max));

/** A delivery's stable id: the same event of the same type always gets the same one. */
export const webhookDeliveryId = (type: string, source: string): string =>
  `wh_${createHash('sha256').update(`${type}\n${source}`).digest('hex').slice(0, 40)}`;

function message(e: WebhookSourceEvent, eventId: string, sender: string): WebhookCandidate {
  const content = obj(e.content);
  const encrypted = e.type === 'm.room.encrypted';
  const body = encrypted ? null : str(content.body);
  return {
    type: 'message.posted',
    eventId,
    roomId: e.room_id,
    users: { sender },
    data: {
      eventId,
      encrypted,
      msgtype: encrypted ? null : cut(str(content.msgtype), 255),
      body: cut(body, WEBHOOK_BODY_MAX_CHARS),
      truncated: body !== null && body.length > WEBHOOK_BODY_MAX_CHARS,
      originServerTs: typeof e.origin_server_ts === 'number' ? e.origin_server_ts : null,
    },
  };
}

function membership(e: WebhookSourceEvent, eventId: string, sender: string): WebhookCandidate | null {
  const user = str(e.state_key);
  const content = obj(e.content);
  const m = str(content.membership);
  if (!user) return null;
  const reason = cut(str(content.reason), 500);
  if (m === 'knock') return { type: 'member.knocked', eventId, roomId: e.room_id, users: { user }, data: { eventId, reason } };
  if (m !== 'leave' && m !== 'ban') return null;
  return {
    type: 'member.left',
    eventId,
    roomId: e.room_id,
    users: { user, by: sender },
    data: { eventId, kicked: sender !== user, banned: m === 'ban', reason },
  };
}

/**
 * The platform's meaning of a timeline event, or null: a message posted (`m.room.message`, or an
 * encrypted one, without its text) by anyone but the service's bot; a member who left, was kicked
 * or banned by anyone but the bot (the service's own removals are the platform's doing); a knock.
 */
export function webhookCandidate(e: WebhookSourceEvent, serviceUserId: string | undefined): WebhookCandidate | null {
  const eventId = str(e.event_id);
  const sender = str(e.sender);
  if (!eventId || !sender || sender === serviceUserId) return null;
  if (e.type === 'm.room.message' || e.type === 'm.room.encrypted') return message(e, eventId, sender);
  if (e.type === 'm.room.member') return membership(e, eventId, sender);
  return null;
}

/**
 * The payload within WEBHOOK_PAYLOAD_MAX_BYTES as sent (JSON escapes can make a cut text several
 * times its length): over it, the free texts (`body`, `reason`) are left out and `truncated` says so.
 */
export function boundedPayload(payload: Record<string, unknown>): Record<string, unknown> {
  if (Buffer.byteLength(JSON.stringify(payload)) <= WEBHOOK_PAYLOAD_MAX_BYTES) return payload;
  return { ...payload, ...('body' in payload ? { body: null } : {}), ...('reason' in payload ? { reason: null } : {}), truncated: true };
}
