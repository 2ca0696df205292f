/**
 * Search (issue 19 #5): `messages` messages in `rooms` rooms (search-seed.ts, kept between runs by
 * search-corpus.ts), then the same queries one at a time as one user — who is in every room — through `GET …/me/search` (first
 * page of 10) and, the baseline, Synapse's own `POST /_matrix/client/v3/search` called directly as
 * that user (order_by rank, the same rooms/senders filter, a page of 10). Latency per query; p95 is
 * the figure the issue asks for. The check: every result of ours is in one of the user's rooms, has
 * highlights, and a query without a date range finds as many results as the direct one.
 */
import { SignJWT } from 'jose';
import { matrixRequest } from '../../adapters/matrix/http.js';
import type { Config } from '../../lib/config.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import type { ApiClient } from './clients.js';
import type { Track } from './provisioning.js';
import { corpusFor, type KeptCorpus } from './search-corpus.js';
import { membersOf, roomSlugOf, SEARCH_USERS, SEARCHER, SEND_CONCURRENCY, userSlug, word } from './search-seed.js';
import { compare, measurement, runPool, summarize, type Comparison, type Measurement } from './stats.js';
import { seededRandom } from '../../lib/seeded-random.js';

export interface SearchBenchOptions {
  config: Config;
  api: ApiClient;
  messages: number;
  rooms: number;
  queries: number;
  /** Seed anew even when the stack keeps a corpus of this size. */
  reseed: boolean;
  synapseDb: 'sqlite' | 'postgres';
  stackDir: string;
  runId: string;
  log: (msg: string) => void;
  track: Track;
}

interface Query {
  kind: string;
  q: string;
  room?: number;
  sender?: number;
  range?: boolean;
}

const KINDS = [
  'common word',
  'mid word',
  'rare word',
  'two words',
  'phrase',
  'room filter',
  'sender filter',
  'date range',
];

/** The queries, in a fixed rotation of kinds, from a seeded generator. */
function queries(n: number, rooms: number): Query[] {
  const random = seededRandom(n * 7 + rooms);
  const pick = (lo: number, hi: number) => word(lo + Math.floor(random() * (hi - lo)));
  const mine = Array.from({ length: rooms }, (_, r) => r).filter((r) => membersOf(r).includes(SEARCHER));
  return Array.from({ length: n }, (_, i): Query => {
    const kind = KINDS[i % KINDS.length]!;
    switch (kind) {
      case 'common word':
        return { kind, q: pick(0, 5) };
      case 'mid word':
        return { kind, q: pick(50, 150) };
      case 'rare word':
        return { kind, q: pick(800, 1500) };
      case 'two words':
        return { kind, q: `${pick(5, 40)} ${pick(5, 40)}` };
      case 'phrase':
        return { kind, q: `"${pick(0, 10)} ${pick(0, 10)}"` };
      case 'room filter':
        return { kind, q: pick(0, 20), room: mine[Math.floor(random() * mine.length)]! };
      case 'sender filter':
        return { kind, q: pick(0, 20), sender: 1 + Math.floor(random() * (SEARCH_USERS - 1)) };
      default:
        return { kind, q: pick(0, 20), range: true };
    }
  });
}

interface Answer {
  results: { roomId: string; highlights: unknown[] }[];
}

async function timed(list: readonly Query[], one: (q: Query, i: number) => Promise<number>) {
  const counts: number[] = new Array<number>(list.length);
  const ms: number[] = new Array<number>(list.length).fill(Number.NaN);
  const started = performance.now();
  const run = await runPool(list, 1, async (q, i) => {
    const t = performance.now();
    counts[i] = await one(q, i);
    ms[i] = performance.now() - t;
  });
  return { run, seconds: (performance.now() - started) / 1000, counts, ms };
}

/** p50 / p95 per kind of query, ours against direct: where the difference is. */
function byKind(list: readonly Query[], ours: readonly number[], direct: readonly number[]): string {
  const p = (xs: number[], q: number) => (xs.length ? summarize(xs)[q === 50 ? 'p50' : 'p95'].toFixed(0) : '–');
  return KINDS.map((kind) => {
    const of = (ms: readonly number[]) =>
      list.flatMap((q, i) => (q.kind === kind && !Number.isNaN(ms[i]) ? [ms[i]!] : []));
    const o = of(ours);
    const d = of(direct);
    return `${kind} ${p(o, 50)} / ${p(o, 95)} vs ${p(d, 50)} / ${p(d, 95)}`;
  }).join('; ');
}

export async function searchBench(o: SearchBenchOptions): Promise<Comparison> {
  const corpus: KeptCorpus = await corpusFor(o);
  const tenant = corpus.tenant;
  const { userPrefix, serverName, homeserverUrl, asToken } = o.config.matrix;
  const idOf = (u: number) => matrixUserId(userPrefix, serverName, tenant, userSlug(u));
  const myRooms = new Set(corpus.roomIds.filter((_, r) => membersOf(r).includes(SEARCHER)));
  const jwt = await new SignJWT({ tenant })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userSlug(SEARCHER))
    .setAudience(o.config.userJwt.audience)
    .setIssuedAt()
    .setExpirationTime('6h')
    .sign(o.config.userJwt.secret!);
  const list = queries(o.queries, o.rooms);
  const range = corpus.middleThird;
  const problems: string[] = [];

  o.log(`search: direct, ${list.length} queries one at a time`);
  const direct = await o.track(() =>
    timed(list, async (q) => {
      const filter: Record<string, unknown> = { limit: 10 };
      if (q.room !== undefined) filter.rooms = [corpus.roomIds[q.room]];
      if (q.sender !== undefined) filter.senders = [idOf(q.sender)];
      const body = {
        search_categories: {
          // Synapse has no date filter: a range is read newest first, as our route reads it.
          room_events: { search_term: q.q, keys: ['content.body'], order_by: q.range ? 'recent' : 'rank', filter },
        },
      };
      const r = await matrixRequest<{ search_categories: { room_events: { results?: unknown[] } } }>(homeserverUrl, {
        method: 'POST',
        path: '/_matrix/client/v3/search',
        token: asToken,
        query: { user_id: idOf(SEARCHER) },
        body,
        timeoutMs: 120_000,
      });
      return r.search_categories.room_events.results?.length ?? 0;
    }),
  );
  o.log(`search: API, the same ${list.length} queries`);
  const ours = await o.track(() =>
    timed(list, async (q, i) => {
      const p = new URLSearchParams({ q: q.q, limit: '10' });
      if (q.room !== undefined) p.set('room', `event/${roomSlugOf(q.room)}`);
      if (q.sender !== undefined) p.set('sender', userSlug(q.sender));
      if (q.range) {
        p.set('from', String(range.from));
        p.set('to', String(range.to));
      }
      const res = await fetch(`${o.api.baseUrl}/v1/tenants/${tenant}/me/search?${p}`, {
        headers: { authorization: `Bearer ${jwt}` },
        signal: AbortSignal.timeout(120_000),
      });
      const body = (await res.json()) as Answer;
      if (res.status !== 200)
        throw new Error(`query ${i} (${q.kind}): ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      for (const r of body.results) {
        if (!myRooms.has(r.roomId)) problems.push(`query ${i}: a result in ${r.roomId}, a room the user is not in`);
        if (r.highlights.length === 0) problems.push(`query ${i} (${q.q}): a result without highlights`);
      }
      return body.results.length;
    }),
  );
  list.forEach((q, i) => {
    // A range or a sender is read newest first on our side (decision 0047): it may find more than Synapse's ranked 500.
    if (!q.range && q.sender === undefined && ours.value.counts[i] !== direct.value.counts[i])
      problems.push(
        `query ${i} (${q.kind} "${q.q}"): ${ours.value.counts[i]} results, direct ${direct.value.counts[i]}`,
      );
  });
  for (const [side, t] of [
    ['direct', direct.value],
    ['api', ours.value],
  ] as const)
    for (const e of t.run.errors.slice(0, 3)) o.log(`  ${side} search error: ${String(e.error)}`);

  const m = (label: string, t: typeof ours.value): Measurement =>
    measurement(label, list.length - t.run.errors.length, t.seconds, t.run.latenciesMs, t.run.errors.length);
  const found = ours.value.counts.filter((c, i) => c > 0 && !ours.value.run.errors.some((e) => e.index === i)).length;
  return compare({
    id: 'search',
    title: `Search over ${o.messages} messages in ${o.rooms} rooms (issue 19 #5)`,
    unit: 'queries/s',
    params: { messages: o.messages, rooms: o.rooms, queries: list.length },
    ours: m('API', ours.value),
    baseline: m('direct', direct.value),
    metric: 'p99-ratio',
    goal: 2,
    cpu: { ours: ours.cores, direct: direct.cores },
    check: {
      ok: problems.length === 0 && corpus.sendErrors === 0,
      detail:
        problems.length === 0 && corpus.sendErrors === 0
          ? `every result in the user's rooms (${myRooms.size} of ${o.rooms}) with highlights; ${found} of ${list.length} queries found something; counts as direct where both rank`
          : [...(corpus.sendErrors ? [`${corpus.sendErrors} seed sends failed`] : []), ...problems]
              .slice(0, 5)
              .join('; '),
    },
    notes: [
      `Search: the corpus is ${o.messages} messages of 6–17 made-up words (Zipf over 2,000) in ${o.rooms} rooms of 5 members made through the API, on a Synapse storing in ${o.synapseDb === 'postgres' ? 'PostgreSQL (full-text search by tsvector/GIN, ranked by ts_rank_cd)' : 'SQLite (full-text search by FTS4)'}; ${corpus.reusedFrom ? `kept from an earlier run (seeded ${corpus.reusedFrom}, search-corpus.ts), which seeded it in` : 'seeded in'} ${corpus.seedSeconds.rooms.toFixed(0)} s (rooms and members) + ${corpus.seedSeconds.messages.toFixed(0)} s (messages: ${(o.messages / corpus.seedSeconds.messages).toFixed(0)} messages/s, round robin over the rooms, ${SEND_CONCURRENCY} PUTs at once each in another room, as their senders with the appservice's assertion). Then ${list.length} queries one at a time as a user in ${myRooms.size} rooms, in a rotation of ${KINDS.join(', ')}; ours \`GET …/me/search?limit=10\` with a user JWT, direct Synapse's \`POST /_matrix/client/v3/search\` as the same user (order_by rank, filter limit 10; the date-range queries order_by recent, as Synapse has no date filter). Ours asks Synapse for its 500 best matches to page them (decision 0047). p95: ours ${ours.value.run.latenciesMs.length ? m('API', ours.value).latency.p95.toFixed(0) : '–'} ms, direct ${m('direct', direct.value).latency.p95.toFixed(0)} ms. By kind, p50 / p95 ms ours vs direct: ${byKind(list, ours.value.ms, direct.value.ms)}.`,
    ],
  });
}
