/**
 * Benchmark 4 (issue 7): fan-out. One room; N sockets on the one API process the harness started,
 * spread over U member users (the bench API lifts the per-user socket cap, so U < N real Matrix members
 * suffice); a member sends M messages through the Matrix client-server API, one every GAP ms.
 * Time per message = the last of the N sockets has it − just before the PUT was issued. The
 * baseline is the same room, sender and pacing with a single socket: what fanning out to N costs.
 * Also: the relay's own share (appservice push stored → last socket, from relay_events.received_at)
 * and the API process's resident memory per socket (VmRSS before and after connecting, / N).
 * The sockets live in a child process (fanout-client.ts), which reports its CPU per burst so a
 * client-bound measurement shows as one.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Config } from '../../lib/config.js';
import type { ApiClient } from './clients.js';
import type { Track } from './provisioning.js';
import { latencies, markerBody, p50p99, vmRssKiB, wallMs, type Arrival } from './relay-stats.js';
import { matrixSend, matrixTokens, memberSlug, receivedAt, roomWithMembers, userIdOf, userJwt } from './relay-setup.js';
import { compare, measurement, summarize, type Comparison, type Measurement } from './stats.js';

export interface FanoutOptions {
  config: Config;
  api: ApiClient;
  apiPid: number;
  /** A full GC in the API process (scripts/bench/gc.ts): memory is read after one. */
  apiGc: () => Promise<void>;
  sockets: number;
  users: number;
  messages: number;
  concurrency: number;
  runId: string;
  log: (msg: string) => void;
  track: Track;
}

/** Between two timed messages: longer than a fan-out should take, so bursts do not overlap. */
const GAP_MS = 300;
const CONNECT_CONCURRENCY = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Report {
  arrivals: (Arrival | null)[];
  duplicates: number;
  lost: number[];
  cpuUs: (number | null)[];
}

/** The socket process: one request/answer at a time over IPC. */
function socketProcess(): {
  child: ChildProcess;
  ask: <T>(msg: Record<string, unknown>, answer: string) => Promise<T>;
} {
  const child = fork(new URL('./fanout-client.js', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = <T>(msg: Record<string, unknown>, answer: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: { type: string }): void => {
        if (m.type !== answer) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as T);
      };
      const onExit = (code: number | null): void => reject(new Error(`fan-out socket process exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(msg);
    });
  return { child, ask };
}

const openFiles = (): string => {
  try {
    return execFileSync('sh', ['-c', 'ulimit -n']).toString().trim();
  } catch {
    return 'unknown';
  }
};
const rssKiB = (pid: number): number => vmRssKiB(readFileSync(`/proc/${pid}/status`, 'utf8'));
/** The API's resident memory once a full GC has run: what it keeps, not the garbage of the moment. */
async function retainedKiB(o: Pick<FanoutOptions, 'apiPid' | 'apiGc'>): Promise<number> {
  await o.apiGc();
  await sleep(1_000);
  return rssKiB(o.apiPid);
}

export async function fanoutBench(o: FanoutOptions): Promise<Comparison> {
  const { config } = o;
  const tenant = `bf-${o.runId}`;
  const users = Math.min(o.users, o.sockets);
  o.log(`fanout: a room with ${users} members through the API (untimed)`);
  const roomId = await roomWithMembers(o.api, tenant, 'fanout', users, o.concurrency);
  const [senderToken] = await matrixTokens(config, [userIdOf(config, tenant, memberSlug(0))]);
  const jwts = await Promise.all(Array.from({ length: users }, (_, j) => userJwt(config, tenant, memberSlug(j))));
  const url = new URL('/v1/realtime', o.api.baseUrl.replace(/^http/, 'ws')).toString();

  /** Sends `n` paced messages tagged `tag` and collects the socket process's arrivals. */
  async function burst(
    p: ReturnType<typeof socketProcess>,
    tag: string,
    n: number,
    expected: number,
  ): Promise<{
    sentAt: (number | undefined)[];
    answeredAt: (number | undefined)[];
    eventIds: (string | undefined)[];
    report: Report;
    seconds: number;
  }> {
    await p.ask({ type: 'expect', tag }, 'expecting');
    const sentAt: (number | undefined)[] = [];
    const answeredAt: (number | undefined)[] = [];
    const eventIds: (string | undefined)[] = [];
    const started = performance.now();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const wait = started + i * GAP_MS - performance.now();
      if (wait > 0) await sleep(wait);
      sentAt[i] = wallMs();
      sends.push(
        matrixSend(config, senderToken!, roomId, `${tag}-${i}`, markerBody(tag, i)).then(
          (id) => void ((eventIds[i] = id), (answeredAt[i] = wallMs())),
          () => void (sentAt[i] = undefined),
        ),
      );
    }
    await Promise.all(sends);
    let report: Report;
    const deadline = performance.now() + 60_000;
    for (;;) {
      report = await p.ask<Report>({ type: 'report' }, 'report');
      const complete = sentAt.every((t, i) => t === undefined || (report.arrivals[i]?.count ?? 0) >= expected);
      if (complete || performance.now() > deadline) break;
      await sleep(200);
    }
    return { sentAt, answeredAt, eventIds, report, seconds: (performance.now() - started) / 1000 };
  }

  // Baseline: the same room, sender and pacing, one socket.
  o.log(`fanout: baseline, 1 socket, ${o.messages} messages one every ${GAP_MS} ms`);
  const one = socketProcess();
  let baseline: Measurement;
  try {
    const c = await one.ask<{ failed: number; firstError: string }>(
      { type: 'connect', url, tokens: [jwts[1 % users]], concurrency: 1 },
      'connected',
    );
    if (c.failed) throw new Error(`fanout: the baseline socket did not connect: ${c.firstError}`);
    await matrixSend(config, senderToken!, roomId, `warm1-${o.runId}`, 'warm-up');
    const b = await burst(one, `fb${o.runId}`, o.messages, 1);
    const l = latencies(b.sentAt, (i) => b.report.arrivals[i]?.last);
    baseline = measurement('1 socket', l.samples.length, b.seconds, l.samples, l.missing);
  } finally {
    await one.ask({ type: 'close' }, 'closed').catch(() => undefined);
  }
  o.log(`  p50 ${baseline.latency.p50.toFixed(1)} / p99 ${baseline.latency.p99.toFixed(1)} ms`);

  o.log(`fanout: connecting ${o.sockets} sockets (${users} users) to the API process ${o.apiPid}`);
  const many = socketProcess();
  try {
    const rssBefore = await retainedKiB(o);
    const c = await many.ask<{ sockets: number; failed: number; firstError: string; ms: number }>(
      {
        type: 'connect',
        url,
        tokens: Array.from({ length: o.sockets }, (_, s) => jwts[s % users]),
        concurrency: CONNECT_CONCURRENCY,
      },
      'connected',
    );
    if (c.failed) throw new Error(`fanout: ${c.failed} of ${o.sockets} sockets did not connect: ${c.firstError}`);
    await sleep(2_000);
    const rssAfter = await retainedKiB(o);
    const perSocketKiB = (rssAfter - rssBefore) / o.sockets;
    o.log(
      `  connected in ${(c.ms / 1000).toFixed(1)} s; API RSS ${rssBefore} → ${rssAfter} KiB (${perSocketKiB.toFixed(1)} KiB per socket)`,
    );
    await matrixSend(config, senderToken!, roomId, `warm2-${o.runId}`, 'warm-up');
    await sleep(1_000);

    o.log(`fanout: ${o.sockets} sockets, ${o.messages} messages one every ${GAP_MS} ms`);
    const { value: b, cores } = await o.track(() => burst(many, `fo${o.runId}`, o.messages, o.sockets));
    const toLast = latencies(b.sentAt, (i) =>
      b.report.arrivals[i]?.count === o.sockets ? b.report.arrivals[i]!.last : undefined,
    );
    const toFirst = latencies(b.sentAt, (i) => b.report.arrivals[i]?.first).samples;
    const stored = await receivedAt(
      config,
      b.eventIds.filter((e): e is string => !!e),
    );
    const storedAt = b.eventIds.map((e) => (e ? stored.get(e) : undefined));
    const relayLast = latencies(storedAt, (i) =>
      b.report.arrivals[i]?.count === o.sockets ? b.report.arrivals[i]!.last : undefined,
    ).samples;
    const relayFirst = latencies(storedAt, (i) => b.report.arrivals[i]?.first).samples;
    const pushStored = latencies(b.sentAt, (i) => storedAt[i]).samples;
    const answered = latencies(b.sentAt, (i) => b.answeredAt[i]).samples;
    const spread = b.report.arrivals.filter((a): a is Arrival => !!a).map((a) => a.last - a.first);
    const clientCpuMs = b.report.cpuUs.filter((u): u is number => u !== null).map((u) => u / 1000);
    const deliveries = b.report.arrivals.reduce((s, a) => s + (a?.count ?? 0), 0);
    const ours = measurement(`${o.sockets} sockets`, deliveries, b.seconds, toLast.samples, toLast.missing);
    const busy = summarize(clientCpuMs);
    // The API process's own CPU per message (fan-out of one row to every socket), apart from waiting for a core.
    const apiCpuMs = ((cores.api ?? 0) * b.seconds * 1000) / o.messages;
    const result = compare({
      id: 'fanout',
      title: `Fan-out to ${o.sockets} sockets, one API process (issue 7 #4)`,
      unit: 'deliveries/s',
      params: { sockets: o.sockets, users, messages: o.messages },
      ours,
      baseline,
      goal: 50,
      metric: 'p99-ms',
      cpu: { ours: cores },
      check: {
        ok: toLast.missing === 0 && b.report.duplicates === 0 && b.report.lost.length === 0,
        detail:
          `${deliveries}/${o.messages * o.sockets} deliveries, ${o.messages - toLast.missing}/${o.messages} messages reached every socket` +
          (b.report.duplicates ? `, ${b.report.duplicates} duplicates` : '') +
          (b.report.lost.length
            ? `, ${b.report.lost.length} sockets closed by the server (codes ${[...new Set(b.report.lost)].join(', ')})`
            : ''),
      },
      details: {
        rssBeforeKiB: rssBefore,
        rssAfterKiB: rssAfter,
        perSocketKiB,
        connectMs: c.ms,
        toFirstMs: toFirst,
        relayLastMs: relayLast,
        relayFirstMs: relayFirst,
        putAnsweredMs: answered,
        pushStoredMs: pushStored,
        spreadMs: spread,
        clientCpuMs,
        apiCpuMs,
      },
    });
    result.notes = [
      `Fan-out: ${o.sockets} sockets of ${users} member users (the bench API lifts the per-user and per-address socket caps; open-file limit ${openFiles()}), in a child process of the bench; ` +
        `time = PUT issued → the last socket has the message; baseline = the same with 1 socket. ` +
        `PUT answered after ${p50p99(answered)}; PUT issued → push stored ${p50p99(pushStored)}; push stored → first socket ${p50p99(relayFirst)}, → last socket ${p50p99(relayLast)} (the relay's share); ` +
        `first → last socket ${p50p99(spread)}; the API process's CPU ${apiCpuMs.toFixed(1)} ms per message (${((apiCpuMs * 1000) / o.sockets).toFixed(1)} µs per socket); the socket process's CPU per message from its first to its last arrival p50 ${busy.p50.toFixed(1)} ms (${((busy.p50 * 1000) / o.sockets).toFixed(1)} µs per socket).`,
      `Fan-out memory: API process VmRSS, each reading after a full GC, ${(rssBefore / 1024).toFixed(1)} → ${(rssAfter / 1024).toFixed(1)} MiB with ${o.sockets} sockets connected = ${perSocketKiB.toFixed(1)} KiB per socket.`,
    ];
    return result;
  } finally {
    await many.ask({ type: 'close' }, 'closed').catch(() => undefined);
  }
}
