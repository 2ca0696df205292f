/**
 * The search benchmark's corpus: `users` platform users, `rooms` event rooms made through the API
 * (each with its complete member list: the searching user, who is in every room, and 4 others, so
 * each other user is in about a fifth of the rooms), and `messages` messages sent straight to the
 * homeserver as their senders with the appservice's assertion (`?user_id=`, the appservice is not
 * rate limited), many at once, each send in flight in a room of its own (Synapse serializes the
 * events of one room). The words follow a Zipf law over a made-up vocabulary, from a seeded
 * generator, so the same size gives the same corpus (search-corpus.ts keeps it for the next run).
 */
import { enc, matrixRequest } from '../../adapters/matrix/http.js';
import type { Config } from '../../lib/config.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import type { ApiClient } from './clients.js';
import { runPool } from './stats.js';
import { seededRandom } from '../../lib/seeded-random.js';

export const SEARCH_USERS = 20;
const MEMBERS_PER_ROOM = 5;
const VOCABULARY = 2000;
/** Sends in flight while seeding, each in another room. */
export const SEND_CONCURRENCY = 64;
/** Room creations (room, then its member list, through the API) in flight while seeding. */
const ROOM_CONCURRENCY = 20;
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'so', 'vi', 'pe', 'da', 'gu', 'zo', 'ber', 'tin', 'mar', 'hol'];

/** Word of frequency rank `k` (0 = the most frequent): distinct made-up words of 2–4 syllables. */
export function word(k: number): string {
  const parts: string[] = [];
  let n = k + SYLLABLES.length;
  while (n > 0) {
    parts.push(SYLLABLES[n % SYLLABLES.length]!);
    n = Math.floor(n / SYLLABLES.length);
  }
  return parts.join('');
}

/** A Zipf sampler over VOCABULARY ranks. */
export function zipf(random: () => number): () => number {
  const cdf: number[] = [];
  let sum = 0;
  for (let k = 1; k <= VOCABULARY; k++) cdf.push((sum += 1 / k));
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export const userSlug = (u: number): string => `u${String(u).padStart(2, '0')}`;
export const roomSlugOf = (r: number): string => `s${String(r).padStart(3, '0')}`;
/** The user who searches: a member of every room. */
export const SEARCHER = 0;
/** The users of room r: the searcher, then others spread so that each is in rooms × 4 / 19 rooms. */
export const membersOf = (r: number): number[] => [
  SEARCHER,
  ...Array.from(
    { length: MEMBERS_PER_ROOM - 1 },
    (_, k) => 1 + ((r * (MEMBERS_PER_ROOM - 1) + k) % (SEARCH_USERS - 1)),
  ),
];
/** The room of message i, and its sender: round robin over the rooms, so the sends in flight are each in another room. */
export const placeOf = (i: number, rooms: number): { room: number; sender: number } => {
  const room = i % rooms;
  return { room, sender: membersOf(room)[Math.floor(i / rooms) % MEMBERS_PER_ROOM]! };
};

export interface Corpus {
  tenant: string;
  /** Room index → room id. */
  roomIds: string[];
  /** When the middle third of the messages was sent (ms; in every room): the date-range queries' range. */
  middleThird: { from: number; to: number };
  seedSeconds: { rooms: number; messages: number };
  sendErrors: number;
}

export async function seedCorpus(o: {
  config: Config;
  api: ApiClient;
  tenant: string;
  rooms: number;
  messages: number;
  log: (msg: string) => void;
}): Promise<Corpus> {
  const { config, api, tenant } = o;
  const roomIds: string[] = new Array<string>(o.rooms);
  let started = performance.now();
  const made = await runPool(
    Array.from({ length: o.rooms }, (_, r) => r),
    ROOM_CONCURRENCY,
    async (r) => {
      const base = `/v1/tenants/${tenant}/rooms/event/${roomSlugOf(r)}`;
      roomIds[r] = String((await api.change('PUT', base, { name: `Search bench ${r}` })).roomId);
      await api.change('PUT', `${base}/members`, { members: membersOf(r).map((u) => ({ userSlug: userSlug(u) })) });
    },
  );
  if (made.errors.length)
    throw new Error(`search: ${made.errors.length} rooms failed, first: ${String(made.errors[0]!.error)}`);
  const roomsSeconds = (performance.now() - started) / 1000;
  o.log(`search: ${o.rooms} rooms with their members in ${roomsSeconds.toFixed(1)} s`);

  const random = seededRandom(o.messages * 31 + o.rooms);
  const rank = zipf(random);
  const bodies = Array.from({ length: o.messages }, () =>
    Array.from({ length: 6 + Math.floor(random() * 12) }, () => word(rank())).join(' '),
  );
  const { userPrefix, serverName, homeserverUrl, asToken } = config.matrix;
  const middleThird = { from: 0, to: 0 };
  const third = Math.floor(o.messages / 3);
  started = performance.now();
  let lastLog = started;
  let done = 0;
  const sent = await runPool(
    bodies.map((body, i) => ({ body, i })),
    SEND_CONCURRENCY,
    async ({ body, i }) => {
      // Each send in flight in another room: Synapse creates one room's events one at a time.
      const { room: r, sender } = placeOf(i, o.rooms);
      if (i === third) middleThird.from = Date.now();
      await matrixRequest(homeserverUrl, {
        method: 'PUT',
        path: `/_matrix/client/v3/rooms/${enc(roomIds[r]!)}/send/m.room.message/${enc(`${tenant}-${i}`)}`,
        token: asToken,
        query: { user_id: matrixUserId(userPrefix, serverName, tenant, userSlug(sender)) },
        body: { msgtype: 'm.text', body },
        timeoutMs: 120_000,
      });
      if (i === 2 * third) middleThird.to = Date.now();
      if (++done % 5000 === 0 || performance.now() - lastLog > 30_000) {
        lastLog = performance.now();
        o.log(`  ${done} / ${o.messages} messages (${(done / ((lastLog - started) / 1000)).toFixed(0)}/s)`);
      }
    },
  );
  const messagesSeconds = (performance.now() - started) / 1000;
  o.log(`search: ${o.messages} messages in ${messagesSeconds.toFixed(1)} s (${sent.errors.length} errors)`);
  return {
    tenant,
    roomIds,
    middleThird,
    seedSeconds: { rooms: roomsSeconds, messages: messagesSeconds },
    sendErrors: sent.errors.length,
  };
}
