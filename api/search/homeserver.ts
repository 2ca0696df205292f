/**
 * The homeserver's own search (`POST /_matrix/client/v3/search`), asked as the user through the
 * identity adapter (their token in admin mode, the appservice's assertion in appservice mode), so
 * the homeserver's membership and history-visibility rules decide what they may find (decision 0047).
 */
import type { ActingAs, Identity } from '../../adapters/identity/index.js';
import { authorized, matrixRequest } from '../../adapters/matrix/http.js';
import { FailureType } from '../../vocabulary/failures.js';
import { ApiError } from '../errors.js';
import type { Match } from './results.js';
import { renewingReads, type RenewCredential } from '../renewing-reads.js';

/**
 * The most matches one search considers: Synapse ranks at most its 500 best matches (its own
 * `LIMIT 500`), so ranked search cannot reach past them; a date range is read newest first up to
 * the same number.
 */
export const SEARCH_CANDIDATES_MAX = 500;
/** Pages of the homeserver's newest-first search read for one date-range search. */
const RANGE_READS_MAX = 4;
const TIMEOUT_MS = 10_000;

export interface SearchAsk {
  tenant: string;
  userSlug: string;
  /** The query in its canonical form (input.ts canonicalQuery): nothing the homeserver's parser fails on. */
  term: string;
  roomIds: string[] | null;
  senderIds: string[] | null;
  from: number | null;
  to: number | null;
}

export interface Found {
  matches: Match[];
  /** The terms the homeserver says to highlight (query words; stemmed forms as found, on PostgreSQL). */
  highlights: string[];
  /** Matches in the user's rooms as the homeserver counts them (before visibility is applied). */
  count: number;
  /** True when there were more matches than SEARCH_CANDIDATES_MAX: only the best (or newest in range) are paged. */
  capped: boolean;
}

interface SearchAnswer {
  search_categories?: {
    room_events?: {
      results?: { rank?: number; result?: Record<string, unknown> }[];
      highlights?: string[];
      count?: number;
      next_batch?: string;
    };
  };
}

function toMatch(r: { rank?: number; result?: Record<string, unknown> }): Match | null {
  const ev = r.result as
    | {
        event_id?: unknown;
        room_id?: unknown;
        sender?: unknown;
        origin_server_ts?: unknown;
        content?: Record<string, unknown>;
      }
    | undefined;
  const body = ev?.content?.body;
  if (!ev || typeof ev.event_id !== 'string' || typeof body !== 'string') return null;
  return {
    eventId: ev.event_id,
    roomId: String(ev.room_id),
    sender: String(ev.sender),
    ts: Number(ev.origin_server_ts),
    body,
    msgtype: typeof ev.content?.msgtype === 'string' ? ev.content.msgtype : 'm.text',
    rank: typeof r.rank === 'number' ? r.rank : 0,
  };
}

/** Rounds Synapse's newest-first search reads (2 × limit rows each) before it answers with what it has. */
const SYNAPSE_RECENT_ROUNDS = 5;

/**
 * Whether a newest-first answer without a next_batch may still leave older matches unread. Synapse
 * gives a next_batch only when it filled the limit; when its filters (sender, visibility) keep fewer
 * than that in its 5 rounds of 2 × limit rows, it answers without one, older matches or not. Only a
 * count of matches within those rounds' reach says the end was reached.
 */
export function mayHaveStoppedEarly(r: { returned: number; asked: number; count: number; next: string | null }) {
  return r.next === null && r.returned < r.asked && r.count > SYNAPSE_RECENT_ROUNDS * 2 * r.asked;
}

/**
 * Synapse's pagination token of newest-first search is base64("all\n\n{ts},{stream}") and resumes
 * strictly before that point: `{to + 1},0` starts at the newest match at or before `to`.
 */
export const recentStartingAt = (to: number): string =>
  Buffer.from(`all\n\n${to + 1},0`)
    .toString('base64')
    .replace(/=+$/, '');

/** An activity failure from `identity.actAs`, as the HTTP caller is told. */
export function searchRefusal(err: unknown): never {
  const f = err as { type?: string; message?: string; details?: unknown[] };
  const why = f?.message ?? String(err);
  switch (f?.type) {
    case FailureType.RateLimited:
      throw new ApiError('M_LIMIT_EXCEEDED', `the homeserver is limiting this user's searches: ${why}`);
    case FailureType.Forbidden:
      throw new ApiError('M_FORBIDDEN', `the homeserver refused the search: ${why}`);
    case FailureType.UserNotManaged:
      throw new ApiError('OM_USER_NOT_MANAGED', why);
    case FailureType.Unavailable:
    case FailureType.ServerError:
    case FailureType.UnknownToken:
      throw new ApiError('OM_UNAVAILABLE', `the homeserver could not search now; retry later (${why})`);
    default:
      if (f?.type) throw new ApiError('OM_UPSTREAM_FAILED', `the homeserver refused the search: ${why}`);
      throw err;
  }
}

export function createSearchHomeserver(identity: Identity, homeserverUrl: string, renew?: RenewCredential) {
  // A refused token (admin mode) is renewed by the user's re-auth workflow, then the search asked again.
  const reads = renewingReads(identity, renew);
  const asUser = <T>(a: SearchAsk, fn: (as: ActingAs) => Promise<T>): Promise<T> =>
    reads.actAs({ tenant: a.tenant, slug: a.userSlug }, fn);

  async function ask(a: SearchAsk, orderBy: 'rank' | 'recent', batch?: string) {
    const filter: Record<string, unknown> = { limit: SEARCH_CANDIDATES_MAX };
    if (a.roomIds) filter.rooms = a.roomIds;
    if (a.senderIds) filter.senders = a.senderIds;
    const body = {
      search_categories: { room_events: { search_term: a.term, keys: ['content.body'], order_by: orderBy, filter } },
    };
    const answer = await asUser<SearchAnswer>(a, (as) =>
      matrixRequest<SearchAnswer>(
        homeserverUrl,
        authorized(as, {
          method: 'POST',
          path: '/_matrix/client/v3/search',
          body,
          timeoutMs: TIMEOUT_MS,
          ...(batch ? { query: { next_batch: batch } } : {}),
        }),
      ),
    ).catch(searchRefusal);
    const cat = answer.search_categories?.room_events ?? {};
    const matches = (cat.results ?? []).map(toMatch).filter((m): m is Match => m !== null);
    return {
      matches,
      highlights: cat.highlights ?? [],
      count: cat.count ?? matches.length,
      next: cat.next_batch ?? null,
    };
  }

  return {
    /**
     * The matches the user may see, at most SEARCH_CANDIDATES_MAX: without a date range or a sender
     * filter the best ranked; with either, newest first from `to` back to `from` (each still carrying its rank).
     */
    async find(a: SearchAsk): Promise<Found> {
      // Synapse takes its 500 best matches before it filters by sender: with a sender filter, read
      // the matches newest first instead (its recent search filters as it goes), then rank them.
      if (a.from === null && a.to === null && a.senderIds === null) {
        const r = await ask(a, 'rank');
        return {
          matches: r.matches,
          highlights: r.highlights,
          count: r.count,
          capped: r.count > SEARCH_CANDIDATES_MAX,
        };
      }
      const matches: Match[] = [];
      const highlights = new Set<string>();
      let batch = a.to === null ? undefined : recentStartingAt(a.to);
      let count = 0;
      for (let read = 0; read < RANGE_READS_MAX; read++) {
        const r = await ask(a, 'recent', batch);
        count = r.count;
        r.highlights.forEach((h) => highlights.add(h));
        const inRange = r.matches.filter((m) => (a.from === null || m.ts >= a.from) && (a.to === null || m.ts <= a.to));
        matches.push(...inRange);
        const pastFrom = a.from !== null && r.matches.some((m) => m.ts < a.from!);
        if (matches.length >= SEARCH_CANDIDATES_MAX) {
          return { matches: matches.slice(0, SEARCH_CANDIDATES_MAX), highlights: [...highlights], count, capped: true };
        }
        // Synapse may have given up before the end (a sender's matches are sparse): say so, never
        // that these were all.
        const early = mayHaveStoppedEarly({
          returned: r.matches.length,
          asked: SEARCH_CANDIDATES_MAX,
          count,
          next: r.next,
        });
        if (pastFrom || r.next === null)
          return { matches, highlights: [...highlights], count, capped: !pastFrom && early };
        batch = r.next;
      }
      return { matches, highlights: [...highlights], count, capped: true };
    },
  };
}

export type SearchHomeserver = ReturnType<typeof createSearchHomeserver>;
