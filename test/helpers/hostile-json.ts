/**
 * Structure-aware hostile JSON for the fuzzers (test/integration/fuzz-*.test.ts): a valid-shaped
 * value with exactly one hostile mutation at any level of it — deep nesting, huge numbers, long
 * strings, unicode and NUL, prototype keys, wrong types, fields left out or added — rendered as
 * text (deep values are spliced in as text: building them as objects would overflow the very
 * recursion the service is being tested for). Also whole-text damage: truncation and garbage.
 */
import fc from 'fast-check';

/** Nested containers `depth` deep, as text (the frame used 6,000 arrays). */
export const nestedText = (depth: number, open: '[' | '{"a":' = '['): string =>
  open === '[' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Raw JSON texts that are each one hostile value. */
export const hostileValueText: fc.Arbitrary<string> = fc.oneof(
  // Deep nesting, just past the client bound and far past anything recursive can take.
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(17, 40, 1_000, 6_000, 20_000), fc.constantFrom('[' as const, '{"a":' as const))
      .map(([d, o]) => nestedText(d, o)),
  },
  // Huge and odd numbers.
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '1e999',
      '-1e999',
      '9'.repeat(400),
      '1'.repeat(33),
      '123456789012345678901234567890',
      `0.${'0'.repeat(400)}1`,
      '-0',
      '1e-400',
      '9007199254740993',
      '1.7976931348623157e308',
    ),
  },
  // Long strings.
  {
    weight: 2,
    arbitrary: fc.constantFrom(65, 257, 4_097, 16_001, 32_769, 60_000).map((n) => JSON.stringify('x'.repeat(n))),
  },
  // Unicode, NUL and other controls (lone surrogates are written as escapes by JSON.stringify).
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          '\u0000',
          'a\u0000b',
          '\ud800',
          '\udc00x',
          '😀'.repeat(20),
          '\u202e',
          '\ufeff',
          'ｅｖｅｎｔ',
          '\u0007\u001b[31m',
          'é\u0301',
          '',
        ),
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
      )
      .map((s) => JSON.stringify(s)),
  },
  // Prototype keys, plain and escaped.
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"\\u005f_proto__":{"polluted":true}}',
      '[{"__proto__":null}]',
    ),
  },
  // Wrong types.
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'null',
      'true',
      'false',
      '0',
      '-1',
      '1.5',
      '[]',
      '{}',
      '"x"',
      '[[]]',
      '[null]',
      '{"a":{}}',
    ),
  },
  // Wide containers.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(65, 1_001, 5_000)
      .chain((n) =>
        fc.constantFrom(
          `[${Array.from({ length: n }, () => '0').join(',')}]`,
          `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`,
        ),
      ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
);

/** Keys a mutation may add to an object. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'unknown',
    '',
    '\u0000',
    'k'.repeat(300),
    'k'.repeat(40_000),
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

export type Mutation =
  | { op: 'replace'; at: number; text: string }
  | { op: 'addKey'; at: number; key: string; text: string }
  | { op: 'delete'; at: number }
  | { op: 'manyKeys'; at: number; count: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text: hostileValueText }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('addKey' as const), at: fc.nat(), key: hostileKey, text: hostileValueText }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('manyKeys' as const), at: fc.nat(), count: fc.constantFrom(65, 500) }),
  },
);

const SENTINEL = '\u0001hostile\u0001';
type Container = Record<string, unknown> | unknown[];
type Slot = { parent: Container | null; key: string | number | null; value: unknown };

/** Every value in `root` (the root itself first), breadth-first, with where it sits. */
function slots(root: unknown): Slot[] {
  const out: Slot[] = [{ parent: null, key: null, value: root }];
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!.value;
    if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v))
        out.push({ parent: v as Container, key: Array.isArray(v) ? Number(k) : k, value: child });
    }
  }
  return out;
}

const define = (o: Record<string, unknown>, key: string, value: unknown): void =>
  void Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });

/**
 * `base` (a valid-shaped JSON value) with `m` applied at the value it selects (`at` modulo the
 * number of values, the root included), as JSON text.
 */
export function mutate(base: unknown, m: Mutation): string {
  const clone = JSON.parse(JSON.stringify(base)) as unknown;
  const all = slots(clone);
  const slot = all[m.at % all.length]!;
  let splice: string | null = null;
  switch (m.op) {
    case 'replace':
      if (slot.parent === null) return m.text;
      if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = SENTINEL;
      else define(slot.parent, slot.key as string, SENTINEL);
      splice = m.text;
      break;
    case 'addKey': {
      const objects = all.filter((s) => s.value !== null && typeof s.value === 'object' && !Array.isArray(s.value));
      const target = objects[m.at % Math.max(objects.length, 1)];
      if (!target) return m.text;
      define(target.value as Record<string, unknown>, m.key, SENTINEL);
      splice = m.text;
      break;
    }
    case 'delete':
      if (slot.parent === null) return '';
      if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete slot.parent[slot.key as string];
      break;
    case 'manyKeys': {
      const objects = all.filter((s) => s.value !== null && typeof s.value === 'object' && !Array.isArray(s.value));
      const target = objects[m.at % Math.max(objects.length, 1)];
      if (target) for (let i = 0; i < m.count; i++) define(target.value as Record<string, unknown>, `extra${i}`, i);
      break;
    }
  }
  const text = JSON.stringify(clone);
  return splice === null ? text : text.replace(JSON.stringify(SENTINEL), () => splice);
}

/** Whole-text damage: cut short, or not JSON at all. */
export type Damage = { kind: 'none' } | { kind: 'truncate'; at: number } | { kind: 'garbage'; text: string };
export const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('garbage' as const),
      text: fc.oneof(
        fc.constantFrom(
          '',
          '{',
          '}',
          '[',
          '{"a":',
          'null',
          '"',
          '\\',
          '{"type":',
          '\u0000',
          '\ufeff{}',
          '{"a":1}{"b":2}',
          '{"a":1,}',
        ),
        fc.string({ unit: 'binary', maxLength: 100 }),
      ),
    }),
  },
);

export function applyDamage(text: string, d: Damage): string {
  if (d.kind === 'truncate') return text.slice(0, d.at % Math.max(text.length, 1));
  if (d.kind === 'garbage') return d.text;
  return text;
}
