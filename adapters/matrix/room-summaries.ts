/**
 * A user's rooms as the homeserver counts them for that user (decision 0045): one filtered `/sync`
 * as the user (their token, or the appservice's assertion) with no `since` — the last message of
 * each room and Synapse's own `unread_notifications` — and nothing else (no state, presence,
 * account data, receipts or typing).
 */
import type { UserRef } from '../../vocabulary/contract.js';
import type { Identity } from '../identity/types.js';
import { authorized, matrixRequest } from './http.js';
import { COUNTED_TYPES, countUnread, readReceiptsOf, UNREAD_CAP } from './unread-count.js';

/** The message events a room list shows as the last message, and counts as unread. */
const MESSAGE_TYPES = ['m.room.message', 'm.room.encrypted'];

/** The last message of a room, as a list shows it: an encrypted one is marked and has no body. */
export interface LastMessage {
  eventId: string;
  sender: string;
  /** `origin_server_ts`, milliseconds since the epoch. */
  ts: number;
  encrypted: boolean;
  msgtype?: string;
  body?: string;
}

export interface RoomSummary {
  /**
   * Synapse's `unread_notifications.notification_count` for the user: unread messages that notify.
   * Where Synapse counts nothing (the appservice identity mode), counted from the same sync
   * (adapters/matrix/unread-count.ts).
   */
  unread: number;
  /** `unread_notifications.highlight_count`: of those, the ones that mention the user. */
  highlights: number;
  /** Counted by us and more unread than the window holds: `unread` is a floor (always false in admin mode). */
  unreadCapped: boolean;
  lastMessage: LastMessage | null;
}

interface SyncRoom {
  timeline?: { events?: Record<string, unknown>[]; limited?: boolean };
  ephemeral?: { events?: Record<string, unknown>[] };
  unread_notifications?: { notification_count?: number; highlight_count?: number };
}

const BODY_LIMIT = 500;

export function lastMessageOf(event: Record<string, unknown> | undefined): LastMessage | null {
  if (!event || typeof event.event_id !== 'string' || typeof event.sender !== 'string') return null;
  const ts = typeof event.origin_server_ts === 'number' ? event.origin_server_ts : 0;
  const base = { eventId: event.event_id, sender: event.sender, ts };
  if (event.type !== 'm.room.message') return { ...base, encrypted: true };
  const content = (event.content ?? {}) as Record<string, unknown>;
  return {
    ...base,
    encrypted: false,
    ...(typeof content.msgtype === 'string' ? { msgtype: content.msgtype } : {}),
    // A preview, not the message: bounded, whatever another Matrix client sent.
    ...(typeof content.body === 'string' ? { body: content.body.slice(0, BODY_LIMIT) } : {}),
  };
}

/**
 * The filter of the sync: the last message of each room (of `rooms` only, when given), nothing
 * else; `counting` (no server count): the last UNREAD_CAP messages and the read receipts too.
 */
export function summaryFilter(rooms?: readonly string[], counting = false): Record<string, unknown> {
  const none = { types: [] as string[] };
  const timeline = counting ? { limit: UNREAD_CAP, types: COUNTED_TYPES } : { limit: 1, types: MESSAGE_TYPES };
  return {
    presence: none,
    account_data: none,
    room: {
      ...(rooms ? { rooms: [...rooms] } : {}),
      timeline: { ...timeline, lazy_load_members: true },
      state: { ...none, lazy_load_members: true },
      ephemeral: counting ? { types: ['m.receipt'] } : none,
      account_data: none,
    },
  };
}

// Synapse keeps a /sync answer for `sync_response_cache_duration` (2 min by default) under a key
// that includes `timeout`; an initial sync (no `since`) returns at once whatever the timeout. A
// fresh timeout per call keeps each answer fresh without changing what it waits for.
let nonce = 0;
const freshTimeout = (): string => String(1 + ((Date.now() + nonce++) % 1_000_000_000));

/** Summaries of the rooms the user is joined to (only `rooms`, when given), as Synapse counts for them. */
export async function roomSummariesAs(
  identity: Identity,
  homeserverUrl: string,
  /** `userId`: their Matrix id, whose receipts and own messages the count looks for. */
  user: UserRef & { userId: string },
  opts: { rooms?: readonly string[]; timeoutMs?: number } = {},
): Promise<Map<string, RoomSummary>> {
  // Synapse computes no push actions for an appservice's exclusive namespace, which the appservice
  // mode needs: there every notification_count is 0, so the count is ours, from the same sync.
  const counting = identity.mode === 'appservice';
  const r = await identity.actAs(user, (as) =>
    matrixRequest<{ rooms?: { join?: Record<string, SyncRoom> } }>(
      homeserverUrl,
      authorized(as, {
        method: 'GET',
        path: '/_matrix/client/v3/sync',
        query: {
          filter: JSON.stringify(summaryFilter(opts.rooms, counting)),
          timeout: freshTimeout(),
          set_presence: 'offline',
        },
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      }),
    ),
  );
  const out = new Map<string, RoomSummary>();
  for (const [roomId, room] of Object.entries(r.rooms?.join ?? {})) {
    out.set(roomId, counting ? counted(room, user.userId) : served(room));
  }
  return out;
}

function served(room: SyncRoom): RoomSummary {
  const events = room.timeline?.events ?? [];
  return {
    unread: room.unread_notifications?.notification_count ?? 0,
    highlights: room.unread_notifications?.highlight_count ?? 0,
    unreadCapped: false,
    lastMessage: lastMessageOf(events[events.length - 1]),
  };
}

function counted(room: SyncRoom, userId: string): RoomSummary {
  const events = room.timeline?.events ?? [];
  const receipts = readReceiptsOf(room.ephemeral?.events ?? [], userId);
  const c = countUnread(events, receipts, userId, room.timeline?.limited === true);
  // The last message as in admin mode: of the message types only (a sticker is not one).
  const last = events.findLast((e) => MESSAGE_TYPES.includes(e.type as string));
  return { unread: c.unread, highlights: c.highlights, unreadCapped: c.capped, lastMessage: lastMessageOf(last) };
}
