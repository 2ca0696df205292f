/**
 * Bounded descriptions of values a client sent, for error messages and logs (issue #15): a client's
 * value is never stringified whole. Pure (no Node built-ins), so workflow code may use it too, and
 * deterministic: the same value is always described the same way.
 */

/** Strings longer than this are cut in descriptions (the description says how long they were). */
export const DESCRIBED_STRING_MAX = 64;
/** Lists of names (unknown fields, for example) show at most this many, then say how many more. */
export const DESCRIBED_NAMES_MAX = 3;

/** A string quoted as JSON, cut after `max` characters (never inside a surrogate pair). */
export function quoteBounded(s: string, max = DESCRIBED_STRING_MAX): string {
  if (s.length <= max) return JSON.stringify(s);
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${JSON.stringify(s.slice(0, end))}… (${s.length} characters)`;
}

/**
 * A client's value as an error message may show it: strings quoted and cut (as `quoteBounded`),
 * short numbers, booleans and null as JSON; anything else named by its type. For the short strings
 * and numbers of ordinary mistakes this is exactly what `JSON.stringify` gives.
 */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return quoteBounded(v);
    case 'number': {
      const text = JSON.stringify(v);
      return Number.isFinite(v) && text.length <= 24 ? text : 'a number';
    }
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'nothing';
    case 'object':
      if (v === null) return 'null';
      return Array.isArray(v) ? 'an array' : 'an object';
    default:
      return `a ${typeof v}`;
  }
}

/** Names (e.g. unknown fields) as a message lists them: at most `max`, each quoted and cut, then how many more. */
export function describeNames(names: readonly string[], max = DESCRIBED_NAMES_MAX): string {
  const shown = names.slice(0, max).map((n) => quoteBounded(n));
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ');
}
