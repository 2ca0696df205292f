/**
 * The bounded JSON reader (api/json-bounds.ts, decision 0021): each bound is enforced before the
 * text is parsed, with a message naming it; the exact frame and transaction of issue #15 are
 * refused as such; anything within bounds parses exactly as JSON.parse would; and no text at all
 * makes it throw anything but its own error.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { jsonForPg, transactionDigest } from '../../adapters/store/event-append.js';
import { transactionEvents } from '../../api/routes/appservice.js';
import {
  CLIENT_JSON_BOUNDS,
  CODEC_JSON_BOUNDS,
  JsonBoundsError,
  parseBoundedJson,
  scanJson,
  TRANSACTION_JSON_BOUNDS,
  type JsonBounds,
} from '../../api/json-bounds.js';
import { parseJsonObject } from '../../api/spec/validation.js';
import { ApiError } from '../../api/errors.js';

const refusal = (text: string, bounds: JsonBounds = CLIENT_JSON_BOUNDS, what = 'frame') => {
  try {
    parseBoundedJson(text, bounds, what);
  } catch (err) {
    if (err instanceof JsonBoundsError) return { errcode: err.errcode, error: err.message };
    throw err;
  }
  return null;
};
const nested = (n: number, inner = ''): string => '['.repeat(n) + inner + ']'.repeat(n);
const nestedObjects = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** The issue's frame: a ping whose `v` is 6,000 arrays deep (about 12 KB, under the frame limit). */
export const ISSUE_PING = `{"type":"ping","v":${nested(6_000)}}`;
/** The issue's transaction: one event whose content is nested 8,000 levels deep. */
export const issueTransaction = (depth = 8_000): string =>
  `{"events":[{"type":"m.room.message","event_id":"$deep","room_id":"!r:hs","sender":"@a:hs","content":{"body":"x","deep":${nested(depth)}}}]}`;

/** Depth of a parsed value, without recursion (the reference the scanner is checked against). */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

describe("the issue's inputs", () => {
  it('refuses the 6,000-level ping as nested too deep, before anything recursive walks it', () => {
    expect(ISSUE_PING.length).toBeLessThan(65_536);
    expect(refusal(ISSUE_PING)).toEqual({ errcode: 'M_BAD_JSON', error: 'frame is nested deeper than 16 levels' });
  });

  it('refuses the 8,000-level transaction as a body that cannot be a transaction (a 4xx, not a crash)', () => {
    expect(refusal(issueTransaction(), TRANSACTION_JSON_BOUNDS, 'transaction body')).toEqual({
      errcode: 'M_BAD_JSON',
      error: 'transaction body is nested deeper than 2,048 levels',
    });
  });

  it('keeps a transaction as deep as the bound, and can digest and store-serialize it (the walks the bound protects)', () => {
    // 2,048 levels in all: body, events, event, content, then the arrays.
    const text = issueTransaction(2_048 - 4);
    expect(refusal(text, TRANSACTION_JSON_BOUNDS)).toBeNull();
    const body = parseBoundedJson(text, TRANSACTION_JSON_BOUNDS) as Record<string, unknown>;
    expect(depthOf(body)).toBe(2_048);
    const { events } = transactionEvents(body);
    expect(events).toHaveLength(1);
    expect(transactionDigest(events)).toHaveLength(32);
    expect(jsonForPg(events[0]!.event).length).toBeGreaterThan(4_000);
    expect(refusal(issueTransaction(2_048 - 3), TRANSACTION_JSON_BOUNDS)).toMatchObject({ errcode: 'M_BAD_JSON' });
  });

  it('keeps what any event may legitimately hold in a transaction: prototype keys, long strings, big numbers, many members', () => {
    const content = {
      ['__proto__']: { polluted: true },
      constructor: { prototype: { x: 1 } },
      long: 'x'.repeat(100_000),
      members: Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i])),
    };
    const text = `{"events":[{"type":"m.room.message","event_id":"$p","room_id":"!r","content":${JSON.stringify(content)},"big":${'9'.repeat(400)}}]}`;
    const body = parseBoundedJson(text, TRANSACTION_JSON_BOUNDS) as { events: { content: Record<string, unknown> }[] };
    expect(Object.hasOwn(body.events[0]!.content, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('jsonForPg (what PostgreSQL jsonb is given)', () => {
  it('replaces NUL and lone surrogates (jsonb refuses both) with U+FFFD, keeping pairs and escaped backslashes', () => {
    const value = {
      nul: 'a\u0000b',
      high: 'x\ud800',
      low: '\udc00y',
      pair: '😀',
      text: '\\ud800 and \\u0000',
      ['k\u0000']: 1,
    };
    expect(JSON.parse(jsonForPg(value))).toEqual({
      nul: 'a\ufffdb',
      high: 'x\ufffd',
      low: '\ufffdy',
      pair: '😀',
      text: '\\ud800 and \\u0000',
      ['k\ufffd']: 1,
    });
  });
});

describe('each bound, named', () => {
  it.each([
    ['depth (objects)', nestedObjects(17), 'M_BAD_JSON', 'frame is nested deeper than 16 levels'],
    ['depth (arrays)', nested(17), 'M_BAD_JSON', 'frame is nested deeper than 16 levels'],
    [
      'members of one object',
      JSON.stringify(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]))),
      'M_TOO_LARGE',
      'frame has an object of more than 64 members',
    ],
    [
      'items of one array',
      JSON.stringify({ a: Array.from({ length: 1_001 }, () => 0) }),
      'M_TOO_LARGE',
      'frame has an array of more than 1,000 items',
    ],
    [
      'string length',
      JSON.stringify({ a: 'x'.repeat(32_769) }),
      'M_TOO_LARGE',
      'frame holds a string longer than 32,768 characters',
    ],
    [
      'key length',
      JSON.stringify({ ['k'.repeat(32_769)]: 1 }),
      'M_TOO_LARGE',
      'frame holds a string longer than 32,768 characters',
    ],
    ['number length', `{"a":${'1'.repeat(33)}}`, 'M_TOO_LARGE', 'frame holds a number longer than 32 characters'],
    ['number size', '{"a":1e999}', 'M_TOO_LARGE', 'frame holds a number too large for a double'],
    ['negative number size', '[-2e308]', 'M_TOO_LARGE', 'frame holds a number too large for a double'],
    [
      '__proto__ key',
      '{"a":{"__proto__":{"x":1}}}',
      'M_BAD_JSON',
      'frame has a "__proto__" or "constructor.prototype" key, which is refused',
    ],
    [
      'escaped __proto__ key',
      '{"\\u005f_proto__":{}}',
      'M_BAD_JSON',
      'frame has a "__proto__" or "constructor.prototype" key, which is refused',
    ],
    [
      'constructor.prototype',
      '{"constructor":{"prototype":{"x":1}}}',
      'M_BAD_JSON',
      'frame has a "__proto__" or "constructor.prototype" key, which is refused',
    ],
    ['not JSON', '{"a":', 'M_NOT_JSON', 'frame is not valid JSON'],
    ['truncated deep text', nested(10).slice(0, 15), 'M_NOT_JSON', 'frame is not valid JSON'],
  ])('%s', (_what, text, errcode, error) => {
    expect(refusal(text)).toEqual({ errcode, error });
  });

  it('accepts each bound exactly at its limit', () => {
    expect(refusal(nested(16))).toBeNull();
    expect(refusal(nestedObjects(16))).toBeNull();
    expect(refusal(JSON.stringify(Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, i]))))).toBeNull();
    expect(refusal(JSON.stringify(Array.from({ length: 1_000 }, () => 0)))).toBeNull();
    expect(refusal(JSON.stringify({ a: 'x'.repeat(32_768) }))).toBeNull();
    expect(refusal(`[${'1'.repeat(32)}]`)).toBeNull();
    expect(refusal('{"constructor":"a plain field","proto":1}')).toBeNull();
  });

  it('counts a string as JavaScript does once unescaped: an escape is one character, a pair of surrogates two', () => {
    const escaped = `{"a":"${'\\u00e9'.repeat(32_768)}"}`; // 6 characters of text each, 1 once parsed
    expect(refusal(escaped)).toBeNull();
    expect(refusal(`{"a":"${'\\n'.repeat(32_769)}"}`)).toMatchObject({ errcode: 'M_TOO_LARGE' });
    expect(refusal(JSON.stringify({ a: '😀'.repeat(16_384) }))).toBeNull();
    expect(refusal(JSON.stringify({ a: '😀'.repeat(16_385) }))).toMatchObject({ errcode: 'M_TOO_LARGE' });
  });

  it('refuses a lone surrogate, escaped or raw, in client JSON (not Unicode: the homeserver fails on it), and keeps pairs', () => {
    const lone = { errcode: 'M_BAD_JSON', error: 'frame holds a lone surrogate: its strings must be valid Unicode' };
    expect(refusal('{"name":"x\\ud800"}')).toEqual(lone);
    expect(refusal('{"name":"\\udc00x"}')).toEqual(lone);
    expect(refusal('{"name":"\\ud800\\u0041"}')).toEqual(lone);
    expect(refusal('{"\\ud800":1}')).toEqual(lone);
    expect(refusal('{"name":"x\ud800"}')).toEqual(lone);
    expect(refusal('{"name":"\udc00"}')).toEqual(lone);
    expect(refusal('{"name":"\\ud83d\\ude00 \ud83d\ude00 \\\\ud800"}')).toBeNull();
    expect(refusal(`{"a":"${'\\ud83d\\ude00'.repeat(16_384)}"}`)).toBeNull();
    expect(refusal(`{"a":"${'\\ud83d\\ude00'.repeat(16_384)}x"}`)).toMatchObject({ errcode: 'M_TOO_LARGE' });
    // In a transaction it is any user's content: kept (and stored as U+FFFD).
    expect(refusal('{"events":[{"content":{"body":"\\ud800"}}]}', TRANSACTION_JSON_BOUNDS)).toBeNull();
    expect(refusal('{"events":[{"content":{"body":"\ud800"}}]}', TRANSACTION_JSON_BOUNDS)).toBeNull();
  });

  it('ignores brackets, commas and digits inside strings', () => {
    expect(refusal(JSON.stringify({ a: '['.repeat(1_000) + ','.repeat(5_000) + '9'.repeat(100) }))).toBeNull();
    expect(refusal(JSON.stringify({ a: '\\"[[[[' }))).toBeNull();
  });

  it('gives the codec room for a whole history (long base64 strings, many payloads) but the same depth bound', () => {
    const payloads = Array.from({ length: 5_000 }, () => ({
      metadata: { encoding: 'YmluYXJ5' },
      data: 'A'.repeat(100),
    }));
    expect(refusal(JSON.stringify({ payloads, big: 'x'.repeat(1_000_000) }), CODEC_JSON_BOUNDS)).toBeNull();
    expect(refusal(nested(17), CODEC_JSON_BOUNDS)).toMatchObject({ errcode: 'M_BAD_JSON' });
  });
});

describe('parseJsonObject (every HTTP body and frame)', () => {
  it('answers an ApiError naming the text and the bound, and a non-object as such', () => {
    const thrown = (text: string) => {
      try {
        parseJsonObject(text, 'request body');
      } catch (err) {
        return err instanceof ApiError ? [err.status, err.errcode, err.message] : err;
      }
      return null;
    };
    expect(thrown(nestedObjects(5_000))).toEqual([400, 'M_BAD_JSON', 'request body is nested deeper than 16 levels']);
    expect(thrown(JSON.stringify({ a: 'x'.repeat(40_000) }))).toEqual([
      413,
      'M_TOO_LARGE',
      'request body holds a string longer than 32,768 characters',
    ]);
    expect(thrown('[1]')).toEqual([400, 'M_BAD_JSON', 'request body must be a JSON object']);
    expect(thrown('nope')).toEqual([400, 'M_NOT_JSON', 'request body is not valid JSON']);
    expect(thrown('{"ok":true}')).toBeNull();
  });
});

describe('properties', () => {
  const runs = { numRuns: 2_000, seed: 15 };

  it('any text at all: only a JsonBoundsError is ever thrown, for every set of bounds', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({
        unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ',', ':', '1', 'e', '-', 'u', 'a', ' '),
        maxLength: 300,
      }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(
        text,
        fc.constantFrom(CLIENT_JSON_BOUNDS, CODEC_JSON_BOUNDS, TRANSACTION_JSON_BOUNDS),
        (t, bounds) => {
          try {
            parseBoundedJson(t, bounds);
          } catch (err) {
            if (!(err instanceof JsonBoundsError)) throw err;
          }
        },
      ),
      runs,
    );
  });

  it('JSON within the bounds parses exactly as JSON.parse does; the scanner refuses exactly what is deeper than the bound', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 20 }), fc.integer({ min: 1, max: 20 }), (value, maxDepth) => {
        const text = JSON.stringify(value);
        const bounds = { ...TRANSACTION_JSON_BOUNDS, maxDepth };
        const tooDeep = depthOf(value) > maxDepth;
        let scanned = true;
        try {
          scanJson(text, bounds);
        } catch {
          scanned = false;
        }
        expect(scanned).toBe(!tooDeep);
        if (!tooDeep) expect(parseBoundedJson(text, bounds)).toEqual(JSON.parse(text));
      }),
      runs,
    );
  });

  it('members and items are counted per container, at any depth', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 1, max: 6 }), (value, max) => {
        let widest = { members: 0, items: 0 };
        const stack: unknown[] = [value];
        while (stack.length) {
          const v = stack.pop();
          if (v === null || typeof v !== 'object') continue;
          if (Array.isArray(v)) widest = { ...widest, items: Math.max(widest.items, v.length) };
          else widest = { ...widest, members: Math.max(widest.members, Object.keys(v).length) };
          stack.push(...Object.values(v));
        }
        const bounds = { ...TRANSACTION_JSON_BOUNDS, maxMembers: max, maxItems: max };
        const refused = refusal(JSON.stringify(value), bounds);
        expect(refused === null).toBe(widest.members <= max && widest.items <= max);
      }),
      runs,
    );
  });
});
