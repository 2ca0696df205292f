/**
 * History as a browser shows it (decision 0044), from the homeserver's own relations: each message
 * at its latest version (Synapse bundles the latest `m.replace` in `unsigned.m.relations`; the
 * original's event id stays), deleted ones marked with the deletion's reason, reaction counts per
 * key read from the relations API, every HTML body sanitized (lib/rich-text.ts). The edits,
 * reactions and redactions themselves are folded into what they change, not listed.
 */
import { safeEvent, safeMessageContent } from '../../lib/rich-text.js';
import type { MatrixEvent, MessageReads } from './message-reads.js';

/** Relations read at once for one page (one request per message on the page). */
const READS_AT_ONCE = 8;

export interface Reaction {
  key: string;
  count: number;
  /** The reading user reacted with this key. */
  mine: boolean;
  /** The reactions' own event ids: a live deletion of one of them (`change.deleted`) lowers the count. */
  eventIds: string[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

/** An edit, a reaction or a redaction: shown through the event it changes. */
function isFolded(e: MatrixEvent): boolean {
  if (e.type === 'm.reaction' || e.type === 'm.room.redaction') return true;
  return obj(e.content?.['m.relates_to'])?.rel_type === 'm.replace';
}

/** Counts per key, most first (then by key), from the annotation events the homeserver holds. */
export function reactionCounts(annotations: MatrixEvent[], userId: string): Reaction[] {
  const byKey = new Map<string, { senders: Set<string>; ids: string[] }>();
  for (const a of annotations) {
    const key = obj(a.content?.['m.relates_to'])?.key;
    if (typeof key !== 'string' || typeof a.sender !== 'string') continue;
    const entry = byKey.get(key) ?? { senders: new Set<string>(), ids: [] };
    entry.senders.add(a.sender);
    if (typeof a.event_id === 'string') entry.ids.push(a.event_id);
    byKey.set(key, entry);
  }
  return [...byKey.entries()]
    .map(([key, { senders, ids }]) => ({ key, count: senders.size, mine: senders.has(userId), eventIds: ids }))
    .sort((x, y) => y.count - x.count || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/** One event as shown (without its reactions): latest version, or marked deleted. */
export function shownEvent(event: MatrixEvent): MatrixEvent {
  const unsigned = obj(event.unsigned) ?? {};
  const redactedBy = obj(unsigned.redacted_because);
  if (redactedBy) {
    const reason = obj(redactedBy.content)?.reason;
    return { ...event, deleted: true, deletedReason: typeof reason === 'string' ? reason : null, deletedBy: redactedBy.sender };
  }
  const safe = safeEvent(event);
  const replace = obj(obj(unsigned['m.relations'])?.['m.replace']);
  const newContent = obj(obj(replace?.content)?.['m.new_content']);
  // Only the sender's own edits count (the spec: a replacement by anyone else is ignored).
  if (!replace || !newContent || replace.sender !== event.sender || event.type !== 'm.room.message') return safe;
  const relates = safe.content?.['m.relates_to'];
  return {
    ...safe,
    content: { ...safeMessageContent(newContent, false), ...(relates === undefined ? {} : { 'm.relates_to': relates }) },
    edited: { eventId: replace.event_id, ts: replace.origin_server_ts },
  };
}

/** A page of history as the user sees it; the homeserver is asked for each message's reactions. */
export async function historyView(
  events: MatrixEvent[],
  reads: Pick<MessageReads, 'relations'>,
  roomId: string,
  userId: string,
): Promise<MatrixEvent[]> {
  const shown = events.filter((e) => !isFolded(e)).map(shownEvent);
  const out: MatrixEvent[] = [];
  for (let i = 0; i < shown.length; i += READS_AT_ONCE) {
    const batch = shown.slice(i, i + READS_AT_ONCE);
    out.push(
      ...(await Promise.all(
        batch.map(async (e) => {
          if (e.deleted || (e.type !== 'm.room.message' && e.type !== 'm.sticker') || !e.event_id) return e;
          const annotations = await reads.relations(roomId, e.event_id, userId, 'm.annotation', 'm.reaction');
          return { ...e, reactions: reactionCounts(annotations, userId) };
        }),
      )),
    );
  }
  return out;
}

/**
 * What a live event changes, for its relay frame (`change`): a deletion (the event it removes and
 * why), an edit (the message and its new content, sanitized), a reaction (the message and key), a
 * reply (the message replied to). Undefined for anything else.
 */
export function changeOf(event: MatrixEvent): Obj | undefined {
  const content = event.content ?? {};
  if (event.type === 'm.room.redaction') {
    // Room versions up to 10 carry it at the top level, 11 and later in the content.
    const redacts = content.redacts ?? event.redacts;
    return { deleted: { eventId: redacts, reason: typeof content.reason === 'string' ? content.reason : null } };
  }
  const relates = obj(content['m.relates_to']);
  if (!relates) return undefined;
  if (event.type === 'm.reaction' && relates.rel_type === 'm.annotation')
    return { reaction: { eventId: relates.event_id, key: relates.key } };
  if (event.type !== 'm.room.message') return undefined;
  const newContent = obj(content['m.new_content']);
  if (relates.rel_type === 'm.replace' && newContent)
    return { edited: { eventId: relates.event_id, content: safeMessageContent(newContent, false) } };
  const replyTo = obj(relates['m.in_reply_to'])?.event_id;
  return replyTo === undefined ? undefined : { replyTo: { eventId: replyTo } };
}
