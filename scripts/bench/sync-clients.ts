/**
 * Benchmark 5 (issue 7): the first-generation design — one syncing matrix-js-sdk client per online
 * user inside the backend — beside ours — one relay socket per online user on the API, fed by the
 * appservice push — for the same users in the same rooms: memory per online user, requests reaching
 * Synapse while idle, and the message rate the homeserver sustains (delivery p99 ≤ 1 s to every other
 * online member) under each. The two sides never run at once.
 */
import { createDb } from '../../adapters/store/db.js';
import { createUserStore } from '../../adapters/store/users.js';
import type { Config } from '../../lib/config.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import type { ApiClient } from './clients.js';
import { cpuTracker } from './cpu.js';
import { provisionViaApi } from './provisioning.js';
import { type Comparison, renderCores, runPool } from './stats.js';
import { LIMIT_MS, syncClientsReport, type Side } from './sync-clients-report.js';
import {
  createSender,
  rss,
  runStep,
  settle,
  startUsersProcess,
  synapseRequests,
  type UsersProcess,
} from './sync-clients-load.js';
import { counterDelta, nextRate, planRooms, renderCounts, type ChildUser } from './sync-clients-stats.js';
import { userJwt } from './relay-setup.js';

export interface SyncClientsOptions {
  config: Config;
  api: ApiClient;
  online: number;
  roomSize: number;
  /** Seconds per ramp step; from 10 on, a 60 s idle window, two refinements and failures confirmed (a full run). */
  stepSeconds: number;
  concurrency: number;
  runId: string;
  log: (msg: string) => void;
  /** The processes whose CPU is reported (the users' process is added per side). */
  roots: () => Record<string, number | undefined>;
  apiPid: number;
  /** A full GC in the API process (scripts/bench/gc.ts). */
  apiGc: () => Promise<void>;
}

/** Extra sockets per user when weighing one relay socket (200 users → 2,000 sockets). */
const CROWD_PER_USER = 10;
const MiB = 2 ** 20;
const slug = (j: number): string => `user${String(j).padStart(4, '0')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function setup(o: SyncClientsOptions, tenant: string) {
  const pre = await provisionViaApi(o.api, tenant, o.online, o.concurrency);
  if (pre.errors) throw new Error(`sync-clients: ${pre.errors} users could not be provisioned`);
  const rooms = planRooms(o.online, o.roomSize);
  const roomIds: string[] = [];
  for (let r = 0; r < rooms.length; r++) {
    roomIds.push(
      String(
        (await o.api.change('PUT', `/v1/tenants/${tenant}/rooms/event/sync-${r}`, { name: `Sync bench ${r}` })).roomId,
      ),
    );
  }
  const pairs = rooms.flatMap((members, r) => members.map((j) => ({ r, j })));
  const added = await runPool(pairs, o.concurrency, async ({ r, j }) => {
    await o.api.change('PUT', `/v1/tenants/${tenant}/rooms/event/sync-${r}/members/${slug(j)}`, {});
  });
  if (added.errors.length)
    throw new Error(`sync-clients: ${added.errors.length} memberships failed: ${String(added.errors[0]!.error)}`);
  // The users' own Matrix tokens, as the service stored them (the first-generation backend held the same).
  const db = createDb(o.config.databaseUrl, 2);
  const store = createUserStore(db, new TokenCipher(o.config.tokens.keys, o.config.tokens.activeKeyId));
  const tokens: string[] = [];
  try {
    for (let j = 0; j < o.online; j++) tokens.push((await store.getToken(tenant, slug(j)))!);
  } finally {
    await db.end();
  }
  const userIds = Array.from({ length: o.online }, (_, j) =>
    matrixUserId(o.config.matrix.userPrefix, o.config.matrix.serverName, tenant, slug(j)),
  );
  const roomsOf = userIds.map((_, j) => rooms.filter((m) => m.includes(j)).length);
  return { rooms, roomIds, tokens, userIds, roomsOf, pairs: pairs.length };
}

async function runSide(
  o: SyncClientsOptions,
  mode: 'matrix' | 'relay',
  s: Awaited<ReturnType<typeof setup>>,
  users: ChildUser[],
  baseUrl: string,
): Promise<Side> {
  const name = mode === 'matrix' ? 'sync clients' : 'relay';
  // The idle window spans at least one 30 s /sync long-poll of every client.
  const full = o.stepSeconds >= 10;
  const timing = full
    ? { settle: 20_000, idle: 60, step: o.stepSeconds, drain: 8_000 }
    : { settle: 8_000, idle: 31, step: o.stepSeconds, drain: 5_000 };
  const proc: UsersProcess = await startUsersProcess(mode);
  const track = cpuTracker(() => ({ ...o.roots(), 'users process': proc.pid }));
  const measured = mode === 'matrix' ? proc.pid : o.apiPid;
  const sender = createSender(o.config.matrix.homeserverUrl, `bs-${o.runId}-${mode}`);
  try {
    // A running backend (or API) has had users before: warm the code paths up with a few, then measure.
    const warm = users.slice(0, Math.min(10, users.length));
    await proc.start(baseUrl, warm, { concurrency: 10, initialSyncLimit: 20 });
    await proc.release();
    // Memory is read after a quiet spell and a full GC in the measured process (what it retains, not
    // the garbage of the moment), and per user as the marginal cost between half and all users
    // online: a lone before/after delta mostly measures how far V8 happened to grow its heap.
    const retained = async (): Promise<number> => {
      await (mode === 'matrix' ? proc.gc() : o.apiGc());
      return rss(measured);
    };
    await sleep(timing.settle);
    const before = await retained();
    const half = Math.floor(users.length / 2);
    const opts = { concurrency: mode === 'matrix' ? 10 : 20, initialSyncLimit: 20 };
    o.log(`sync-clients ${name}: bringing ${half} then ${users.length} users online`);
    const first = await proc.start(baseUrl, users.slice(0, half), opts);
    await sleep(timing.settle);
    const atHalf = await retained();
    const second = await proc.start(baseUrl, users.slice(half), opts);
    const started = {
      online: first.online + second.online,
      failures: [...first.failures, ...second.failures],
      seconds: first.seconds + second.seconds,
    };
    o.log(
      `  ${started.online} online in ${started.seconds.toFixed(1)} s${started.failures.length ? `; failures: ${started.failures.join('; ')}` : ''}`,
    );
    await sleep(timing.settle);
    const after = await retained();
    o.log(
      `  RSS ${(before / MiB).toFixed(1)} → ${(atHalf / MiB).toFixed(1)} → ${(after / MiB).toFixed(1)} MiB (0, ${half}, ${users.length} users)`,
    );
    // A relay socket weighs a few KiB: 100 more of them are within the noise of one RSS reading. So
    // the same users open CROWD_PER_USER more sockets each, idle, weighed together, then closed.
    let sockets: Side['memory']['sockets'];
    if (mode === 'relay') {
      const crowd = await proc.crowd(baseUrl, users, CROWD_PER_USER, opts.concurrency);
      if (crowd.failures.length) throw new Error(`relay: extra sockets failed: ${crowd.failures.join('; ')}`);
      await sleep(timing.settle);
      sockets = { count: crowd.sockets, after: await retained() };
      await proc.uncrowd();
      o.log(
        `  with ${crowd.sockets} more sockets of the same users: RSS ${(sockets.after / MiB).toFixed(1)} MiB (${((sockets.after - after) / crowd.sockets / 1024).toFixed(1)} KiB per socket)`,
      );
      await sleep(timing.settle);
    }
    o.log(`  idle for ${timing.idle} s`);
    const reqBefore = await synapseRequests(o.config.matrix.homeserverUrl);
    const idleRun = await track(() => sleep(timing.idle * 1000));
    const requests = counterDelta(reqBefore, await synapseRequests(o.config.matrix.homeserverUrl));
    o.log(`  idle: ${renderCounts(requests)}; ${renderCores(idleRun.cores)}`);

    const steps: Side['steps'] = [];
    const ramp = { start: 1, max: 1024, refine: full ? 2 : 1, resolution: 0.15 };
    for (let rate = nextRate([], ramp), step = 1; rate !== null; rate = nextRate(steps, ramp), step++) {
      const plan = {
        step,
        rate,
        seconds: timing.step,
        roomIds: s.roomIds,
        rooms: s.rooms,
        tokens: s.tokens,
        limitMs: LIMIT_MS,
        drainMs: timing.drain,
      };
      let { value, cores } = await track(() => runStep(proc, sender, plan));
      if (!value.passed && full) {
        // The machine is shared: a failure counts only when the same rate fails again.
        o.log(`  ${rate} msg/s failed (p99 ${value.latency.p99.toFixed(0)} ms, ${renderCores(cores)}); once more`);
        await settle(proc, step, 2_000, 60_000);
        step++;
        ({ value, cores } = await track(() => runStep(proc, sender, { ...plan, step })));
      }
      steps.push({ ...value, cores });
      o.log(
        `  ${rate} msg/s: ${value.passed ? 'pass' : 'FAIL'} p50/p99 ${value.latency.p50.toFixed(0)}/${value.latency.p99.toFixed(0)} ms, ` +
          `${value.delivered}/${value.expected} delivered, ${value.sendErrors} send errors${value.lost ? `, ${value.lost} sockets lost` : ''}; ` +
          `synapse ${(cores.synapse ?? 0).toFixed(2)}, api ${(cores.api ?? 0).toFixed(2)}, users ${(cores['users process'] ?? 0).toFixed(2)}, sender ${(cores['bench client'] ?? 0).toFixed(2)}, ` +
          `rest of machine ${(cores['rest of machine'] ?? 0).toFixed(2)} cores`,
      );
      // The homeserver catches up on a failed step before the next one.
      await settle(proc, step, 2_000, value.passed ? 10_000 : 60_000);
    }
    return {
      memory: { before, atHalf, after, half, sockets },
      online: started.online,
      failures: started.failures,
      startSeconds: started.seconds,
      idle: { seconds: timing.idle, requests, cores: idleRun.cores },
      steps,
    };
  } finally {
    sender.close();
    await proc.stop();
  }
}

export async function syncClientsBench(o: SyncClientsOptions): Promise<Comparison[]> {
  const tenant = `bs-${o.runId}`;
  await synapseRequests(o.config.matrix.homeserverUrl); // fails early when Synapse has no metrics
  o.log(`sync-clients: ${o.online} users in rooms of ${o.roomSize}, through the API (untimed)`);
  const s = await setup(o, tenant);
  o.log(`  ${s.roomIds.length} rooms, ${s.pairs} memberships`);

  const theirs = await runSide(
    o,
    'matrix',
    s,
    s.userIds.map((userId, index) => ({ index, userId, token: s.tokens[index]!, rooms: s.roomsOf[index]! })),
    o.config.matrix.homeserverUrl,
  );
  const jwts = await Promise.all(s.userIds.map((_, j) => userJwt(o.config, tenant, slug(j))));
  const ours = await runSide(
    o,
    'relay',
    s,
    s.userIds.map((userId, index) => ({ index, userId, token: jwts[index]!, rooms: s.roomsOf[index]! })),
    o.api.baseUrl,
  );

  return syncClientsReport(o, { rooms: s.roomIds.length }, theirs, ours);
}
