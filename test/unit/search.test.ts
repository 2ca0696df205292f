/**
 * Search's pure parts (decision 0047): the query is checked whole with a 400 naming what is wrong;
 * matches are ordered best first with one place each, so cursor pages never overlap or skip; the
 * highlights are offsets of whole words in the body.
 */
import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../../api/errors.js';
import { mayHaveStoppedEarly, recentStartingAt } from '../../api/search/homeserver.js';
import { canonicalQuery, readSearchInput, type SearchInput } from '../../api/search/input.js';
import { highlightRanges, pageOf, searchFingerprint, type Match } from '../../api/search/results.js';

function read(params: Record<string, string | string[]>): SearchInput {
  const all = (n: string) => {
    const v = params[n];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  return readSearchInput((n) => all(n)[0], all);
}

function refusal(params: Record<string, string | string[]>): string {
  try {
    read(params);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).errcode).toBe('M_INVALID_PARAM');
    return (err as ApiError).message;
  }
  throw new Error(`accepted ${JSON.stringify(params)}`);
}

describe('readSearchInput', () => {
  it('reads words, filters, a date range, a limit and a cursor', () => {
    expect(
      read({
        q: '  launch plan ',
        room: ['event/launch', '!abc:example.org'],
        sender: ['alice', '@carol:other.org'],
        from: '2026-01-01',
        to: '2026-01-31T18:00:00Z',
        limit: '5',
        cursor: 'abc_-1',
      }),
    ).toEqual({
      q: 'launch plan',
      rooms: [{ kind: 'event', slug: 'launch' }, { roomId: '!abc:example.org' }],
      senders: [{ userSlug: 'alice' }, { userId: '@carol:other.org' }],
      from: Date.UTC(2026, 0, 1),
      to: Date.UTC(2026, 0, 31, 18),
      limit: 5,
      cursor: 'abc_-1',
    });
    expect(read({ q: 'x', from: '1767225600000' }).from).toBe(1767225600000);
    expect(read({ q: 'x' })).toMatchObject({ rooms: [], senders: [], from: null, to: null, limit: 10, cursor: null });
  });

  it('refuses a bad query, naming the parameter', () => {
    expect(refusal({})).toBe('q must not be empty');
    expect(refusal({ q: '   ' })).toBe('q must not be empty');
    expect(refusal({ q: 'x'.repeat(201) })).toBe('q is longer than 200 characters');
    expect(refusal({ q: 'the' })).toMatch(/has no word to search for/);
    expect(refusal({ q: '-secret' })).toMatch(/has no word to search for/);
    expect(refusal({ q: '!!! ???' })).toMatch(/has no word to search for/);
    expect(refusal({ q: 'a\u0000b' })).toBe('q must not contain control characters');
  });

  it('refuses bad filters, dates, limits and cursors', () => {
    expect(refusal({ q: 'x', room: 'launch' })).toMatch(/room "launch" must be "kind\/slug"/);
    expect(refusal({ q: 'x', room: 'party/launch' })).toMatch(/room "party\/launch"/);
    expect(refusal({ q: 'x', room: '!two words' })).toMatch(/is not a Matrix room id/);
    expect(refusal({ q: 'x', sender: 'bad slug' })).toMatch(/^sender cannot be mapped/);
    expect(refusal({ q: 'x', sender: '@nope' })).toMatch(/is not a Matrix user id/);
    expect(refusal({ q: 'x', room: Array.from({ length: 21 }, (_, i) => `event/r${i}`) })).toBe(
      'at most 20 "room" filters, not 21',
    );
    expect(refusal({ q: 'x', from: 'yesterday' })).toMatch(/^from "yesterday" is not a time/);
    expect(refusal({ q: 'x', to: '2026-13-45' })).toMatch(/^to "2026-13-45" is not a time/);
    expect(refusal({ q: 'x', from: '2026-02-01', to: '2026-01-01' })).toBe(
      'from (2026-02-01T00:00:00.000Z) is after to (2026-01-01T00:00:00.000Z)',
    );
    for (const limit of ['0', '51', 'ten'])
      expect(refusal({ q: 'x', limit })).toBe('limit must be a whole number from 1 to 50');
    expect(refusal({ q: 'x', cursor: 'a b' })).toBe('cursor must be the "next" of a previous page');
  });
});

describe('canonicalQuery', () => {
  it('keeps words, phrases and exclusions in a form SQLite FTS cannot fail on', () => {
    expect(canonicalQuery('Launch PLAN')).toBe('launch plan');
    expect(canonicalQuery('launch NEAR(plan x)')).toBe('launch near plan x');
    expect(canonicalQuery('or launch or or plan or')).toBe('launch or plan');
    expect(canonicalQuery('-secret launch')).toBe('launch -secret');
    expect(canonicalQuery('launch or -secret')).toBe('launch -secret');
    expect(canonicalQuery('"the launch plan" day-one')).toBe('"launch plan" "day one"');
    expect(canonicalQuery('launch -- - "" *')).toBe('launch');
    expect(canonicalQuery('Café 🚀')).toBe('café');
  });

  it('is null when nothing is left to look for', () => {
    for (const q of ['the', 'or', '-secret', '"" - --', 'and but the', '🚀']) expect(canonicalQuery(q)).toBeNull();
  });
});

const match = (eventId: string, rank: number, ts: number): Match => ({
  eventId,
  roomId: '!r:x',
  sender: '@a:x',
  ts,
  body: eventId,
  msgtype: 'm.text',
  rank,
});

describe('pageOf', () => {
  // Ties in rank and time on purpose: the event id decides, so every match has one place.
  const all = [match('$c', 1, 5), match('$a', 3, 1), match('$b', 1, 5), match('$d', 2, 9), match('$e', 1, 7)];
  const f = searchFingerprint(['q']);

  it('pages best first, every match exactly once', () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const { page, next }: { page: Match[]; next: string | null } = pageOf(all, 2, f, cursor);
      seen.push(...page.map((m) => m.eventId));
      if (!next) break;
      cursor = next;
    }
    expect(seen).toEqual(['$a', '$d', '$e', '$b', '$c']);
  });

  it('keeps its place when a new match arrives between pages', () => {
    const first = pageOf(all, 2, f, null);
    const later = pageOf([...all, match('$z', 9, 10)], 10, f, first.next);
    expect(later.page.map((m) => m.eventId)).toEqual(['$e', '$b', '$c']);
    expect(later.next).toBeNull();
  });

  it('refuses a cursor of another search, or a forged one', () => {
    const { next } = pageOf(all, 1, f, null);
    expect(() => pageOf(all, 1, searchFingerprint(['other']), next)).toThrow(/belongs to another search/);
    expect(() => pageOf(all, 1, f, 'bm90IGpzb24')).toThrow(/is not the "next" of a previous page/);
    expect(() => pageOf(all, 1, f, Buffer.from('{"f":1}').toString('base64url'))).toThrow(/is not the "next"/);
  });
});

describe('mayHaveStoppedEarly: a newest-first answer without a next_batch', () => {
  // Seen on the benchmark's 100,000 messages: a sender filter kept 209 of Synapse's 5 rounds of
  // 1,000 rows, out of 37,649 matches, and the answer had no next_batch.
  it('is not the end when the filters kept fewer than asked of more matches than 5 rounds read', () => {
    expect(mayHaveStoppedEarly({ returned: 209, asked: 500, count: 37_649, next: null })).toBe(true);
  });
  it('is the end when 5 rounds reach every match, or the limit was filled, or a next_batch came', () => {
    expect(mayHaveStoppedEarly({ returned: 182, asked: 500, count: 4_506, next: null })).toBe(false);
    expect(mayHaveStoppedEarly({ returned: 500, asked: 500, count: 37_649, next: null })).toBe(false);
    expect(mayHaveStoppedEarly({ returned: 209, asked: 500, count: 37_649, next: 'YWxs' })).toBe(false);
  });
});

describe('highlightRanges', () => {
  it('marks whole words, any case, and phrases across punctuation', () => {
    const body = 'Launch plan: the LAUNCH-day plan, relaunch later. Launch   plan!';
    const at = (h: { start: number; end: number }[]) => h.map(({ start, end }) => body.slice(start, end));
    expect(at(highlightRanges(body, ['launch']))).toEqual(['Launch', 'LAUNCH', 'Launch']);
    expect(at(highlightRanges(body, ['launch plan']))).toEqual(['Launch plan', 'Launch   plan']);
    // Overlapping terms merge into one stretch.
    expect(at(highlightRanges(body, ['launch plan', 'plan']))).toEqual(['Launch plan', 'plan', 'Launch   plan']);
    expect(highlightRanges(body, ['absent', '***'])).toEqual([]);
  });

  it('counts offsets in UTF-16 code units, past emoji and accents', () => {
    const body = '🚀 Café launch';
    const [h] = highlightRanges(body, ['launch']);
    expect(body.slice(h!.start, h!.end)).toBe('launch');
    expect(highlightRanges('café', ['café'])).toEqual([{ start: 0, end: 4 }]);
  });

  it('treats terms as text, not as patterns', () => {
    expect(highlightRanges('a (b) c', ['(b)'])).toEqual([{ start: 3, end: 4 }]);
    expect(highlightRanges('x.y', ['.*'])).toEqual([]);
  });
});

describe('recentStartingAt', () => {
  it("is Synapse's newest-first token just after `to`", () => {
    expect(Buffer.from(recentStartingAt(1000), 'base64').toString()).toBe('all\n\n1001,0');
    expect(recentStartingAt(1000)).not.toMatch(/=/);
  });
});
