/**
 * The pure parts of the benchmark harness: timing aggregation, percentiles, a bounded pool, the
 * rooms final-state check, the markdown table and the BENCHMARKS.md section. No I/O here, so
 * test/unit/bench.test.ts covers all of it.
 */

/** Latency summary of one side of a benchmark, in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** One side of a comparison: what was done, how long it took, how fast that is. */
export interface Measurement {
  label: string;
  /** Units of work completed (users, memberships). */
  ops: number;
  /** Wall-clock seconds from the first request to the last completion. */
  seconds: number;
  /** ops / seconds. */
  rate: number;
  /** Operations that failed (counted, never retried by the harness). */
  errors: number;
  /** Per-operation latency. */
  latency: LatencySummary;
  /** Shown in the table instead of "(ops in seconds s)" when the figure is not a rate over time. */
  detail?: string;
}

export interface CheckResult {
  ok: boolean;
  /** What was compared, or the first problems found. */
  detail: string;
}

export interface Comparison {
  id: string;
  title: string;
  /** What `rate` counts, e.g. "users/s". */
  unit: string;
  params: Record<string, number>;
  ours: Measurement;
  baseline: Measurement;
  /** ours.rate / baseline.rate. */
  ratio: number;
  /** The issue's goal for the ratio (ours ≥ goal × baseline). */
  goal: number;
  meetsGoal: boolean;
  check?: CheckResult;
  /** CPU used per component during each timed side, in cores (measured from /proc). */
  cpu?: Record<string, Record<string, number>>;
  /** The goal as the table shows it, when `metric` cannot say it. */
  goalLabel?: string;
  /** What `ratio` and `goal` mean; absent: 'rate'. */
  metric?: GoalMetric;
  /** Findings of this benchmark, printed under the table (and into BENCHMARKS.md). */
  notes?: string[];
  /** Further raw figures for the JSON results (latency breakdowns, memory). */
  details?: Record<string, unknown>;
}

/**
 * How a comparison is judged:
 * - 'rate': ratio = ours.rate / baseline.rate, met when ratio ≥ goal (throughput);
 * - 'p99-ratio': ratio = ours p99 / baseline p99, met when ratio ≤ goal (latency against a baseline);
 * - 'p99-ms': ratio = ours p99 / baseline p99, met when ours p99 ≤ goal milliseconds (an absolute bound);
 * - 'added-p50-ms': ratio = ours.rate / baseline.rate, met when ours p50 − baseline p50 ≤ goal milliseconds.
 */
export type GoalMetric = 'rate' | 'p99-ratio' | 'p99-ms' | 'added-p50-ms';

/** Nearest-rank percentile (p in 0..100) of an ascending-sorted array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[sorted.length - 1]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    min: sorted.length ? sorted[0]! : Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

export function measurement(label: string, ops: number, seconds: number, latenciesMs: readonly number[], errors: number): Measurement {
  return { label, ops, seconds, rate: seconds > 0 ? ops / seconds : 0, errors, latency: summarize(latenciesMs) };
}

/** One round of one side: its measurement, raw latencies and CPU by component. */
export interface Round {
  m: Measurement;
  latenciesMs: number[];
  cores: Record<string, number>;
}

/** Rounds of one side as one measurement: work and time summed, latencies pooled, CPU weighted by each round's time. */
export function combineRounds(rounds: readonly Round[]): { m: Measurement; cores: Record<string, number> } {
  const seconds = rounds.reduce((s, r) => s + r.m.seconds, 0);
  const cores: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.cores)) cores[k] = (cores[k] ?? 0) + (v * r.m.seconds) / seconds;
  const m = measurement(
    rounds[0]!.m.label,
    rounds.reduce((s, r) => s + r.m.ops, 0),
    seconds,
    rounds.flatMap((r) => r.latenciesMs),
    rounds.reduce((s, r) => s + r.m.errors, 0),
  );
  return { m, cores };
}

export function compare(
  c: Omit<Comparison, 'ratio' | 'meetsGoal'>,
): Comparison {
  const metric = c.metric ?? 'rate';
  const byP99 = metric === 'p99-ratio' || metric === 'p99-ms';
  const ratio = byP99
    ? c.baseline.latency.p99 > 0 ? c.ours.latency.p99 / c.baseline.latency.p99 : Number.NaN
    : c.baseline.rate > 0 ? c.ours.rate / c.baseline.rate : 0;
  const within =
    metric === 'rate' ? ratio >= c.goal
    : metric === 'p99-ratio' ? ratio <= c.goal
    : metric === 'p99-ms' ? c.ours.latency.p99 <= c.goal
    : c.ours.latency.p50 - c.baseline.latency.p50 <= c.goal;
  // A run with errors, or a failed final-state check, never meets its goal.
  const clean = c.ours.errors === 0 && c.baseline.errors === 0 && (c.check?.ok ?? true);
  return { ...c, ratio, meetsGoal: clean && within };
}

/** The goal as the table shows it. */
export function goalText(r: Pick<Comparison, 'metric' | 'goal' | 'goalLabel'>): string {
  if (r.goalLabel) return r.goalLabel;
  const m = r.metric ?? 'rate';
  if (m === 'p99-ratio') return `p99 ≤ ${r.goal}× direct`;
  if (m === 'p99-ms') return `p99 ≤ ${r.goal} ms`;
  if (m === 'added-p50-ms') return `added p50 ≤ ${r.goal} ms`;
  return `≥ ${r.goal}×`;
}

/**
 * Runs `task` over `items` with at most `concurrency` in flight, in order of `items`; records each
 * task's latency. Failures are collected, not thrown, so one error does not stop the run.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<void>,
  now: () => number = () => performance.now(),
): Promise<{ latenciesMs: number[]; errors: { index: number; error: unknown }[] }> {
  const latenciesMs: number[] = [];
  const errors: { index: number; error: unknown }[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      const started = now();
      try {
        await task(items[i]!, i);
        latenciesMs.push(now() - started);
      } catch (error) {
        errors.push({ index: i, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  return { latenciesMs, errors };
}

/** What one room should look like: the managed users that must be joined, with their power level. */
export interface ExpectedRoom {
  roomId: string;
  members: Record<string, number>;
}

/** What the homeserver says about one room, as the bot sees it. */
export interface ActualRoom {
  joined: readonly string[];
  powerLevelUsers: Record<string, number>;
  usersDefault: number;
}

/**
 * Compares a room on the homeserver with what was asked for, exactly: the joined managed users
 * (those whose id starts with `managedPrefix`) are the expected ones, the bot is joined, and every
 * managed user's effective power level (explicit entry, else users_default) is the role's level.
 * Returns the problems found (empty: the room is right).
 */
export function roomProblems(expected: ExpectedRoom, actual: ActualRoom, botUserId: string, managedPrefix: string): string[] {
  const problems: string[] = [];
  const joinedManaged = new Set(actual.joined.filter((u) => u.startsWith(managedPrefix)));
  if (!actual.joined.includes(botUserId)) problems.push(`${expected.roomId}: bot ${botUserId} not joined`);
  for (const u of Object.keys(expected.members)) if (!joinedManaged.has(u)) problems.push(`${expected.roomId}: ${u} not joined`);
  for (const u of joinedManaged) if (!(u in expected.members)) problems.push(`${expected.roomId}: ${u} joined but not expected`);
  const managed = new Set([...Object.keys(expected.members), ...Object.keys(actual.powerLevelUsers).filter((u) => u.startsWith(managedPrefix))]);
  for (const u of [...managed].sort()) {
    const have = actual.powerLevelUsers[u] ?? actual.usersDefault;
    const want = expected.members[u] ?? actual.usersDefault;
    if (have !== want) problems.push(`${expected.roomId}: power level ${u} is ${have}, want ${want}`);
  }
  return problems;
}

/** Folds the per-room problems into one check result (the first few problems named). */
export function roomsCheck(rooms: number, memberships: number, problems: readonly string[]): CheckResult {
  if (problems.length === 0) return { ok: true, detail: `${rooms} rooms, ${memberships} memberships and power levels exact` };
  const shown = problems.slice(0, 5).join('; ');
  return { ok: false, detail: `${problems.length} problems: ${shown}${problems.length > 5 ? '; …' : ''}` };
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const lat = (l: LatencySummary): string => `${fmt(l.p50, 0)} / ${fmt(l.p95, 0)} / ${fmt(l.p99, 0)}`;
const size = (params: Record<string, number>): string =>
  Object.entries(params)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** The results as one markdown table: each figure beside its baseline, with the ratio and the goal. */
export function renderTable(results: readonly Comparison[]): string {
  const lines = [
    '| benchmark | size | ours | direct | ratio | goal | met | final state | ours p50 / p95 / p99 ms | direct p50 / p95 / p99 ms | errors (ours / direct) |',
    '|---|---|---:|---:|---:|---:|:---:|---|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.title} | ${size(r.params)} | ${fmt(r.ours.rate)} ${r.unit} (${r.ours.detail ?? `${r.ours.ops} in ${fmt(r.ours.seconds, 2)} s`}) | ` +
        `${fmt(r.baseline.rate)} ${r.unit} (${r.baseline.detail ?? `${r.baseline.ops} in ${fmt(r.baseline.seconds, 2)} s`}) | ${r.metric === 'p99-ratio' || r.metric === 'p99-ms' ? 'p99 ' : ''}${fmt(r.ratio, 2)}× | ${goalText(r)} | ` +
        `${r.meetsGoal ? 'yes' : 'no'} | ${r.check ? `${r.check.ok ? '✓' : '✗'} ${r.check.detail}` : '–'} | ${lat(r.ours.latency)} | ${lat(r.baseline.latency)} | ` +
        `${r.ours.errors} / ${r.baseline.errors} |`,
    );
  }
  return lines.join('\n');
}

/** The machine a run was measured on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryMiB: number;
  node: string;
  os: string;
}

/** The CPU model from /proc/cpuinfo's text (first "model name"), or "unknown". */
export function cpuModelFrom(cpuinfo: string): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(cpuinfo);
  return m ? m[1]!.trim() : 'unknown';
}

/** MemTotal from /proc/meminfo's text, in MiB (0 when absent). */
export function memTotalMiB(meminfo: string): number {
  const m = /^MemTotal:\s*(\d+)\s*kB$/m.exec(meminfo);
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

export const BENCH_BEGIN = '<!-- bench:begin -->';
export const BENCH_END = '<!-- bench:end -->';

/** The generated section of BENCHMARKS.md: table, command, date, machine, notes. */
export function renderSection(opts: {
  results: readonly Comparison[];
  command: string;
  date: string;
  machine: MachineInfo;
  resultsFile: string;
  notes: readonly string[];
  /** A partial run's ids (sectionMarkers). */
  key?: string;
}): string {
  const m = opts.machine;
  const { begin, end } = sectionMarkers(opts.key);
  return [
    begin,
    `Measured ${opts.date} with \`${opts.command}\` (raw results: \`${opts.resultsFile}\`, git-ignored).`,
    '',
    `Machine: ${m.cpus} CPUs (\`nproc\`), ${m.cpuModel}, ${(m.memoryMiB / 1024).toFixed(1)} GiB memory, ${m.os}, Node ${m.node}.`,
    '',
    renderTable(opts.results),
    '',
    ...opts.notes.map((n) => `- ${n}`),
    end,
  ].join('\n');
}

/**
 * The markers of a generated section: the full run's, or (`key`: the ids of a partial run, `--only`)
 * a section of its own, so that a partial run leaves the full run's figures as they are.
 */
export function sectionMarkers(key?: string): { begin: string; end: string } {
  return key ? { begin: `<!-- bench:begin only=${key} -->`, end: `<!-- bench:end only=${key} -->` } : { begin: BENCH_BEGIN, end: BENCH_END };
}

/**
 * Replaces the generated section of BENCHMARKS.md (between the markers of `key`, see sectionMarkers),
 * or adds it: a partial run's right after the full run's section, else at the end.
 */
export function replaceSection(doc: string, section: string, key?: string): string {
  const { begin: b, end: e } = sectionMarkers(key);
  const begin = doc.indexOf(b);
  const end = doc.indexOf(e);
  if (begin >= 0 && end > begin) return doc.slice(0, begin) + section + doc.slice(end + e.length);
  const full = doc.indexOf(BENCH_END);
  if (key && full >= 0) return `${doc.slice(0, full + BENCH_END.length)}\n\n${section}${doc.slice(full + BENCH_END.length)}`;
  return `${doc.replace(/\s*$/, '')}\n\n${section}\n`;
}

export interface BenchArgs {
  users: number;
  concurrency: number;
  rooms: number;
  members: number;
  quick: boolean;
  only: BenchId[];
  keepStack: boolean;
  /** Run the worker and the API under `--cpu-prof` and report where their CPU went. */
  profile: boolean;
  /** relay-latency: messages sent, one every `interval` ms. */
  messages: number;
  interval: number;
  /** fanout: sockets on the one API process, the users they belong to, messages timed. */
  sockets: number;
  fanoutUsers: number;
  fanoutMessages: number;
  /** durable-send: messages sent on each side (at `concurrency`). */
  sends: number;
  /** durable-send: messages sent on each side one at a time (no queueing; the goal's figure). */
  sequentialSends: number;
  /** sync-clients: online users, in rooms of `roomSize`. */
  online: number;
  roomSize: number;
  /** sync-clients: seconds per step of the rate ramp (15, --quick 6; from 10 on, full idle window and failures confirmed). */
  stepSeconds: number;
  /** users-batch: users provisioned through the batch route, in `batches` requests. */
  batchUsers: number;
  batches: number;
  /** users-batch: rounds of direct-then-ours. */
  batchRounds: number;
  /** member-lists and durable-send (under load): rounds, the order of the sides alternating (direct first in the first). */
  listRounds: number;
  sendRounds: number;
  /** search: messages seeded in `searchRooms` rooms, and the queries timed on each side. */
  searchMessages: number;
  searchRooms: number;
  searchQueries: number;
  /** search: seed a new corpus even when the stack holds one of this size (search-corpus.ts). */
  searchReseed: boolean;
  /**
   * The bench stack's Synapse database (STACK_SYNAPSE_DB): `postgres` by default when the run is the
   * search benchmark alone (production's full-text search), else `sqlite`, as the figures before it.
   */
  synapseDb: 'sqlite' | 'postgres';
}

/** Every benchmark, in the order a full run does them. */
export const BENCH_IDS = ['provisioning', 'rooms', 'member-lists', 'relay-latency', 'fanout', 'durable-send', 'sync-clients', 'users-batch', 'search'] as const;
export type BenchId = (typeof BENCH_IDS)[number];

/**
 * `--users N --concurrency N --rooms N --members N --quick --only provisioning,rooms --keep-stack`; for the relay
 * benchmarks `--messages N --interval MS` (relay-latency), `--sockets N --fanout-users N --fanout-messages N` (fanout),
 * `--sends N` (durable-send, at --concurrency), `--sequential-sends N` (durable-send, one at a time).
 */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const quick = argv.includes('--quick');
  const out: BenchArgs = {
    users: quick ? 20 : 200,
    concurrency: quick ? 5 : 20,
    rooms: quick ? 3 : 20,
    members: quick ? 5 : 50,
    quick,
    only: [...BENCH_IDS],
    keepStack: argv.includes('--keep-stack'),
    profile: argv.includes('--profile'),
    messages: quick ? 50 : 500,
    interval: 80,
    sockets: quick ? 200 : 2000,
    fanoutUsers: quick ? 10 : 100,
    fanoutMessages: quick ? 10 : 50,
    sends: quick ? 50 : 500,
    sequentialSends: quick ? 50 : 200,
    online: quick ? 20 : 200,
    roomSize: quick ? 10 : 30,
    stepSeconds: quick ? 6 : 15,
    batchUsers: quick ? 50 : 1000,
    batches: 1,
    batchRounds: quick ? 1 : 2,
    listRounds: quick ? 1 : 4,
    sendRounds: quick ? 1 : 4,
    searchMessages: quick ? 2000 : 100_000,
    searchRooms: quick ? 20 : 200,
    searchQueries: quick ? 40 : 200,
    searchReseed: argv.includes('--search-reseed'),
    synapseDb: 'sqlite',
  };
  let synapseDb: BenchArgs['synapseDb'] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick' || a === '--keep-stack' || a === '--profile' || a === '--search-reseed') continue;
    const value = argv[i + 1];
    const num = (): number => {
      const n = Number(value);
      if (!value || !Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
      i++;
      return n;
    };
    if (a === '--users') out.users = num();
    else if (a === '--concurrency') out.concurrency = num();
    else if (a === '--rooms') out.rooms = num();
    else if (a === '--members') out.members = num();
    else if (a === '--messages') out.messages = num();
    else if (a === '--interval') out.interval = num();
    else if (a === '--sockets') out.sockets = num();
    else if (a === '--fanout-users') out.fanoutUsers = num();
    else if (a === '--fanout-messages') out.fanoutMessages = num();
    else if (a === '--sends') out.sends = num();
    else if (a === '--batch-users') out.batchUsers = num();
    else if (a === '--batches') out.batches = num();
    else if (a === '--batch-rounds') out.batchRounds = num();
    else if (a === '--list-rounds') out.listRounds = num();
    else if (a === '--send-rounds') out.sendRounds = num();
    else if (a === '--sequential-sends') out.sequentialSends = num();
    else if (a === '--online') out.online = num();
    else if (a === '--room-size') out.roomSize = num();
    else if (a === '--step-seconds') out.stepSeconds = num();
    else if (a === '--search-messages') out.searchMessages = num();
    else if (a === '--search-rooms') out.searchRooms = num();
    else if (a === '--search-queries') out.searchQueries = num();
    else if (a === '--synapse-db') {
      if (value !== 'sqlite' && value !== 'postgres') throw new Error('--synapse-db takes sqlite or postgres');
      synapseDb = value;
      i++;
    } else if (a === '--only') {
      const names = (value ?? '').split(',');
      if (!names.every((n) => (BENCH_IDS as readonly string[]).includes(n))) throw new Error(`--only takes ${BENCH_IDS.join(',')}`);
      out.only = names as BenchArgs['only'];
      i++;
    } else throw new Error(`unknown argument ${a}`);
  }
  out.synapseDb = synapseDb ?? (out.only.length === 1 && out.only[0] === 'search' ? 'postgres' : 'sqlite');
  return out;
}

/** utime + stime (clock ticks) and the parent pid from the text of /proc/<pid>/stat. */
export function parseProcStat(text: string): { ppid: number; ticks: number } | null {
  // The command name is in parentheses and may contain spaces: split after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).trim().split(/\s+/);
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  const ppid = Number(f[1]);
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isFinite(ppid) && Number.isFinite(ticks) ? { ppid, ticks } : null;
}

/** CPU use per component over an interval, in cores (CPU seconds / wall seconds). */
export function coresUsed(before: Record<string, number>, after: Record<string, number>, wallSeconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = wallSeconds > 0 ? Math.max(0, v - (before[k] ?? 0)) / wallSeconds : 0;
  return out;
}

/** "synapse 0.95, temporal 0.40, …" (largest first), with the total. */
export function renderCores(cores: Record<string, number>): string {
  const entries = Object.entries(cores).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((s, [, v]) => s + v, 0);
  return `${entries.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')} (total ${total.toFixed(2)} cores)`;
}

/**
 * CPU milliseconds per operation by component (cores × seconds ÷ ops), largest first, with the
 * rate the machine's cores could sustain at that cost: where the time goes, whatever else runs.
 */
export function renderCpuPerOp(cores: Record<string, number>, m: Pick<Measurement, 'ops' | 'seconds'>, op: string, cpus: number): string {
  if (m.ops <= 0 || m.seconds <= 0) return `no ${op.endsWith('y') ? `${op.slice(0, -1)}ies` : `${op}s`} completed`;
  const own = Object.entries(cores).filter(([k]) => k !== 'rest of machine');
  const perOp = own.map(([k, v]) => [k, (v * m.seconds * 1000) / m.ops] as const).sort((a, b) => b[1] - a[1]);
  const total = perOp.reduce((s, [, v]) => s + v, 0);
  const ceiling = total > 0 ? (cpus * 1000) / total : Infinity;
  // Fan-out counts deliveries: fractions of a millisecond each, shown in microseconds.
  const [scale, unit] = total < 1 ? [1000, 'µs'] : [1, 'ms'];
  const plural = op.endsWith('y') ? `${op.slice(0, -1)}ies` : `${op}s`;
  return `${perOp.map(([k, v]) => `${k} ${(v * scale).toFixed(1)}`).join(', ')} ${unit} per ${op} (total ${(total * scale).toFixed(1)} ${unit}: ${cpus} cores could do at most ${ceiling.toFixed(1)} ${plural}/s at this cost)`;
}
