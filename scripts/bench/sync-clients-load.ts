/**
 * The moving parts of the sync-clients benchmark: the process holding the online users
 * (sync-clients-child.ts), the message sender, one ramp step, and what Synapse and /proc say.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { ROOT } from './stack.js';
import {
  BENCH_KEY,
  counterBy,
  judgeStep,
  median,
  messagePlan,
  vmRssBytes,
  type ChildUser,
  type Delivery,
  type FromChild,
  type SentMessage,
  type StepResult,
  type ToChild,
} from './sync-clients-stats.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The users' process, spoken to over IPC. */
export interface UsersProcess {
  pid: number;
  start(
    baseUrl: string,
    users: ChildUser[],
    opts: { concurrency: number; initialSyncLimit: number },
  ): Promise<{ online: number; failures: string[]; seconds: number }>;
  collect(step: number): Promise<{ deliveries: Delivery[]; lost: number }>;
  /** Takes every user offline again. */
  release(): Promise<void>;
  /** A full garbage collection in the users' process. */
  gc(): Promise<void>;
  /** Relay mode: `perUser` more idle sockets for each of `users` (to weigh one socket), then gone again. */
  crowd(
    baseUrl: string,
    users: ChildUser[],
    perUser: number,
    concurrency: number,
  ): Promise<{ sockets: number; failures: string[] }>;
  uncrowd(): Promise<void>;
  stop(): Promise<void>;
}

export async function startUsersProcess(mode: 'matrix' | 'relay'): Promise<UsersProcess> {
  const child: ChildProcess = fork(`${ROOT}dist/scripts/bench/sync-clients-child.js`, [mode], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // gc() after a warm-up and before each memory reading, as on the API (scripts/bench/gc.ts).
    execArgv: ['--expose-gc'],
  });
  const waiting: ((m: FromChild) => boolean)[] = [];
  child.on('message', (raw) => {
    const m = raw as FromChild;
    const i = waiting.findIndex((w) => w(m));
    if (i >= 0) waiting.splice(i, 1);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <T extends FromChild['type']>(type: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`users process (${mode}): no ${type} after ${timeoutMs} ms`)),
        timeoutMs,
      );
      void exited.then(() => reject(new Error(`users process (${mode}) exited`)));
      waiting.push((m) => {
        if (m.type !== type) return false;
        clearTimeout(timer);
        resolve(m as Extract<FromChild, { type: T }>);
        return true;
      });
    });
  const tell = (m: ToChild): void => void child.send(m);
  await next('loaded', 60_000);
  return {
    pid: child.pid!,
    async start(baseUrl, users, opts) {
      const done = next('started', 900_000);
      tell({ type: 'start', baseUrl, users, ...opts });
      return done;
    },
    async collect(step) {
      const done = next('collected', 60_000);
      tell({ type: 'collect', step });
      const m = await done;
      return { deliveries: m.deliveries, lost: m.lost };
    },
    async release() {
      const done = next('released', 120_000);
      tell({ type: 'release' });
      await done;
    },
    async crowd(baseUrl, users, perUser, concurrency) {
      const done = next('crowded', 900_000);
      tell({ type: 'crowd', baseUrl, users, perUser, concurrency });
      const m = await done;
      return { sockets: m.sockets, failures: m.failures };
    },
    async uncrowd() {
      const done = next('uncrowded', 120_000);
      tell({ type: 'uncrowd' });
      await done;
    },
    async gc() {
      const done = next('collectedGarbage', 60_000);
      tell({ type: 'gc' });
      await done;
    },
    async stop() {
      if (child.exitCode !== null) return;
      tell({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resident memory of a process: the median of `samples` readings one second apart (bytes). */
export async function rss(pid: number, samples = 5): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i) await sleep(1000);
    values.push(vmRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8')));
  }
  return median(values);
}

/** Requests Synapse has received so far, per servlet (its own counter, from /_synapse/metrics). */
export async function synapseRequests(homeserverUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${homeserverUrl}/_synapse/metrics`, { signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200)
    throw new Error(
      `Synapse metrics answered ${res.status}: the bench stack's Synapse must run with SYNAPSE_METRICS=on (scripts/bench/stack.ts sets it; restart a kept stack)`,
    );
  const counts = counterBy(await res.text(), 'synapse_http_server_requests_received_total', 'servlet');
  // Our own scrapes are not load.
  delete counts.MetricsResource;
  return counts;
}

/** Sends messages into rooms with the senders' own tokens, over a few keep-alive connections. */
export function createSender(homeserverUrl: string, txnPrefix: string) {
  const base = new URL(homeserverUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const put = (path: string, token: string, body: unknown): Promise<number> =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = request(
        {
          agent,
          method: 'PUT',
          hostname: base.hostname,
          port: base.port,
          path,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(data),
          },
          timeout: 60_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('send timed out')));
      req.end(data);
    });
  return {
    /** Resolves true when the homeserver accepted the message. */
    send: async (roomId: string, token: string, step: number, i: number, sentAt: number): Promise<boolean> => {
      const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(`${txnPrefix}-${step}-${i}`)}`;
      const status = await put(path, token, {
        msgtype: 'm.text',
        body: `bench ${step}/${i}`,
        [BENCH_KEY]: { s: step, i, t: sentAt },
      }).catch(() => 0);
      return status === 200;
    },
    close: () => agent.destroy(),
  };
}
export type Sender = ReturnType<typeof createSender>;

export interface StepPlan {
  step: number;
  rate: number;
  seconds: number;
  /** Room ids and members (user indices), and each user's Matrix token. */
  roomIds: readonly string[];
  rooms: readonly (readonly number[])[];
  tokens: readonly string[];
  limitMs: number;
  /** How long after the last send completed deliveries are still awaited. */
  drainMs: number;
}

/**
 * One step of the ramp: `rate` messages per second for `seconds` (open loop: each message at its
 * time, whether or not earlier ones were answered), then deliveries are collected until all are in
 * or `drainMs` after the last send returned. Returns the verdict and the users lost meanwhile.
 */
export async function runStep(
  users: UsersProcess,
  sender: Sender,
  p: StepPlan,
): Promise<StepResult & { lost: number }> {
  const n = Math.max(1, Math.round(p.rate * p.seconds));
  const sent: SentMessage[] = [];
  const inFlight: Promise<void>[] = [];
  const deliveries: Delivery[] = [];
  let lost = 0;
  const t0 = performance.now();
  for (let i = 0; i < n;) {
    const due = Math.min(n, Math.floor(((performance.now() - t0) * p.rate) / 1000) + 1);
    for (; i < due; i++) {
      const { room, sender: who } = messagePlan(i, p.rooms);
      const m: SentMessage = { room, sender: who, sentAt: Date.now() };
      sent.push(m);
      inFlight.push(
        sender.send(p.roomIds[room]!, p.tokens[who]!, p.step, i, m.sentAt).then((ok) => {
          if (!ok) m.failed = true;
        }),
      );
    }
    if (i < n) await sleep(Math.max(1, t0 + (i * 1000) / p.rate - performance.now()));
  }
  await Promise.all(inFlight);
  const expected = sent.reduce((s, m) => s + (m.failed ? 0 : p.rooms[m.room]!.length - 1), 0);
  const deadline = performance.now() + p.drainMs;
  for (;;) {
    const got = await users.collect(p.step);
    deliveries.push(...got.deliveries);
    lost = got.lost;
    if (deliveries.length >= expected || performance.now() > deadline) break;
    await sleep(250);
  }
  return { ...judgeStep(p.rate, sent, deliveries, p.rooms, p.limitMs), lost };
}

/** Waits until no more deliveries of `step` trickle in for `quietMs` (at most `maxMs`): the homeserver has caught up. */
export async function settle(users: UsersProcess, step: number, quietMs: number, maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  let lastSeen = performance.now();
  while (performance.now() < deadline && performance.now() - lastSeen < quietMs) {
    await sleep(250);
    if ((await users.collect(step)).deliveries.length > 0) lastSeen = performance.now();
  }
}
