/**
 * The query of `GET /v1/tenants/{tenant}/me/search`, checked whole before anything is looked up:
 * every refusal is a 400 naming the parameter (decision 0047).
 */
import { describeValue } from '../../vocabulary/describe.js';
import { isRoomKind, roomSlugProblem, slugProblem, type RoomKind } from '../../vocabulary/ids.js';
import { roomKindMessage } from '../../vocabulary/room-rules.js';
import { ApiError } from '../errors.js';

export const SEARCH_Q_MAX = 200;
export const SEARCH_LIMIT_MAX = 50;
export const SEARCH_LIMIT_DEFAULT = 10;
/** At most this many `room` and this many `sender` filters. */
export const SEARCH_FILTERS_MAX = 20;

/** A room filter: the platform's name for it, or a Matrix room id. */
export type RoomFilter = { kind: RoomKind; slug: string } | { roomId: string };
/** A sender filter: a user slug of the tenant, or a Matrix user id (someone of another client). */
export type SenderFilter = { userSlug: string } | { userId: string };

export interface SearchInput {
  /** The words as given, trimmed. */
  q: string;
  rooms: RoomFilter[];
  senders: SenderFilter[];
  /** Milliseconds since the epoch, inclusive; null: unbounded. */
  from: number | null;
  to: number | null;
  limit: number;
  cursor: string | null;
}

const WORD = /[\p{L}\p{N}_-]+/gu;
/** `!opaque:server`, or `!opaque` alone (room version 12). */
const ROOM_ID = /^![^\s:]{1,255}(:[^\s]{1,255})?$/;
const USER_ID = /^@[^\s:]{1,255}:[^\s]{1,255}$/;
/** An ISO 8601 date (read as UTC midnight) or date-time with a zone; or milliseconds since the epoch. */
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,1024}$/;

const bad = (message: string): ApiError => new ApiError('M_INVALID_PARAM', message);

const TERM_WORD = /[\p{L}\p{N}_]+/gu;
const STOP_WORDS = new Set(['the', 'a', 'you', 'me', 'and', 'but']);
const wordsOf = (text: string): string[] => (text.match(TERM_WORD) ?? []).filter((w) => !STOP_WORDS.has(w));

/**
 * The query as it is sent to the homeserver, in a form its parser cannot fail on (null: nothing to
 * look for): lower case (upper-case AND, OR, NOT, NEAR are SQLite FTS operators), words and
 * "phrases" first with `or` only between two of them, exclusions (`-word`) after them (SQLite's NOT
 * is binary: a query may not start with one), a hyphenated word as the phrase of its parts, and stop
 * words dropped as Synapse drops them. Synapse sends a dangling `or` or a leading exclusion to
 * SQLite as is, which answers a syntax error (a 500).
 */
export function canonicalQuery(q: string): string | null {
  const terms: string[] = [];
  const excluded: string[] = [];
  const term = (words: string[]) => (words.length === 1 ? words[0]! : `"${words.join(' ')}"`);
  q.toLowerCase()
    .split('"')
    .forEach((part, i) => {
      if (i % 2 === 1) {
        const words = wordsOf(part);
        if (words.length) terms.push(term(words));
        return;
      }
      for (const raw of part.match(WORD) ?? []) {
        if (raw === 'or') {
          if (terms.length && terms[terms.length - 1] !== 'or') terms.push('or');
          continue;
        }
        const words = wordsOf(raw);
        if (words.length) (raw.startsWith('-') ? excluded : terms).push(term(words));
      }
    });
  while (terms[terms.length - 1] === 'or') terms.pop();
  if (terms.length === 0) return null;
  return [...terms, ...excluded.map((t) => `-${t}`)].join(' ');
}

/** Why `q` cannot be searched for, or null. A query must have a word to look for, not only exclusions. */
export function queryProblem(q: string): string | null {
  if (q.length === 0) return 'q must not be empty';
  if (q.length > SEARCH_Q_MAX) return `q is longer than ${SEARCH_Q_MAX} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(q)) return 'q must not contain control characters';
  if (canonicalQuery(q) === null)
    return `q ${describeValue(q)} has no word to search for (stop words such as "the" and excluded -words do not count)`;
  return null;
}

function roomFilter(raw: string): RoomFilter {
  if (raw.startsWith('!')) {
    if (!ROOM_ID.test(raw)) throw bad(`room ${describeValue(raw)} is not a Matrix room id`);
    return { roomId: raw };
  }
  const [kind, slug, ...rest] = raw.split('/');
  if (slug === undefined || rest.length > 0)
    throw bad(`room ${describeValue(raw)} must be "kind/slug" (e.g. event/launch) or a room id`);
  if (!isRoomKind(kind!)) throw bad(`room ${describeValue(raw)}: ${roomKindMessage(kind!)}`);
  const problem = roomSlugProblem(kind, slug);
  if (problem) throw bad(`room ${describeValue(raw)}: ${problem}`);
  return { kind, slug };
}

function senderFilter(raw: string): SenderFilter {
  if (raw.startsWith('@')) {
    if (!USER_ID.test(raw)) throw bad(`sender ${describeValue(raw)} is not a Matrix user id`);
    return { userId: raw };
  }
  const problem = slugProblem(raw, 'sender');
  if (problem) throw bad(problem);
  return { userSlug: raw };
}

/** A time bound: an ISO 8601 date or date-time, or milliseconds since the epoch. */
export function readTime(raw: string, name: 'from' | 'to'): number {
  let ms: number;
  if (/^\d{1,15}$/.test(raw)) ms = Number(raw);
  else if (ISO.test(raw)) ms = Date.parse(raw.length === 10 ? `${raw}T00:00:00Z` : raw);
  else ms = Number.NaN;
  if (!Number.isFinite(ms))
    throw bad(
      `${name} ${describeValue(raw)} is not a time: use ISO 8601 (2026-01-31, 2026-01-31T18:00:00Z) or milliseconds since the epoch`,
    );
  return ms;
}

/**
 * Reads the query parameters. `one(name)`: the single value (undefined when absent); `all(name)`:
 * every value of a repeatable parameter.
 */
export function readSearchInput(
  one: (name: string) => string | undefined,
  all: (name: string) => string[],
): SearchInput {
  const q = (one('q') ?? '').trim();
  const qProblem = queryProblem(q);
  if (qProblem) throw bad(qProblem);
  const roomsRaw = all('room');
  const sendersRaw = all('sender');
  for (const [name, values] of [
    ['room', roomsRaw],
    ['sender', sendersRaw],
  ] as const)
    if (values.length > SEARCH_FILTERS_MAX)
      throw bad(`at most ${SEARCH_FILTERS_MAX} "${name}" filters, not ${values.length}`);
  const fromRaw = one('from');
  const toRaw = one('to');
  const from = fromRaw === undefined ? null : readTime(fromRaw, 'from');
  const to = toRaw === undefined ? null : readTime(toRaw, 'to');
  if (from !== null && to !== null && from > to)
    throw bad(`from (${new Date(from).toISOString()}) is after to (${new Date(to).toISOString()})`);
  const limitRaw = one('limit') ?? String(SEARCH_LIMIT_DEFAULT);
  if (!/^\d{1,3}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > SEARCH_LIMIT_MAX)
    throw bad(`limit must be a whole number from 1 to ${SEARCH_LIMIT_MAX}`);
  const cursor = one('cursor') ?? null;
  if (cursor !== null && !CURSOR_PATTERN.test(cursor)) throw bad('cursor must be the "next" of a previous page');
  return {
    q,
    rooms: roomsRaw.map(roomFilter),
    senders: sendersRaw.map(senderFilter),
    from,
    to,
    limit: Number(limitRaw),
    cursor,
  };
}
