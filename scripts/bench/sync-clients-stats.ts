/**
 * The pure parts of the sync-clients benchmark (issue 7 #5): the room plan, which member sends
 * which message, the rate ramp, the verdict of one step, and parsing of /proc and Prometheus text.
 * No I/O here, so test/unit/bench-sync-clients.test.ts covers all of it.
 */
import { summarize, type LatencySummary } from './stats.js';

/**
 * `online` users (indices 0…online−1) in rooms of exactly `roomSize` members: ceil(online / roomSize)
 * rooms of consecutive users, the last one wrapping around to the first users so it is full too.
 */
export function planRooms(online: number, roomSize: number): number[][] {
  const size = Math.min(roomSize, online);
  const rooms = Math.ceil(online / size);
  return Array.from({ length: rooms }, (_, r) => Array.from({ length: size }, (_, k) => (r * size + k) % online));
}

/** Message `i` goes to room `i mod rooms`, sent by that room's members in turn. */
export function messagePlan(i: number, rooms: readonly (readonly number[])[]): { room: number; sender: number } {
  const room = i % rooms.length;
  const members = rooms[room]!;
  return { room, sender: members[Math.floor(i / rooms.length) % members.length]! };
}

/** One step of the ramp: the target rate and whether delivery held up. */
export interface StepOutcome {
  rate: number;
  passed: boolean;
}

export interface RampOptions {
  /** First rate tried (msg/s). */
  start: number;
  /** Never tried above this. */
  max: number;
  /** Bisection steps after the first failure. */
  refine: number;
  /** Stop refining once (lowest failing − highest passing) ≤ this share of the highest passing rate. */
  resolution: number;
}

/** Below 10 msg/s rates go in quarters, above in whole messages. */
const roundRate = (r: number): number => (r < 10 ? Math.round(r * 4) / 4 : Math.round(r));

/**
 * The next rate of the ramp, or null when done: double while every step passes (up to `max`),
 * then bisect between the highest passing and the lowest failing rate, at most `refine` times and
 * only while the gap is wider than `resolution`.
 */
export function nextRate(steps: readonly StepOutcome[], o: RampOptions): number | null {
  if (steps.length === 0) return o.start;
  const failed = steps.filter((s) => !s.passed).map((s) => s.rate);
  if (failed.length === 0) {
    const next = steps.at(-1)!.rate * 2;
    return next <= o.max ? next : null;
  }
  const lowestFail = Math.min(...failed);
  const best = sustainableRate(steps);
  const firstFail = steps.findIndex((s) => !s.passed);
  if (steps.length - 1 - firstFail >= o.refine) return null;
  if (best > 0 && lowestFail - best <= best * o.resolution) return null;
  const mid = roundRate((best + lowestFail) / 2);
  if (mid <= best || mid >= lowestFail || mid <= 0) return null;
  return mid;
}

/** The highest rate that passed below the lowest failing one (0: none passed). */
export function sustainableRate(steps: readonly StepOutcome[]): number {
  const failed = steps.filter((s) => !s.passed).map((s) => s.rate);
  const lowestFail = failed.length ? Math.min(...failed) : Number.POSITIVE_INFINITY;
  return Math.max(0, ...steps.filter((s) => s.passed && s.rate < lowestFail).map((s) => s.rate));
}

/** A message the sender put into a room during a step. */
export interface SentMessage {
  room: number;
  sender: number;
  /** Wall-clock ms just before the send request started. */
  sentAt: number;
  /** The send request failed. */
  failed?: boolean;
}

/** The key of the benchmark's marker in message content: `{s: step, i: message index, t: sent at}`. */
export const BENCH_KEY = 'org.openmeet.bench';

/** One online user, as the benchmark hands it to the users' process (sync-clients-child.ts). */
export interface ChildUser {
  index: number;
  userId: string;
  /** Matrix access token (`matrix`) or user JWT (`relay`). */
  token: string;
  /** Rooms the user must see before counting as online. */
  rooms: number;
}

/** The IPC messages between the benchmark and the users' process. */
export type ToChild =
  | { type: 'start'; baseUrl: string; users: ChildUser[]; concurrency: number; initialSyncLimit: number }
  | { type: 'collect'; step: number }
  | { type: 'release' }
  | { type: 'gc' }
  | { type: 'crowd'; baseUrl: string; users: ChildUser[]; perUser: number; concurrency: number }
  | { type: 'uncrowd' }
  | { type: 'stop' };

export type FromChild =
  | { type: 'loaded' }
  | { type: 'started'; online: number; failures: string[]; seconds: number }
  | { type: 'collected'; step: number; deliveries: Delivery[]; lost: number }
  | { type: 'released' }
  | { type: 'collectedGarbage' }
  | { type: 'crowded'; sockets: number; failures: string[] }
  | { type: 'uncrowded' };

/** One receiver got one message: [message index, receiving user index, latency ms]. */
export type Delivery = [number, number, number];

export interface StepResult {
  rate: number;
  sent: number;
  sendErrors: number;
  /** Deliveries due: every message that was sent, to each other member of its room. */
  expected: number;
  delivered: number;
  missing: number;
  /** Delivery latency (send start → received); missing deliveries count as infinitely late. */
  latency: LatencySummary;
  passed: boolean;
}

/**
 * Judges one step: each sent message must reach every other member of its room (duplicates and
 * deliveries to anyone else are ignored), and the p99 of delivery latency — missing deliveries
 * counted as infinitely late — must be at most `limitMs`. Any failed send fails the step.
 */
export function judgeStep(
  rate: number,
  sent: readonly SentMessage[],
  deliveries: readonly Delivery[],
  rooms: readonly (readonly number[])[],
  limitMs: number,
): StepResult {
  const seen = new Set<string>();
  const latencies: number[] = [];
  let expected = 0;
  for (const m of sent) if (!m.failed) expected += rooms[m.room]!.filter((u) => u !== m.sender).length;
  const members = rooms.map((r) => new Set(r));
  for (const [i, receiver, ms] of deliveries) {
    const m = sent[i];
    if (!m || m.failed || receiver === m.sender || !members[m.room]!.has(receiver)) continue;
    const key = `${i}:${receiver}`;
    if (seen.has(key)) continue;
    seen.add(key);
    latencies.push(ms);
  }
  const missing = expected - latencies.length;
  const latency = summarize([...latencies, ...Array<number>(missing).fill(Number.POSITIVE_INFINITY)]);
  const sendErrors = sent.filter((m) => m.failed).length;
  return {
    rate,
    sent: sent.length,
    sendErrors,
    expected,
    delivered: latencies.length,
    missing,
    latency,
    passed: sendErrors === 0 && missing === 0 && sent.length > 0 && latency.p99 <= limitMs,
  };
}

/** VmRSS from the text of /proc/<pid>/status, in bytes (NaN when absent). */
export function vmRssBytes(status: string): number {
  const m = /^VmRSS:\s*(\d+)\s*kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** The median of some samples (NaN when none). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The samples of one Prometheus counter in exposition text, by the value of one label
 * (e.g. `synapse_http_server_requests_received_total` by `servlet`), summed over the other labels.
 */
export function counterBy(text: string, metric: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const labelRe = new RegExp(`(?:^|,)${label}="((?:[^"\\\\]|\\\\.)*)"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const key = labelRe.exec(m[2] ?? '')?.[1] ?? '';
    const v = Number(m[3]);
    if (Number.isFinite(v)) out[key] = (out[key] ?? 0) + v;
  }
  return out;
}

/** after − before per key (keys only in `after` count from 0). */
export function counterDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

/** "SyncRestServlet 400, …" (largest first, at most `n`), or "none". */
export function renderCounts(counts: Record<string, number>, n = 4): string {
  const e = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (e.length === 0) return 'none';
  return e
    .slice(0, n)
    .map(([k, v]) => `${k || '(unlabelled)'} ${v}`)
    .join(', ')
    .concat(e.length > n ? ', …' : '');
}
