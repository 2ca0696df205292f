/**
 * The unread count of the appservice identity mode (decision 0045, "Appservice mode"), counted
 * from a sync's timeline window and receipts: own messages, edits, redactions, notices, the
 * receipt's position, a receipt older than the window, no receipt, and the cap.
 */
import { describe, expect, it } from '@jest/globals';
import { summaryFilter } from '../../adapters/matrix/room-summaries.js';
import { countsAsUnread, countUnread, readReceiptsOf, UNREAD_CAP } from '../../adapters/matrix/unread-count.js';

const ME = '@alice:x';
let n = 0;
const msg = (over: Record<string, unknown> = {}, content: Record<string, unknown> = {}) => ({
  type: 'm.room.message',
  event_id: `$${++n}`,
  sender: '@bob:x',
  origin_server_ts: n * 10,
  content: { msgtype: 'm.text', body: 'hi', ...content },
  ...over,
});
const none = new Map<string, number>();

describe('what counts as unread', () => {
  it("counts others' messages, stickers and encrypted events; not own, redacted, edits or notices", () => {
    expect(countsAsUnread(msg(), ME)).toBe(true);
    expect(countsAsUnread(msg({ type: 'm.room.encrypted', content: { ciphertext: 'c' } }), ME)).toBe(true);
    expect(countsAsUnread(msg({ type: 'm.sticker', content: { body: 's', url: 'mxc://x/y' } }), ME)).toBe(true);
    expect(countsAsUnread(msg({ sender: ME }), ME)).toBe(false);
    expect(countsAsUnread(msg({ unsigned: { redacted_because: { type: 'm.room.redaction' } }, content: {} }), ME)).toBe(
      false,
    );
    expect(countsAsUnread(msg({}, { 'm.relates_to': { rel_type: 'm.replace', event_id: '$1' } }), ME)).toBe(false);
    expect(countsAsUnread(msg({}, { msgtype: 'm.notice' }), ME)).toBe(false);
    expect(countsAsUnread(msg({ type: 'm.reaction' }), ME)).toBe(false);
  });
});

describe('the read receipts of the user', () => {
  it('are their m.read and m.read.private on the main timeline, not other users or thread receipts', () => {
    const receipts = readReceiptsOf(
      [
        { type: 'm.receipt', content: { $a: { 'm.read': { [ME]: { ts: 5 }, '@bob:x': { ts: 6 } } } } },
        { type: 'm.receipt', content: { $b: { 'm.read.private': { [ME]: { ts: 7, thread_id: 'main' } } } } },
        { type: 'm.receipt', content: { $c: { 'm.read': { [ME]: { ts: 8, thread_id: '$root' } } } } },
        { type: 'm.receipt', content: { $d: { 'm.read': { '@bob:x': { ts: 9 } } } } },
        { type: 'm.typing', content: { $e: { 'm.read': { [ME]: { ts: 9 } } } } },
      ],
      ME,
    );
    expect([...receipts]).toEqual([
      ['$a', 5],
      ['$b', 7],
    ]);
  });
});

describe('the count of a window', () => {
  it('is the messages after the receipt, with the mentions among them', () => {
    const read = msg();
    const events = [
      msg(),
      read,
      msg(),
      msg({}, { 'm.mentions': { user_ids: [ME] } }),
      msg({}, { msgtype: 'm.notice' }),
    ];
    expect(countUnread(events, new Map([[read.event_id, 1]]), ME, true)).toEqual({
      unread: 2,
      highlights: 1,
      capped: false,
    });
  });
  it("takes the latest receipt; the user's own messages neither count nor read the room", () => {
    const read = msg();
    const events = [read, msg(), msg({ sender: ME }), msg()];
    expect(countUnread(events, new Map([[read.event_id, 1]]), ME, false).unread).toBe(2);
    const later = [msg({ sender: ME }), msg(), msg()];
    expect(
      countUnread(
        later,
        new Map([
          [later[1]!.event_id, 1],
          [later[2]!.event_id, 2],
        ]),
        ME,
        false,
      ).unread,
    ).toBe(0);
  });
  it('leaves out edits and redacted messages after the receipt', () => {
    const read = msg();
    const events = [
      read,
      msg({}, { 'm.relates_to': { rel_type: 'm.replace', event_id: read.event_id } }),
      msg({ unsigned: { redacted_because: {} }, content: {} }),
      msg(),
    ];
    expect(countUnread(events, new Map([[read.event_id, 1]]), ME, false).unread).toBe(1);
  });
  it('without any receipt counts every message of the window, a floor when the homeserver has more', () => {
    const events = [msg(), msg({ sender: '@carol:x' }), msg()];
    expect(countUnread(events, none, ME, false)).toEqual({ unread: 3, highlights: 0, capped: false });
    expect(countUnread(events, none, ME, true)).toEqual({ unread: 3, highlights: 0, capped: true });
    const full = Array.from({ length: UNREAD_CAP }, () => msg());
    expect(countUnread(full, none, ME, true)).toEqual({ unread: UNREAD_CAP, highlights: 0, capped: true });
  });
  it("with a receipt older than the window counts the messages sent after the receipt's time", () => {
    const events = [msg(), msg(), msg()];
    const readAt = events[0]!.origin_server_ts;
    expect(countUnread(events, new Map([['$older', readAt]]), ME, true)).toEqual({
      unread: 2,
      highlights: 0,
      capped: false,
    });
    // Read before the whole window, and more before it: a floor.
    expect(countUnread(events, new Map([['$older', 0]]), ME, true)).toMatchObject({ unread: 3, capped: true });
  });
});

describe('the sync filter that counts', () => {
  it('takes the last UNREAD_CAP messages and the receipts, and nothing else', () => {
    const f = summaryFilter(['!a'], true) as { room: Record<string, unknown> };
    expect(f.room).toMatchObject({
      rooms: ['!a'],
      timeline: { limit: UNREAD_CAP, types: ['m.room.message', 'm.room.encrypted', 'm.sticker'] },
      state: { types: [] },
      ephemeral: { types: ['m.receipt'] },
      account_data: { types: [] },
    });
  });
});
