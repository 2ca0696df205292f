/**
 * The load every fault scenario runs under, and the exact state it must leave behind.
 *
 * A burst is a seeded plan: users provisioned through `POST /users`, and rooms (events and a group)
 * each receiving an ordered list of member adds, role changes and removals — some of them for users
 * nobody provisioned, so the room workflow provisions them first. A client sends it the way the
 * platform backend must: each room's changes in order, every request repeated until the API answers
 * 200 or 202 (a 503 or a lost connection means "not taken", and repeating is safe). Anything else
 * fails the scenario. The final check reads the homeserver (Admin API, the bot's view) and the
 * database, not our own answers: every user exactly once with one working credential, every room
 * exactly once with exactly the desired members and power levels.
 */
import { expect } from '@jest/globals';
import type pg from 'pg';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { createDb } from '../../adapters/store/db.js';
import { createUserStore } from '../../adapters/store/users.js';
import type { Config } from '../../lib/config.js';
import { DEFAULT_POWER_LEVELS } from '../../vocabulary/roles.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import type { TestApi } from '../helpers/api.js';
import { sleep } from '../helpers/env.js';
import { adminFor, adminRoomSearch, adminToken, botView, listUsers, whoami } from '../helpers/matrix.js';
import { seededRandom } from '../../lib/seeded-random.js';

const BOT = '@openmeet-bot:localhost';

export { seededRandom };

/** The scenario's seed: FAULTS_SEED when set, else a fixed default; logged so a failure can be replayed. */
export function scenarioSeed(scenario: string, fallback: number): number {
  const raw = process.env.FAULTS_SEED;
  const seed = raw && /^\d+$/.test(raw) ? Number(raw) : fallback;
  console.log(`[faults] ${scenario}: seed ${seed} (repeat with FAULTS_SEED=${seed})`);
  return seed;
}

type Kind = 'event' | 'group';
const ROLES: Record<Kind, readonly string[]> = {
  event: ['host', 'moderator', 'speaker', 'member'],
  group: ['owner', 'admin', 'moderator', 'member'],
};

export interface RoomPlan {
  kind: Kind;
  slug: string;
  /** In order; `role: null` removes the member. */
  ops: { user: string; role: string | null }[];
}

export interface BurstPlan {
  tenant: string;
  /** Provisioned directly. */
  users: string[];
  rooms: RoomPlan[];
}

export function displayNameOf(slug: string): string {
  return `Fault ${slug}`;
}

/** A plan of `users` direct provisions plus `extraMembers` users who only ever appear as room members. */
export function makePlan(
  tenant: string,
  random: () => number,
  opts: { users?: number; extraMembers?: number; rooms?: Kind[]; opsPerRoom?: number } = {},
): BurstPlan {
  const direct = Array.from({ length: opts.users ?? 24 }, (_, i) => `u${String(i).padStart(2, '0')}`);
  const extra = Array.from({ length: opts.extraMembers ?? 6 }, (_, i) => `m${String(i).padStart(2, '0')}`);
  const pool = [...direct, ...extra];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const kinds = opts.rooms ?? ['event', 'event', 'group'];
  const rooms = kinds.map((kind, i) => {
    const ops: RoomPlan['ops'] = [];
    // Every extra member is added somewhere at least once, so the room workflow provisions them.
    for (const [j, u] of extra.entries()) if (j % kinds.length === i) ops.push({ user: u, role: pick(ROLES[kind]) });
    for (let k = ops.length; k < (opts.opsPerRoom ?? 16); k++) {
      ops.push({ user: pick(pool), role: random() < 0.2 ? null : pick(ROLES[kind]) });
    }
    return { kind, slug: `${kind}-${i}`, ops };
  });
  return { tenant, users: direct, rooms };
}

/** Desired members (slug → role) of a room after its ops, in order. */
export function desiredMembers(room: RoomPlan): Record<string, string> {
  const m: Record<string, string> = {};
  for (const op of room.ops) {
    if (op.role === null) delete m[op.user];
    else m[op.user] = op.role;
  }
  return m;
}

export interface BurstStats {
  /** Set once a request fails: the other lanes stop instead of running on after the test ended. */
  stopped?: boolean;
  requests: number;
  answered: Record<number, number>;
  retries: number;
}

export interface Sender {
  /** One HTTP exchange; throws on a lost connection or a per-request timeout. */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
}

/** The in-process API (app.request), bounded by a per-request timeout. */
export function inProcess(api: TestApi, timeoutMs = 120_000): Sender {
  return {
    async request(method, path, body) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const res = await Promise.race([
          api.app.request(path, {
            method,
            headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          }),
          timeout,
        ]);
        return { status: res.status, text: await res.text() };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Repeats one request until it is taken (200/202); 503 and lost connections are retried, anything else fails. */
async function untilTaken(
  sender: Sender,
  stats: BurstStats,
  method: string,
  path: string,
  body?: unknown,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (stats.stopped) throw new Error('burst stopped: another request failed');
    stats.requests++;
    let answer: { status: number; text: string } | null = null;
    try {
      answer = await sender.request(method, path, body);
    } catch {
      answer = null;
    }
    if (answer) stats.answered[answer.status] = (stats.answered[answer.status] ?? 0) + 1;
    if (answer && (answer.status === 200 || answer.status === 202)) return;
    if (answer && answer.status !== 503) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`);
    stats.retries++;
    await sleep(Math.min(3000, 200 * attempt));
  }
}

/** Sends the whole plan: direct provisions `lanes` at a time, each room's changes in order, rooms in parallel. */
export async function runBurst(sender: Sender, plan: BurstPlan, lanes = 6): Promise<BurstStats> {
  const stats: BurstStats = { requests: 0, answered: {}, retries: 0 };
  const t = plan.tenant;
  const queue = [...plan.users];
  const provisioning = Array.from({ length: lanes }, async () => {
    for (let u = queue.shift(); u; u = queue.shift()) {
      await untilTaken(sender, stats, 'POST', `/v1/tenants/${t}/users`, { slug: u, displayName: displayNameOf(u) });
    }
  });
  const rooms = plan.rooms.map(async (room) => {
    const base = `/v1/tenants/${t}/rooms/${room.kind}/${room.slug}`;
    await untilTaken(sender, stats, 'PUT', base, { name: `Fault ${room.slug}` });
    for (const op of room.ops) {
      if (op.role === null) await untilTaken(sender, stats, 'DELETE', `${base}/members/${op.user}`);
      else
        await untilTaken(sender, stats, 'PUT', `${base}/members/${op.user}`, {
          role: op.role,
          displayName: displayNameOf(op.user),
        });
    }
  });
  let first: unknown = null;
  const all = [...provisioning, ...rooms].map((p) =>
    p.catch((err: unknown) => {
      if (!stats.stopped) first = err;
      stats.stopped = true;
    }),
  );
  await Promise.all(all);
  if (stats.stopped) throw first;
  return stats;
}

interface RoomView {
  /** Rooms on the homeserver carrying this room's alias. */
  onHomeserver: number;
  aliasMatchesDatabase: boolean;
  joined: string[];
  invited: string[];
  levels: Record<string, number>;
  desired: Record<string, string>;
}

interface StateView {
  users: string[];
  displayNames: Record<string, string | null>;
  credentialRows: Record<string, number>;
  roomsOfTenant: number;
  rooms: Record<string, RoomView>;
}

function expectedView(config: Config, plan: BurstPlan): StateView {
  const uid = (s: string): string => `@${config.matrix.userPrefix}_${plan.tenant}_${s}:${config.matrix.serverName}`;
  const slugs = new Set(plan.users);
  for (const r of plan.rooms) for (const op of r.ops) slugs.add(op.user);
  const sorted = [...slugs].sort();
  const rooms: Record<string, RoomView> = {};
  for (const r of plan.rooms) {
    const desired = desiredMembers(r);
    const levels: Record<string, number> = {};
    for (const [u, role] of Object.entries(desired)) {
      const level = DEFAULT_POWER_LEVELS[r.kind][role]!;
      if (level !== 0) levels[uid(u)] = level;
    }
    rooms[`${r.kind}/${r.slug}`] = {
      onHomeserver: 1,
      aliasMatchesDatabase: true,
      joined: [BOT, ...Object.keys(desired).map(uid)].sort(),
      invited: [],
      levels,
      desired,
    };
  }
  return {
    users: sorted.map(uid).sort(),
    displayNames: Object.fromEntries(sorted.map((s) => [uid(s), displayNameOf(s)])),
    credentialRows: Object.fromEntries(sorted.map((s) => [s, 1])),
    // Each group's room comes with the group's space (decision 0051).
    roomsOfTenant: plan.rooms.length + plan.rooms.filter((r) => r.kind === 'group').length,
    rooms,
  };
}

async function actualView(config: Config, db: pg.Pool, plan: BurstPlan, adminTok: string): Promise<StateView> {
  const t = plan.tenant;
  const prefix = `${config.matrix.userPrefix}_${t}_`;
  const users = (await listUsers(config, adminTok, prefix)).sort();
  const admin = adminFor(config);
  const displayNames: Record<string, string | null> = {};
  for (const u of users) displayNames[u] = (await admin.getUser(u))?.displayName ?? null;
  const rows = await db.query<{ slug: string; n: number }>(
    'SELECT slug, count(*)::int AS n FROM matrix_users WHERE tenant = $1 AND token_ciphertext IS NOT NULL GROUP BY slug',
    [t],
  );
  const credentialRows = Object.fromEntries(rows.rows.map((r) => [r.slug, r.n]));
  const bot = botView(config);
  const roomsOfTenant = (await adminRoomSearch(config, adminTok, prefix)).length;
  const rooms: Record<string, RoomView> = {};
  for (const r of plan.rooms) {
    const stored = await db.query<{ room_id: string | null; alias: string }>(
      'SELECT room_id, alias FROM rooms WHERE tenant = $1 AND kind = $2 AND slug = $3',
      [t, r.kind, r.slug],
    );
    const row = stored.rows[0];
    const found = await adminRoomSearch(config, adminTok, `${prefix}${r.kind}_${r.slug}`);
    const roomId = row?.room_id ?? found[0]?.room_id;
    let joined: string[] = [];
    let invited: string[] = [];
    let levels: Record<string, number> = {};
    if (roomId) {
      const members = await matrixRequest<{ chunk: { state_key: string; content: { membership: string } }[] }>(
        config.matrix.homeserverUrl,
        {
          method: 'GET',
          path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/members`,
          token: config.matrix.asToken,
        },
      );
      joined = members.chunk
        .filter((m) => m.content.membership === 'join')
        .map((m) => m.state_key)
        .sort();
      invited = members.chunk
        .filter((m) => m.content.membership === 'invite')
        .map((m) => m.state_key)
        .sort();
      levels = Object.fromEntries(
        Object.entries(await bot.powerLevels(roomId)).filter(([id]) => id.startsWith(`@${prefix}`)),
      );
    }
    const desiredRows = await db.query<{ user_slug: string; role: string }>(
      'SELECT user_slug, role FROM room_members WHERE tenant = $1 AND kind = $2 AND slug = $3',
      [t, r.kind, r.slug],
    );
    rooms[`${r.kind}/${r.slug}`] = {
      onHomeserver: found.length,
      aliasMatchesDatabase: !!row?.room_id && (await bot.resolveAlias(row.alias)) === row.room_id,
      joined,
      invited,
      levels,
      desired: Object.fromEntries(desiredRows.rows.map((d) => [d.user_slug, d.role])),
    };
  }
  return { users, displayNames, credentialRows, roomsOfTenant, rooms };
}

/** JSON with object keys sorted: equal states compare equal whatever order rows and maps came in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/** Which parts of the state differ (for the log while waiting). */
function differences(expected: StateView, actual: StateView): string[] {
  const out: string[] = [];
  for (const key of ['users', 'displayNames', 'credentialRows', 'roomsOfTenant'] as const) {
    if (canonical(expected[key]) !== canonical(actual[key])) out.push(key);
  }
  for (const [room, want] of Object.entries(expected.rooms)) {
    const got = actual.rooms[room];
    for (const key of Object.keys(want) as (keyof RoomView)[]) {
      if (canonical(want[key]) !== canonical(got?.[key])) out.push(`${room}.${key}`);
    }
  }
  return out;
}

/**
 * Waits (up to `timeoutMs`) for the homeserver and the database to reach exactly the plan's final
 * state, then asserts it — a timeout fails with the difference — and that every stored credential
 * is a working token of its own user.
 */
export async function expectExactState(config: Config, plan: BurstPlan, timeoutMs = 240_000): Promise<void> {
  const db = createDb(config.databaseUrl, 2);
  try {
    const expected = expectedView(config, plan);
    const adminTok = await adminToken(config);
    const deadline = Date.now() + timeoutMs;
    const started = Date.now();
    let actual: StateView | null = null;
    let lastDiff = '';
    for (;;) {
      try {
        actual = await actualView(config, db, plan, adminTok);
        const diff = differences(expected, actual);
        if (diff.length === 0) break;
        const text = diff.join('; ');
        if (text !== lastDiff) console.log(`[faults] +${Date.now() - started} ms not yet: ${text}`);
        lastDiff = text;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) break;
      await sleep(2000);
    }
    console.log(`[faults] final state checked after ${Date.now() - started} ms of waiting`);
    expect(actual).toEqual(expected);

    const store = createUserStore(db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
    const owners: Record<string, string> = {};
    for (const slug of Object.keys(expected.credentialRows)) {
      const token = await store.getToken(plan.tenant, slug);
      owners[slug] = token ? await whoami(config, token) : 'no token';
    }
    expect(owners).toEqual(
      Object.fromEntries(
        Object.keys(expected.credentialRows).map((s) => [
          s,
          `@${config.matrix.userPrefix}_${plan.tenant}_${s}:${config.matrix.serverName}`,
        ]),
      ),
    );
  } finally {
    await db.end();
  }
}
