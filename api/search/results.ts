/**
 * Ordering, paging and highlighting of search results: pure, over what the homeserver found
 * (api/search/homeserver.ts). Decision 0047.
 */
import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';

/** One match as the homeserver ranked it. */
export interface Match {
  eventId: string;
  roomId: string;
  sender: string;
  /** origin_server_ts, milliseconds since the epoch. */
  ts: number;
  body: string;
  msgtype: string;
  /** The homeserver's rank: higher is better (PostgreSQL ts_rank_cd, SQLite's FTS rank). */
  rank: number;
}

/** A matched stretch of `body`: [start, end) in UTF-16 code units, as JavaScript strings index. */
export interface Highlight {
  start: number;
  end: number;
}

/** The position after which the next page starts, and the search it belongs to. */
interface CursorKey {
  f: string;
  r: number;
  t: number;
  e: string;
}

/** Best first: rank, then newer, then event id, so that every match has one place and pages never overlap. */
export function compareMatches(a: Pick<Match, 'rank' | 'ts' | 'eventId'>, b: Pick<Match, 'rank' | 'ts' | 'eventId'>) {
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (a.ts !== b.ts) return b.ts - a.ts;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** A short digest of what was asked, so a cursor cannot be replayed against another search. */
export function searchFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 12);
}

export function encodeCursor(fingerprint: string, last: Match): string {
  const key: CursorKey = { f: fingerprint, r: last.rank, t: last.ts, e: last.eventId };
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

const badCursor = (why: string) => new ApiError('M_INVALID_PARAM', `cursor ${why}`);

export function decodeCursor(cursor: string, fingerprint: string): CursorKey {
  let key: Partial<CursorKey>;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorKey>;
  } catch {
    throw badCursor('is not the "next" of a previous page');
  }
  if (
    typeof key !== 'object' ||
    key === null ||
    typeof key.f !== 'string' ||
    typeof key.r !== 'number' ||
    typeof key.t !== 'number' ||
    typeof key.e !== 'string'
  )
    throw badCursor('is not the "next" of a previous page');
  if (key.f !== fingerprint)
    throw badCursor('belongs to another search (q and the filters must stay the same across pages)');
  return key as CursorKey;
}

/** One page of `matches` (any order): the best `limit` after the cursor's position, and the next cursor. */
export function pageOf(
  matches: readonly Match[],
  limit: number,
  fingerprint: string,
  cursor: string | null,
): { page: Match[]; next: string | null } {
  const sorted = [...matches].sort(compareMatches);
  const after = cursor ? decodeCursor(cursor, fingerprint) : null;
  const rest = after
    ? sorted.filter((m) => compareMatches({ rank: after.r, ts: after.t, eventId: after.e }, m) < 0)
    : sorted;
  const page = rest.slice(0, limit);
  const next = rest.length > limit ? encodeCursor(fingerprint, page[page.length - 1]!) : null;
  return { page, next };
}

const WORD_CHAR = '[\\p{L}\\p{N}_]';
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Where the homeserver's highlight terms (words, or phrases of several) occur in `body` as whole
 * words, ignoring case; overlapping or touching stretches merged. The words of a phrase may be
 * separated by any run of non-word characters, as the full-text index reads them.
 */
export function highlightRanges(body: string, terms: readonly string[]): Highlight[] {
  const found: Highlight[] = [];
  for (const term of terms) {
    const words = term.match(/[\p{L}\p{N}_]+/gu);
    if (!words) continue;
    const source = `(?<!${WORD_CHAR})${words.map(escapeRegExp).join(`(?:(?!${WORD_CHAR})[\\s\\S])+`)}(?!${WORD_CHAR})`;
    for (const m of body.matchAll(new RegExp(source, 'giu')))
      found.push({ start: m.index, end: m.index + m[0].length });
  }
  found.sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Highlight[] = [];
  for (const h of found) {
    const last = merged[merged.length - 1];
    if (last && h.start <= last.end) last.end = Math.max(last.end, h.end);
    else merged.push({ ...h });
  }
  return merged;
}
