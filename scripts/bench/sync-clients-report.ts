/**
 * The figures of the sync-clients benchmark (issue 7 #5) as comparisons for the table, with the
 * notes that explain how they were measured.
 */
import { type Comparison, type Measurement, renderCores, summarize } from './stats.js';
import { renderCounts, sustainableRate, type StepResult } from './sync-clients-stats.js';

/** Delivery p99 above this fails a step (the issue's bound). */
export const LIMIT_MS = 1000;
const MiB = 2 ** 20;

/** What one side (their sync clients, or our relay) measured. */
export interface Side {
  /**
   * RSS of the measured process (bytes) with nobody, `half` users and everyone online; on ours also
   * with `count` more sockets of the same users open (`sockets.after`), to weigh one socket.
   */
  memory: {
    before: number;
    atHalf: number;
    after: number;
    half: number;
    sockets?: { count: number; after: number } | undefined;
  };
  online: number;
  failures: string[];
  startSeconds: number;
  idle: { seconds: number; requests: Record<string, number>; cores: Record<string, number> };
  steps: (StepResult & { lost: number; cores: Record<string, number> })[];
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const none = summarize([]);
const m = (
  label: string,
  ops: number,
  seconds: number,
  rate: number,
  errors: number,
  detail: string,
  latency = none,
): Measurement => ({
  label,
  ops,
  seconds,
  rate,
  errors,
  latency,
  detail,
});

function memoryOf(side: Side, online: number, label: string, what: string): { m: Measurement; perUser: number } {
  // The marginal cost, from half to all users online. A delta below one page per user is noise (or
  // the heap shrank): count it as that page. Where the users' sockets were also weighed in bulk
  // (ours: all a user costs the API is their socket), that finer figure is the one used.
  const { before, atHalf, after, half, sockets } = side.memory;
  const marginal = Math.max(4096, (after - atHalf) / Math.max(1, online - half));
  const perSocket = sockets ? (sockets.after - after) / sockets.count : null;
  const perUser = perSocket !== null ? Math.max(1, perSocket) : marginal;
  const readings = `${what} RSS ${(before / MiB).toFixed(1)} → ${(atHalf / MiB).toFixed(1)} → ${(after / MiB).toFixed(1)} MiB with 0 → ${half} → ${online} online`;
  const detail = sockets
    ? `${(perUser / 1024).toFixed(1)} KiB per user = per socket: ${what} RSS ${(after / MiB).toFixed(1)} → ${(sockets.after / MiB).toFixed(1)} MiB with ${sockets.count} more sockets of the same users; ${readings}`
    : `${(perUser / 1024).toFixed(1)} KiB per user: ${readings}`;
  return { m: m(label, online, 0, 2 ** 30 / perUser, online - side.online, detail), perUser };
}

function capacityOf(side: Side, label: string): { m: Measurement; best: number; firstFail?: StepResult } {
  const best = sustainableRate(side.steps);
  const at = side.steps.find((s) => s.passed && s.rate === best);
  const fail = side.steps.filter((s) => !s.passed).sort((a, b) => a.rate - b.rate)[0];
  const failText = fail
    ? `; ${fail.rate} msg/s failed (p99 ${Number.isFinite(fail.latency.p99) ? `${fail.latency.p99.toFixed(0)} ms` : `–, ${fail.missing} missing`})`
    : '; never failed';
  const detail = `${at ? `${at.sent} msgs, ${at.delivered} deliveries, p99 ${at.latency.p99.toFixed(0)} ms` : 'no step passed'}${failText}`;
  return {
    m: m(label, at?.sent ?? 0, at ? at.sent / best : 0, best, 0, detail, at?.latency ?? none),
    best,
    firstFail: fail,
  };
}

/** The three comparisons: memory per online user, idle homeserver requests, sustainable message rate. */
export function syncClientsReport(
  o: { online: number; roomSize: number; stepSeconds: number },
  r: { rooms: number },
  theirs: Side,
  ours: Side,
): Comparison[] {
  const params = { online: o.online, 'room size': o.roomSize, rooms: r.rooms };
  const memOurs = memoryOf(ours, o.online, 'relay sockets', 'API');
  const memTheirs = memoryOf(theirs, o.online, 'sync clients', 'backend');
  const memRatio = memTheirs.perUser / memOurs.perUser;
  const idle = (side: Side): Measurement => {
    const n = sum(side.idle.requests);
    return m(
      'idle',
      n,
      side.idle.seconds,
      n / side.idle.seconds,
      0,
      `${(n / side.idle.seconds / o.online).toFixed(4)}/s per user; ${n} in ${side.idle.seconds} s`,
    );
  };
  const idleOurs = idle(ours);
  const idleTheirs = idle(theirs);
  const capOurs = capacityOf(ours, 'relay sockets');
  const capTheirs = capacityOf(theirs, 'sync clients');
  const capRatio = capTheirs.best > 0 ? capOurs.best / capTheirs.best : capOurs.best > 0 ? Number.POSITIVE_INFINITY : 0;
  const startErrors = o.online - ours.online + (o.online - theirs.online);
  const check = {
    ok: startErrors === 0,
    detail: `ours: ${ours.online}/${o.online} sockets live in ${ours.startSeconds.toFixed(1)} s; theirs: ${theirs.online}/${o.online} clients synced in ${theirs.startSeconds.toFixed(1)} s`,
  };
  const steps = (side: Side): string =>
    side.steps
      .map(
        (st) =>
          `${st.rate} ${st.passed ? '✓' : '✗'} (p99 ${Number.isFinite(st.latency.p99) ? st.latency.p99.toFixed(0) : '∞'} ms)`,
      )
      .join(', ');
  const worst = (side: Side): string => {
    const f = side.steps.find((st) => !st.passed);
    return f ? `at ${f.rate} msg/s: ${renderCores(f.cores)}` : 'no step failed';
  };
  const notes = [
    `Sync clients vs relay (issue 7 #5): ${o.online} users provisioned through the API, in ${r.rooms} rooms of ${o.roomSize} (the last room wraps around to the first users), untimed. ` +
      "Theirs: one child Node process (the first-generation backend) running one matrix-js-sdk 43 client per user (createClient with the user's stored access token, startClient({initialSyncLimit: 20, lazyLoadMembers: true}), in-memory store, 30 s long-poll /sync). " +
      'Ours: one om-relay.v1 WebSocket per user (user JWT) on the one API process, the sockets held by a separate child process. The two sides never run at once.',
    `Memory per online user: the marginal RSS (after ${o.stepSeconds >= 10 ? 20 : 8} s of quiet and a full V8 garbage collection in the measured process — through the inspector on the API, gc() in the backend —, then the median of 5 readings) between ${Math.floor(o.online / 2)} and ${o.online} users online, divided by the users added — ` +
      'theirs: the backend process (SDK loaded, code warmed up by 10 clients started and stopped first); ours: the API process (likewise after 10 sockets opened and closed). ' +
      'A plain before/after delta mostly measures how far V8 happened to grow or shrink its heap (the first users after a quiet spell pay for regrowing a heap V8 had shrunk; more users after them cost far less). ' +
      `On our side ${Math.floor(o.online / 2)} more sockets are within the noise of an RSS reading, so the same users then open ${ours.memory.sockets?.count ?? 0} more idle sockets, weighed together (a user costs the API their socket and nothing else), and closed again before anything else is measured. ` +
      'The socket-holding process is not counted on our side (it stands for the browsers); on theirs the clients are the backend. Ratio = their bytes per user / ours (under one 4 KiB page per user counts as one page).',
    `Idle homeserver load: requests Synapse itself counted (synapse_http_server_requests_received_total from /_synapse/metrics, the bench stack runs Synapse with SYNAPSE_METRICS=on) during ${theirs.idle.seconds} s with nobody sending. ` +
      `Theirs: ${renderCounts(theirs.idle.requests)}; Synapse CPU ${(theirs.idle.cores.synapse ?? 0).toFixed(3)} cores. Ours: ${renderCounts(ours.idle.requests)}; Synapse CPU ${(ours.idle.cores.synapse ?? 0).toFixed(3)} cores. Goal: 0 idle requests per user on our side. Scheduled reconciliation is set to once a week on the bench stack so that it fires inside no measurement: it costs one membership read per desired membership per interval (RECONCILE_INTERVAL_MINUTES, 15 by default), online users or not.`,
    `Capacity: a sender in the benchmark process sends m.room.message events with the members' own tokens straight to Synapse (PUT /send, keep-alive, open loop: each message at its time), spread over the rooms and their members in turn, ${o.stepSeconds} s per step; ` +
      `every message must reach each other online member of its room (${o.roomSize - 1} deliveries), latency = send start → received. A step passes when nothing is missing and p99 ≤ ${LIMIT_MS} ms (a failed step is run once more and counts as failed only if it fails again${o.stepSeconds >= 10 ? '' : ' — not in this short run'}); the rate doubles from 1 msg/s until a step fails, then is bisected. ` +
      "The senders load Synapse identically on both sides; the difference is the per-user /sync loops versus one appservice push stream. Synapse rate limits: the bench stack's relaxed limits (rc_message 10000/s), no per-user overrides.",
    `Capacity steps, theirs: ${steps(theirs)}; ours: ${steps(ours)} (msg/s).`,
    `CPU at the first failing step, theirs ${worst(theirs)}; ours ${worst(ours)}.`,
  ];
  const detailsOf = (side: Side) => ({
    memory: side.memory,
    idle: side.idle,
    steps: side.steps,
    startSeconds: side.startSeconds,
    failures: side.failures,
  });
  const base = { params, check, notes: [] as string[] };
  return [
    {
      ...base,
      id: 'sync-clients-memory',
      title: 'Memory per online user, sync clients vs relay (issue 7 #5)',
      unit: 'users/GiB',
      ours: memOurs.m,
      baseline: memTheirs.m,
      ratio: memRatio,
      goal: 50,
      meetsGoal: check.ok && memRatio >= 50,
      notes,
      details: { ours: detailsOf(ours), theirs: detailsOf(theirs) },
    },
    {
      ...base,
      id: 'sync-clients-idle',
      title: 'Idle homeserver requests, sync clients vs relay (issue 7 #5)',
      unit: 'requests/s',
      ours: idleOurs,
      baseline: idleTheirs,
      ratio: idleTheirs.rate > 0 ? idleOurs.rate / idleTheirs.rate : 0,
      goal: 0,
      goalLabel: '0 requests per user (ours)',
      meetsGoal: check.ok && idleOurs.ops === 0,
    },
    {
      ...base,
      id: 'sync-clients',
      title: `Sustainable message rate, ${o.online} online (issue 7 #5)`,
      unit: 'msg/s',
      ours: capOurs.m,
      baseline: capTheirs.m,
      ratio: capRatio,
      goal: 10,
      meetsGoal: check.ok && capRatio >= 10,
    },
  ];
}
