/**
 * The event log's rows as the append writes them (adapters/store/event-append.ts `logColumns`):
 * numbered after the head in order, each room's own sequence continuing where it was, timeline
 * membership changes recorded beside them, ephemeral events never taken for memberships.
 */
import { describe, expect, it } from '@jest/globals';
import { logColumns, type IncomingEvent } from '../../adapters/store/event-append.js';

const timeline = (room: string, id: string, extra: Record<string, unknown> = {}): IncomingEvent => ({
  ephemeral: false,
  event: { room_id: room, type: 'm.room.message', event_id: id, sender: '@a:hs', ...extra },
});

describe('the columns of an append', () => {
  it('numbers rows after the head and each room after its own last sequence', () => {
    const fresh = [timeline('!a', '$1'), timeline('!b', '$2'), timeline('!a', '$3')];
    const c = logColumns(
      fresh,
      new Map([
        ['!a', 7],
        ['!b', 1],
      ]),
      41,
    );
    expect(c.events.seq).toEqual([42, 43, 44]);
    expect(c.events.room).toEqual(['!a', '!b', '!a']);
    expect(c.events.roomSeq).toEqual([7, 1, 8]);
    expect(c.events.id).toEqual(['$1', '$2', '$3']);
    expect(c.last).toBe(44);
  });

  it('records membership changes at their sequence, and only those of timeline member events', () => {
    const join = timeline('!a', '$j', { type: 'm.room.member', state_key: '@b:hs', content: { membership: 'join' } });
    const typing: IncomingEvent = { ephemeral: true, event: { room_id: '!a', type: 'm.typing', content: {} } };
    const noKey = timeline('!a', '$n', { type: 'm.room.member', content: { membership: 'leave' } });
    const c = logColumns([typing, join, noKey], new Map([['!a', 1]]), 0);
    expect(c.members).toEqual({ user: ['@b:hs'], room: ['!a'], seq: [2], membership: ['join'] });
    expect(c.events.id).toEqual([null, '$j', '$n']);
    expect(c.events.eph).toEqual([true, false, false]);
    expect(c.events.stateKey).toEqual([null, '@b:hs', null]);
  });

  it('stores NUL as U+FFFD, which PostgreSQL jsonb refuses', () => {
    const c = logColumns([timeline('!a', '$1', { content: { body: 'a\u0000b' } })], new Map([['!a', 1]]), 0);
    expect(JSON.parse(c.events.json[0]!).content.body).toBe('a\ufffdb');
  });
});
