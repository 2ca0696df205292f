/**
 * Search on the real stack (decision 0047): alice is in rooms A and B, not C, and every room has
 * matches. She finds only A's and B's; the room, sender and date filters narrow exactly; cursor
 * pages give every match once; the better match ranks first; highlights mark the matched words.
 * Runs in both identity modes (jest.appservice.config.js).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('search');
// Many searches as one user in a few seconds: above the per-user HTTP limit this file does not test.
const config = testConfig({
  TEMPORAL_TASK_QUEUE: taskQueue,
  API_WAIT_MS: '60000',
  RELAY_HTTP_RATE_PER_SECOND: '1000',
  RELAY_HTTP_RATE_BURST: '1000',
});
const tenant = uniqueTenant('search');
// A word no other test writes: the homeserver's index is shared by every tenant on the stack.
const K = `quokka${randomBytes(4).toString('hex')}`;
let worker: RunningProcess;
let api: TestApi;
const tokens: Record<string, string> = {};
const rooms: Record<string, string> = {};

interface Result {
  eventId: string;
  roomId: string;
  room: { kind: string; slug: string } | null;
  sender: string;
  senderSlug: string | null;
  ts: number;
  body: string;
  rank: number;
  highlights: { start: number; end: number }[];
}
interface Page {
  results: Result[];
  highlights: string[];
  count: number;
  capped: boolean;
  next: string | null;
  errcode?: string;
  error?: string;
}

/** [room, sender, body]: K in every room; the A message with K three times is the best match. */
const MESSAGES: [string, string, string][] = [
  ['a', 'bob', `${K} once, among many other words that say little about anything at all`],
  ['a', 'alice', `${K} ${K} ${K}: the launch plan`],
  ['b', 'carol', `Carol on ${K} in B, with more words after it to dilute the match`],
  ['b', 'alice', `Alice says ${K}-day is Friday`],
  ['b', 'carol', `And again ${K} from carol, in room b, with plenty of filler words here`],
  ['c', 'bob', `${K} ${K} ${K} ${K} in C, where alice is not`],
  ['c', 'carol', `${K} also in C`],
];
const sent: Record<string, { room: string; sender: string; body: string }> = {};

async function search(
  token: string,
  query: Record<string, string | string[]>,
): Promise<{ status: number; body: Page }> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of [v].flat()) params.append(k, one);
  const res = await api.get(`/v1/tenants/${tenant}/me/search?${params}`, token);
  return { status: res.status, body: (await res.json()) as Page };
}

/** Every result of a search, page by page. */
async function allPages(token: string, query: Record<string, string>, limit: number): Promise<Result[]> {
  const out: Result[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const page: { status: number; body: Page } = await search(token, {
      ...query,
      limit: String(limit),
      ...(cursor ? { cursor } : {}),
    });
    expect(page.status).toBe(200);
    expect(page.body.results.length).toBeLessThanOrEqual(limit);
    out.push(...page.body.results);
    if (!page.body.next) return out;
    cursor = page.body.next;
  }
  throw new Error('more than 50 pages');
}

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  rooms.a = await eventRoomWith(api, tenant, 'a', ['alice', 'bob']);
  rooms.b = await eventRoomWith(api, tenant, 'b', ['alice', 'carol']);
  rooms.c = await eventRoomWith(api, tenant, 'c', ['bob', 'carol']);
  for (const u of ['alice', 'bob', 'carol']) tokens[u] = await userToken(config, tenant, u);
  for (const [room, sender, body] of MESSAGES) {
    const res = await api.post(
      `/v1/tenants/${tenant}/rooms/event/${room}/messages`,
      { txnId: randomUUID(), body },
      tokens[sender],
    );
    expect(res.status).toBe(200);
    sent[((await res.json()) as { eventId: string }).eventId] = { room, sender, body };
  }
}, 240_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

const idsOf = (results: Result[]) => results.map((r) => r.eventId).sort();
const sentWhere = (pred: (m: { room: string; sender: string }) => boolean) =>
  Object.entries(sent)
    .filter(([, m]) => pred(m))
    .map(([id]) => id)
    .sort();

describe('GET /v1/tenants/{tenant}/me/search', () => {
  it('finds matches only in the rooms the user is in, the better match first', async () => {
    const { status, body } = await search(tokens.alice!, { q: K, limit: '50' });
    expect(status).toBe(200);
    expect(idsOf(body.results)).toEqual(sentWhere((m) => m.room !== 'c'));
    expect(body.results.some((r) => r.roomId === rooms.c)).toBe(false);
    // Room C does have matches: bob, who is in it, finds them.
    const bob = await search(tokens.bob!, { q: K, limit: '50' });
    expect(idsOf(bob.body.results)).toEqual(sentWhere((m) => m.room !== 'b'));
    // Ranked: K three times beats every single mention.
    expect(sent[body.results[0]!.eventId]!.body).toBe(`${K} ${K} ${K}: the launch plan`);
    const ranks = body.results.map((r) => r.rank);
    expect(ranks).toEqual([...ranks].sort((x, y) => y - x));
    expect(body.results[0]!.rank).toBeGreaterThan(body.results[body.results.length - 1]!.rank);
    expect(body.results[0]).toMatchObject({ room: { kind: 'event', slug: 'a' }, senderSlug: 'alice', roomId: rooms.a });
  });

  it('marks the matched words in each body', async () => {
    const { body } = await search(tokens.alice!, { q: K, limit: '50' });
    for (const r of body.results) {
      expect(r.highlights.length).toBeGreaterThan(0);
      for (const h of r.highlights) expect(r.body.slice(h.start, h.end).toLowerCase()).toBe(K);
    }
    const best = body.results[0]!;
    expect(best.highlights).toHaveLength(3);
    // A phrase is marked whole (the homeserver drops stop words such as "the" from it).
    const phrase = await search(tokens.alice!, { q: `${K} "the launch plan"` });
    expect(phrase.body.results).toHaveLength(1);
    const hit = phrase.body.results[0]!;
    // The homeserver's highlight terms: the phrase on SQLite; its words, as PostgreSQL matched them
    // (STACK_SYNAPSE_DB=postgres), on PostgreSQL.
    const phraseMarks = process.env.STACK_SYNAPSE_DB === 'postgres' ? ['launch', 'plan'] : ['launch plan'];
    expect(hit.highlights.map((h) => hit.body.slice(h.start, h.end))).toEqual([K, K, K, ...phraseMarks]);
  });

  it('filters by room, by sender, and by both', async () => {
    const inA = await search(tokens.alice!, { q: K, room: 'event/a', limit: '50' });
    expect(idsOf(inA.body.results)).toEqual(sentWhere((m) => m.room === 'a'));
    const byRoomId = await search(tokens.alice!, { q: K, room: [rooms.b!, 'event/a'], limit: '50' });
    expect(idsOf(byRoomId.body.results)).toEqual(sentWhere((m) => m.room !== 'c'));
    const carol = await search(tokens.alice!, { q: K, sender: 'carol', limit: '50' });
    expect(idsOf(carol.body.results)).toEqual(sentWhere((m) => m.room === 'b' && m.sender === 'carol'));
    // Read newest first from the homeserver (decision 0047), still answered best first.
    const carolRanks = carol.body.results.map((r) => r.rank);
    expect(carolRanks).toEqual([...carolRanks].sort((x, y) => y - x));
    const both = await search(tokens.alice!, { q: K, sender: ['alice', 'bob'], room: 'event/a', limit: '50' });
    expect(idsOf(both.body.results)).toEqual(sentWhere((m) => m.room === 'a'));
    const none = await search(tokens.alice!, { q: K, sender: 'carol', room: 'event/a' });
    expect(none.body.results).toEqual([]);
  });

  it('filters by date range, bounds included', async () => {
    const all = (await search(tokens.alice!, { q: K, limit: '50' })).body.results.sort((x, y) => x.ts - y.ts);
    const times = [...new Set(all.map((r) => r.ts))];
    expect(times.length).toBeGreaterThan(2);
    const [lo, hi] = [times[1]!, times[times.length - 2]!];
    const expected = idsOf(all.filter((r) => r.ts >= lo && r.ts <= hi));
    const ranged = await search(tokens.alice!, { q: K, from: String(lo), to: String(hi), limit: '50' });
    expect(idsOf(ranged.body.results)).toEqual(expected);
    const iso = await search(tokens.alice!, {
      q: K,
      from: new Date(lo).toISOString(),
      to: new Date(hi).toISOString(),
      limit: '50',
    });
    expect(idsOf(iso.body.results)).toEqual(expected);
    const before = await search(tokens.alice!, { q: K, to: String(times[0]!), limit: '50' });
    expect(idsOf(before.body.results)).toEqual(idsOf(all.filter((r) => r.ts === times[0])));
    const after = await search(tokens.alice!, { q: K, from: String(hi + 1), limit: '50' });
    expect(idsOf(after.body.results)).toEqual(idsOf(all.filter((r) => r.ts > hi)));
    // Ranked within the range too.
    const ranks = ranged.body.results.map((r) => r.rank);
    expect(ranks).toEqual([...ranks].sort((x, y) => y - x));
  });

  it('pages through every match exactly once, in rank order', async () => {
    const whole = (await search(tokens.alice!, { q: K, limit: '50' })).body.results.map((r) => r.eventId);
    const paged = await allPages(tokens.alice!, { q: K }, 2);
    expect(paged.map((r) => r.eventId)).toEqual(whole);
    const rangedPaged = await allPages(tokens.alice!, { q: K, from: '0' }, 1);
    expect(rangedPaged.map((r) => r.eventId)).toEqual(whole);
  });

  it('with a service JWT, searches as the user it names', async () => {
    const { status, body } = await search(api.token, { q: K, userSlug: 'alice', limit: '50' });
    expect(status).toBe(200);
    expect(idsOf(body.results)).toEqual(sentWhere((m) => m.room !== 'c'));
    expect(await search(api.token, { q: K })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/userSlug/) },
    });
  });

  // Admin mode only: the appservice mode has no per-user token to refuse.
  (config.matrix.identityMode === 'admin' ? it : it.skip)(
    "renews the user's stored token when the homeserver refuses it, and answers",
    async () => {
      const store = createUserStore(api.db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
      const before = (await store.getCredential(tenant, 'carol'))!;
      await matrixRequest(config.matrix.homeserverUrl, {
        method: 'POST',
        path: '/_matrix/client/v3/logout',
        token: before.accessToken!,
        body: {},
      });
      const { status, body } = await search(tokens.carol!, { q: K, limit: '50' });
      expect(status).toBe(200);
      expect(idsOf(body.results)).toEqual(sentWhere((m) => m.room !== 'a'));
      expect((await store.getCredential(tenant, 'carol'))!.generation).toBe(before.generation + 1);
    },
    60_000,
  );

  it('answers hostile queries without a server error: FTS operators and syntax are words, or refused', async () => {
    for (const q of [
      `${K} NEAR(x y)`,
      `"${K}`,
      `${K}*`,
      `^${K}`,
      `((( ${K}`,
      `${K} OR`,
      `${K} AND NOT`,
      'NOT',
      `-${K} ${K}`,
      `${K}:x`,
      '🚀 émoji',
    ]) {
      const { status, body } = await search(tokens.alice!, { q });
      expect([q, status < 500, body.errcode ?? 'ok']).toEqual([q, true, status === 200 ? 'ok' : 'M_INVALID_PARAM']);
    }
    // The words are still found whatever surrounds them.
    expect((await search(tokens.alice!, { q: `((( ${K}*`, limit: '50' })).body.results).toHaveLength(5);
  });

  it('refuses a room the user is not in, an unknown room, bad filters and a foreign cursor', async () => {
    expect(await search(tokens.alice!, { q: K, room: 'event/c' })).toMatchObject({
      status: 403,
      body: { errcode: 'M_FORBIDDEN', error: 'alice is not joined to event c' },
    });
    expect(await search(tokens.alice!, { q: K, room: 'event/nowhere' })).toMatchObject({
      status: 400,
      body: { errcode: 'M_INVALID_PARAM', error: `room event/nowhere: no such room in tenant ${tenant}` },
    });
    for (const [query, error] of [
      [{ q: '' }, /q must not be empty/],
      [{ q: 'x'.repeat(201) }, /q is longer than 200/],
      [{ q: K, from: 'soon' }, /from "soon" is not a time/],
      [{ q: K, from: '2026-02-01', to: '2026-01-01' }, /is after to/],
      [{ q: K, limit: '0' }, /limit must be/],
    ] as const) {
      expect(await search(tokens.alice!, query)).toMatchObject({
        status: 400,
        body: { errcode: 'M_INVALID_PARAM', error: expect.stringMatching(error) },
      });
    }
    const first = await search(tokens.alice!, { q: K, limit: '1' });
    expect(first.body.next).toEqual(expect.any(String));
    expect(await search(tokens.alice!, { q: K, room: 'event/a', cursor: first.body.next! })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/belongs to another search/) },
    });
    expect((await search('', { q: K })).status).toBe(401);
  });
});
