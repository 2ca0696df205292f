/**
 * Unread counts a client counts itself, from the homeserver's data for the user (decision 0045,
 * "Appservice mode"): where Synapse computes no count (users of an appservice's exclusive
 * namespace), a room's `unread` is the messages of its timeline window after the user's read
 * receipt, as Element counts them — pure, no state, no request.
 */

/** The events a window holds for counting: what can be unread, and what shows as the last message. */
export const COUNTED_TYPES = ['m.room.message', 'm.room.encrypted', 'm.sticker'];
/** The timeline window of a counting sync: at most this many unread per room (`unreadCapped` beyond). */
export const UNREAD_CAP = 50;

export interface CountedUnread {
  unread: number;
  /** Of those, the ones whose `m.mentions.user_ids` names the user (an encrypted one cannot say). */
  highlights: number;
  /** The read point lies before the window: at least `unread` messages are unread. */
  capped: boolean;
}

type Ev = Record<string, unknown>;
const obj = (v: unknown): Ev => (v && typeof v === 'object' ? (v as Ev) : {});

/**
 * The user's read receipts in a room's `m.receipt` events (public and private, on the main
 * timeline: unthreaded or `thread_id: "main"`): event id → the receipt's `ts`.
 */
export function readReceiptsOf(ephemeral: readonly Ev[], userId: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of ephemeral) {
    if (e.type !== 'm.receipt') continue;
    for (const [eventId, byType] of Object.entries(obj(e.content)))
      for (const [type, users] of Object.entries(obj(byType))) {
        if (type !== 'm.read' && type !== 'm.read.private') continue;
        if (!(userId in obj(users))) continue;
        const r = obj(obj(users)[userId]);
        if (r.thread_id !== undefined && r.thread_id !== 'main') continue;
        out.set(eventId, typeof r.ts === 'number' ? r.ts : 0);
      }
  }
  return out;
}

/**
 * Whether an event counts as unread for the user, as Element and the default push rules decide:
 * a message, sticker or encrypted event from someone else, not redacted, not an edit
 * (`m.replace`: the edited message counted already), not a notice (`m.notice`: bots).
 */
export function countsAsUnread(e: Ev, userId: string): boolean {
  if (!COUNTED_TYPES.includes(e.type as string) || e.sender === userId) return false;
  if (obj(e.unsigned).redacted_because !== undefined) return false;
  const content = obj(e.content);
  if (obj(content['m.relates_to']).rel_type === 'm.replace') return false;
  return !(e.type === 'm.room.message' && content.msgtype === 'm.notice');
}

const mentions = (e: Ev, userId: string): boolean => {
  const ids = obj(obj(e.content)['m.mentions']).user_ids;
  return Array.isArray(ids) && ids.includes(userId);
};

/**
 * The unread messages of a timeline window (oldest first, as `/sync` gives it) for `userId`: those
 * after their read point, the latest event of the window their receipt points at. Their own
 * messages are not counted and do not read the room (Synapse's count in admin mode does not
 * either: only a receipt does). A receipt at an event outside the window: the messages sent after
 * the receipt's time. No receipt at all: every message in the window. `limited`: the homeserver
 * has events before the window; with no read point inside it, the count is a floor (`capped`).
 */
export function countUnread(
  events: readonly Ev[],
  receipts: ReadonlyMap<string, number>,
  userId: string,
  limited: boolean,
): CountedUnread {
  let from = -1;
  events.forEach((e, i) => {
    if (receipts.has(e.event_id as string)) from = i;
  });
  let after = events.slice(from + 1);
  let capped = false;
  if (from < 0 && receipts.size > 0) {
    // The receipt's event is older than the window (or not a message): what came after its time.
    const readAt = Math.max(...receipts.values());
    after = events.filter((e) => typeof e.origin_server_ts === 'number' && e.origin_server_ts > readAt);
    capped = limited && after.length === events.length;
  } else if (from < 0) capped = limited;
  const unread = after.filter((e) => countsAsUnread(e, userId));
  return { unread: unread.length, highlights: unread.filter((e) => mentions(e, userId)).length, capped };
}
