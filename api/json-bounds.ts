/**
 * Bounded JSON (issue #15, decision 0021): what a client sends is measured before it is parsed.
 * A linear, non-recursive pre-scan of the raw text enforces a nesting depth, members per object,
 * items per array, string length and number length, so nothing parsed from a client can be too deep
 * for the recursive code after it (`JSON.stringify`, validators, PostgreSQL's jsonb) or large enough
 * to make error messages and logs unbounded. Only then is the text parsed; client bodies and frames
 * also refuse `__proto__` and `constructor.prototype` keys (secure-json-parse).
 */
import sjson from 'secure-json-parse';

export interface JsonBounds {
  /** Containers (objects and arrays) nested in each other, the outermost counting 1. */
  readonly maxDepth: number;
  /** Members of one object. */
  readonly maxMembers: number;
  /** Items of one array. */
  readonly maxItems: number;
  /** Characters (UTF-16 code units, as JavaScript counts them) of one string or key, once unescaped. */
  readonly maxStringLength: number;
  /** Characters of one number as written; numbers that are not finite as doubles are refused too. */
  readonly maxNumberLength: number;
  /** Objects with a `__proto__` key, or a `constructor` holding a `prototype`, are refused. */
  readonly refusePrototypeKeys: boolean;
  /**
   * Strings with a lone surrogate (an escape like `\ud800` not part of a pair) are refused: they
   * are not Unicode, and the homeserver fails on them (a 500, retried for ever).
   */
  readonly refuseLoneSurrogates: boolean;
}

/**
 * HTTP bodies (`readJsonObject`) and WebSocket frames. The real shapes are at most 4 levels deep,
 * with a handful of fields, two-item arrays and strings of at most 16,000 characters (a message).
 */
export const CLIENT_JSON_BOUNDS: JsonBounds = Object.freeze({
  maxDepth: 16,
  maxMembers: 64,
  maxItems: 1_000,
  maxStringLength: 32_768,
  maxNumberLength: 32,
  refusePrototypeKeys: true,
  refuseLoneSurrogates: true,
});

/**
 * The codec endpoint (`/codec/*`): the Temporal UI sends a whole history's payloads (proto-JSON,
 * 3 levels deep) in one body of up to 8 MiB, each payload's data one long base64 string.
 */
export const CODEC_JSON_BOUNDS: JsonBounds = Object.freeze({
  ...CLIENT_JSON_BOUNDS,
  maxMembers: 1_000,
  maxItems: 1_000_000,
  maxStringLength: 16 * 1024 * 1024,
});

/**
 * Appservice transactions: only what cannot be walked safely is refused, since a transaction that
 * is not answered 200 is retried by the homeserver forever and blocks every one behind it. Event
 * content is any user's JSON, so its size is not ours to bound (the body limit bounds the whole)
 * and prototype keys are kept as plain data. Synapse cannot produce an event nested deeper than
 * Python's recursion limit (about 1,000: its JSON parser and its canonical-JSON check recurse), a
 * transaction puts an event's content 4 levels down, and `JSON.stringify` (the transaction digest,
 * the stored row) fails beyond about 4,100 levels: 2,048 is twice the one and half the other.
 */
export const TRANSACTION_JSON_BOUNDS: JsonBounds = Object.freeze({
  maxDepth: 2_048,
  maxMembers: Infinity,
  maxItems: Infinity,
  maxStringLength: Infinity,
  maxNumberLength: Infinity,
  refusePrototypeKeys: false,
  // Stored as U+FFFD (jsonForPg): content is the user's, and refusing it would block the log.
  refuseLoneSurrogates: false,
});

export type JsonProblemCode = 'M_NOT_JSON' | 'M_BAD_JSON' | 'M_TOO_LARGE';

/** Why a JSON text was refused; `message` names the bound (it never quotes the text). */
export class JsonBoundsError extends Error {
  constructor(
    readonly errcode: JsonProblemCode,
    message: string,
  ) {
    super(message);
    this.name = 'JsonBoundsError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const MINUS = 0x2d;
const U = 0x75;

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
/** The code unit a `\uXXXX` escape at `i` (the backslash) stands for, or -1 when there is none. */
function escapedUnit(text: string, i: number): number {
  if (text.charCodeAt(i) !== BACKSLASH || text.charCodeAt(i + 1) !== U) return -1;
  const hex = text.slice(i + 2, i + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? parseInt(hex, 16) : -1;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
/** Characters a JSON number token may hold: digits, sign, point, exponent. */
const isNumberChar = (c: number): boolean =>
  isDigit(c) || c === MINUS || c === 0x2b || c === 0x2e || (c | 0x20) === 0x65;

const plural = (n: number, one: string, many: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * Checks `text` against `bounds` in one pass without recursion, and throws a `JsonBoundsError`
 * naming the first bound it exceeds. Text that is not JSON is left for the parser to refuse (the
 * scan stops where it stops making sense).
 */
export function scanJson(text: string, bounds: JsonBounds, what = 'the JSON'): void {
  const { maxDepth, maxMembers, maxItems, maxStringLength, maxNumberLength, refuseLoneSurrogates } = bounds;
  const lone = (): JsonBoundsError =>
    new JsonBoundsError('M_BAD_JSON', `${what} holds a lone surrogate: its strings must be valid Unicode`);
  // Per open container: whether it is an object, and how many commas it has seen so far.
  const isObject: boolean[] = [];
  const commas: number[] = [];
  let depth = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let length = 0;
      let j = i + 1;
      for (;;) {
        if (j >= n) return; // unterminated: not JSON
        const d = text.charCodeAt(j);
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          if (text.charCodeAt(j + 1) !== U) j += 2;
          else {
            if (refuseLoneSurrogates) {
              const unit = escapedUnit(text, j);
              if (isLow(unit)) throw lone();
              if (isHigh(unit)) {
                // A pair is two code units, both escaped: counted here, and skipped together.
                if (!isLow(escapedUnit(text, j + 6))) throw lone();
                j += 6;
                length += 1;
              }
            }
            j += 6;
          }
        } else {
          if (refuseLoneSurrogates && (isLow(d) || (isHigh(d) && !isLow(text.charCodeAt(j + 1))))) throw lone();
          // A raw pair: both units at once, so the second is not taken for a lone one.
          if (isHigh(d) && isLow(text.charCodeAt(j + 1))) {
            j += 1;
            length += 1;
          }
          j += 1;
        }
        length += 1;
        if (length > maxStringLength)
          throw new JsonBoundsError(
            'M_TOO_LARGE',
            `${what} holds a string longer than ${plural(maxStringLength, 'character', 'characters')}`,
          );
      }
      i = j + 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth += 1;
      if (depth > maxDepth)
        throw new JsonBoundsError('M_BAD_JSON', `${what} is nested deeper than ${plural(maxDepth, 'level', 'levels')}`);
      isObject[depth] = c === OPEN_OBJECT;
      commas[depth] = 0;
      i += 1;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 0) return; // unbalanced: not JSON
      depth -= 1;
      i += 1;
    } else if (c === COMMA) {
      if (depth > 0) {
        const count = (commas[depth] = commas[depth]! + 1) + 1;
        if (isObject[depth] && count > maxMembers)
          throw new JsonBoundsError(
            'M_TOO_LARGE',
            `${what} has an object of more than ${plural(maxMembers, 'member', 'members')}`,
          );
        if (!isObject[depth] && count > maxItems)
          throw new JsonBoundsError(
            'M_TOO_LARGE',
            `${what} has an array of more than ${plural(maxItems, 'item', 'items')}`,
          );
      }
      i += 1;
    } else if (c === MINUS || isDigit(c)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j += 1;
      if (j - i > maxNumberLength)
        throw new JsonBoundsError(
          'M_TOO_LARGE',
          `${what} holds a number longer than ${plural(maxNumberLength, 'character', 'characters')}`,
        );
      if (maxNumberLength !== Infinity && Math.abs(Number(text.slice(i, j))) === Infinity)
        throw new JsonBoundsError('M_TOO_LARGE', `${what} holds a number too large for a double`);
      i = j;
    } else {
      i += 1;
    }
  }
}

/**
 * Parses JSON text from a client within `bounds`: the pre-scan first, then the parser, then (where
 * the bounds say so) the prototype-key check. Throws `JsonBoundsError` (M_NOT_JSON for text that is
 * not JSON); never anything else, whatever the text.
 */
export function parseBoundedJson(text: string, bounds: JsonBounds, what = 'the JSON'): unknown {
  scanJson(text, bounds, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JsonBoundsError('M_NOT_JSON', `${what} is not valid JSON`);
  }
  if (bounds.refusePrototypeKeys && value !== null && typeof value === 'object') {
    try {
      // Walks the parsed value breadth-first (no recursion), only when the text mentions such a key.
      sjson.scan(value, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      throw new JsonBoundsError(
        'M_BAD_JSON',
        `${what} has a "__proto__" or "constructor.prototype" key, which is refused`,
      );
    }
  }
  return value;
}
