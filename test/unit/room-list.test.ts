/**
 * The room list's pure parts (decision 0045) and the encrypted mark (decision 0046): the last
 * message a list shows, the sync filter, whose receipts moved, the order of the list, the rooms an
 * `m.room.encryption` event turns encrypted, and the live watch's coalescing (one read per user per
 * burst, a receipt only for its reader), with the homeserver's answer recorded instead of fetched.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Identity } from '../../adapters/identity/index.js';
import { lastMessageOf, summaryFilter } from '../../adapters/matrix/room-summaries.js';
import type { LogRow } from '../../adapters/store/events.js';
import { encryptionTurnedOn } from '../../adapters/store/room-encryption.js';
import type { Logger } from '../../lib/log.js';
import { rowFrame } from '../../api/relay/protocol.js';
import type { Session } from '../../api/relay/session-contract.js';
import { createUnreadWatch, receiptReaders, UNREAD_PAUSE_MS, withSummaries } from '../../api/relay/unread.js';

const message = (id: string, body: string, ts = 1) => ({
  type: 'm.room.message',
  event_id: id,
  sender: '@bob:x',
  origin_server_ts: ts,
  content: { msgtype: 'm.text', body },
});

const row = (over: Partial<LogRow>): LogRow => ({
  seq: 1,
  roomId: '!a',
  roomSeq: 1,
  ephemeral: false,
  type: 'm.room.message',
  sender: '@bob:x',
  stateKey: null,
  event: message('$1', 'hi'),
  tenant: 'acme',
  kind: 'event',
  slug: 'a',
  ...over,
});

describe('the last message of a room', () => {
  it('is the message with its preview cut to 500 characters', () => {
    expect(lastMessageOf(message('$1', 'x'.repeat(600), 42))).toEqual({
      eventId: '$1',
      sender: '@bob:x',
      ts: 42,
      encrypted: false,
      msgtype: 'm.text',
      body: 'x'.repeat(500),
    });
  });
  it('of an encrypted event is marked and has no body', () => {
    const ev = {
      type: 'm.room.encrypted',
      event_id: '$2',
      sender: '@bob:x',
      origin_server_ts: 3,
      content: { ciphertext: 'c' },
    };
    expect(lastMessageOf(ev)).toEqual({ eventId: '$2', sender: '@bob:x', ts: 3, encrypted: true });
  });
  it('is none for no event, or one without an id or sender', () => {
    expect(lastMessageOf(undefined)).toBeNull();
    expect(lastMessageOf({ type: 'm.room.message', sender: '@b:x' })).toBeNull();
  });
});

describe('the sync filter', () => {
  it('keeps one message per room and nothing else; only the rooms asked for', () => {
    const f = summaryFilter(['!a']) as { room: Record<string, unknown>; presence: unknown };
    expect(f.presence).toEqual({ types: [] });
    expect(f.room).toMatchObject({
      rooms: ['!a'],
      timeline: { limit: 1, types: ['m.room.message', 'm.room.encrypted'] },
      state: { types: [] },
      ephemeral: { types: [] },
    });
    expect(summaryFilter().room).not.toHaveProperty('rooms');
  });
});

describe('the room list', () => {
  it('is the most recently active first; a room the summaries leave out has nothing unread; unknown counts are null', () => {
    const rooms = [{ roomId: '!a' }, { roomId: '!b' }, { roomId: '!c' }];
    const summaries = new Map([
      ['!a', { unread: 1, highlights: 0, unreadCapped: false, lastMessage: lastMessageOf(message('$1', 'old', 10)) }],
      ['!c', { unread: 4, highlights: 1, unreadCapped: false, lastMessage: lastMessageOf(message('$3', 'new', 20)) }],
    ]);
    const listed = withSummaries(rooms, summaries);
    expect(listed.map((r) => [r.roomId, r.unread])).toEqual([
      ['!c', 4],
      ['!a', 1],
      ['!b', 0],
    ]);
    expect(withSummaries(rooms, null).map((r) => [r.roomId, r.unread, r.lastMessage])).toEqual([
      ['!a', null, null],
      ['!b', null, null],
      ['!c', null, null],
    ]);
  });
});

describe('receipts and encryption in the log', () => {
  it('names the users whose read receipt moved (m.read and m.read.private), not other receipt types', () => {
    const event = {
      content: { $e: { 'm.read': { '@a:x': { ts: 1 } }, 'm.read.private': { '@b:x': {} }, other: { '@c:x': {} } } },
    };
    expect(receiptReaders(event).sort()).toEqual(['@a:x', '@b:x']);
  });
  it('finds the rooms an m.room.encryption state event turns encrypted', () => {
    const enc = (room: string, stateKey: unknown, ephemeral = false) => ({
      ephemeral,
      event: { type: 'm.room.encryption', room_id: room, state_key: stateKey },
    });
    expect(encryptionTurnedOn([enc('!a', ''), enc('!a', ''), enc('!b', 'x'), enc('!c', '', true)])).toEqual(['!a']);
  });
  it('marks an encrypted event frame, and only that one', () => {
    const encrypted = JSON.parse(
      rowFrame(row({ type: 'm.room.encrypted', event: { type: 'm.room.encrypted', content: {} } })),
    );
    expect(encrypted).toMatchObject({ type: 'event', encrypted: true });
    expect(JSON.parse(rowFrame(row({})))).not.toHaveProperty('encrypted');
  });
});

describe('the live watch', () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  function setup() {
    const syncs: { user: string; rooms: string[] }[] = [];
    globalThis.fetch = (async (input: string | URL | Request) => {
      const url = new URL(String(input));
      const rooms = (JSON.parse(url.searchParams.get('filter')!) as { room: { rooms: string[] } }).room.rooms;
      syncs.push({ user: url.searchParams.get('user') ?? '', rooms });
      const join = Object.fromEntries(
        rooms.map((r) => [
          r,
          {
            unread_notifications: { notification_count: 2, highlight_count: 0 },
            timeline: { events: [message('$9', 'hi', 5)] },
          },
        ]),
      );
      return new Response(JSON.stringify({ rooms: { join } }), { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const identity = {
      actAs: (
        user: { slug: string },
        fn: (as: { userId: string; token: string; query: Record<string, string> }) => unknown,
      ) => fn({ userId: user.slug, token: 't', query: { user: user.slug } }),
    } as unknown as Identity;
    const session = (slug: string, joined: string[]) => {
      const frames: Record<string, unknown>[] = [];
      const s = {
        user: { tenant: 'acme', userSlug: slug, userId: `@${slug}:x`, canActAs: true, expiresAt: 0 },
        joined: new Set(joined),
        notify: (text: string) => frames.push(JSON.parse(text) as Record<string, unknown>),
      } as unknown as Session;
      return { s, frames };
    };
    const alice1 = session('alice', ['!a', '!b']);
    const alice2 = session('alice', ['!a', '!b']);
    const carol = session('carol', ['!a']);
    const logger = { warn: () => undefined } as unknown as Logger;
    const watch = createUnreadWatch({
      identity,
      homeserverUrl: 'http://hs.test',
      logger,
      sessions: () => [alice1.s, alice2.s, carol.s],
    });
    return { watch, syncs, alice1, alice2, carol };
  }
  const pause = () => new Promise((r) => setTimeout(r, UNREAD_PAUSE_MS + 150));

  it('reads each connected member once per burst, over the rooms touched, and tells every socket of the user', async () => {
    const t = setup();
    t.watch.notice([row({ roomId: '!a' }), row({ seq: 2, roomId: '!a' }), row({ seq: 3, roomId: '!b', slug: 'b' })]);
    t.watch.notice([row({ seq: 4, roomId: '!zz', tenant: null })]);
    await pause();
    expect(t.syncs.sort((x, y) => x.user.localeCompare(y.user))).toEqual([
      { user: 'alice', rooms: ['!a', '!b'] },
      { user: 'carol', rooms: ['!a'] },
    ]);
    for (const tab of [t.alice1, t.alice2])
      expect(tab.frames.map((f) => [f.type, (f.room as { id: string }).id, f.unread])).toEqual([
        ['unread', '!a', 2],
        ['unread', '!b', 2],
      ]);
    expect(t.carol.frames).toHaveLength(1);
    t.watch.close();
  });

  it('reads only the reader on a receipt; typing reads nobody', async () => {
    const t = setup();
    const receipt = { type: 'm.receipt', content: { $9: { 'm.read': { '@carol:x': { ts: 1 } } } } };
    t.watch.notice([
      row({ ephemeral: true, type: 'm.receipt', event: receipt }),
      row({ ephemeral: true, type: 'm.typing', event: {} }),
    ]);
    await pause();
    expect(t.syncs).toEqual([{ user: 'carol', rooms: ['!a'] }]);
    expect(t.alice1.frames).toEqual([]);
    t.watch.close();
  });
});
