/**
 * The pure parts of the relay benchmarks (relay-latency, fanout, durable-send): message markers,
 * per-message arrival bookkeeping, latency breakdowns and /proc readings. No I/O here, so
 * test/unit/bench.test.ts covers all of it.
 */

/** Wall-clock milliseconds with sub-millisecond resolution (comparable with PostgreSQL's now() on this machine). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** The body of message `i` of a run: `<tag>-<i>`, found again in a frame without parsing it. */
export const markerBody = (tag: string, i: number): string => `${tag}-${i}`;

/**
 * The message index in a frame's text (or bytes), or -1: the first `"body":"<tag>-<digits>"` in it.
 * A cheap substring search, so 2,000 sockets cost the client as little as possible.
 */
export function markerIndex(text: string, tag: string): number {
  const needle = `"body":"${tag}-`;
  const at = text.indexOf(needle);
  if (at < 0) return -1;
  let i = at + needle.length;
  let n = 0;
  let digits = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
    digits++;
  }
  return digits > 0 && text[i] === '"' ? n : -1;
}

/** When each copy of one message arrived, over many sockets. */
export interface Arrival {
  /** Sockets that got it (each counted once). */
  count: number;
  /** First and last arrival, wall-clock ms. */
  first: number;
  last: number;
}

/** Per-message arrivals over `sockets` sockets, each socket counted once per message. */
export class ArrivalBook {
  private readonly seen: Uint8Array[] = [];
  readonly arrivals: Arrival[] = [];
  duplicates = 0;

  constructor(readonly sockets: number) {}

  /** Records message `i` on socket `s` at `at`; returns the arrival once every socket has it, else null. */
  record(i: number, s: number, at: number): Arrival | null {
    const seen = (this.seen[i] ??= new Uint8Array(this.sockets));
    if (seen[s]) {
      this.duplicates++;
      return null;
    }
    seen[s] = 1;
    const a = (this.arrivals[i] ??= { count: 0, first: at, last: at });
    a.count++;
    a.first = Math.min(a.first, at);
    a.last = Math.max(a.last, at);
    return a.count === this.sockets ? a : null;
  }
}

/**
 * Latencies of messages against their send times, in ms: `to(i)` picks the arrival time of message
 * `i` (or undefined when it never arrived). Missing messages are counted, not timed.
 */
export function latencies(
  sentAt: readonly (number | undefined)[],
  to: (i: number) => number | undefined,
): { samples: number[]; missing: number } {
  const samples: number[] = [];
  let missing = 0;
  sentAt.forEach((t0, i) => {
    if (t0 === undefined) return;
    const t = to(i);
    if (t === undefined) missing++;
    else samples.push(t - t0);
  });
  return { samples, missing };
}

/** VmRSS of /proc/<pid>/status's text, in KiB (NaN when absent). */
export function vmRssKiB(status: string): number {
  const m = /^VmRSS:\s*(\d+)\s*kB$/m.exec(status);
  return m ? Number(m[1]) : Number.NaN;
}

/** "p50 3.1 / p99 9.8 ms" of samples (nearest rank), for notes. */
export function p50p99(samples: readonly number[]): string {
  if (samples.length === 0) return 'no samples';
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
  return `p50 ${at(50).toFixed(1)} / p99 ${at(99).toFixed(1)} ms`;
}

/** Where one workflow's time went, from its history (event type names and times in ms), in ms. */
export interface HistoryPhases {
  /** WorkflowExecutionStarted → WorkflowExecutionCompleted. */
  total: number;
  /** Workflow tasks scheduled → picked up by the worker, summed. */
  workflowTaskWait: number;
  /** Workflow tasks picked up → completed, summed: the workflow code, and local activities run inside. */
  workflowTaskRun: number;
  /**
   * Of `workflowTaskRun`: local activities from first scheduled to completed by the worker, summed
   * (LOCAL_ACTIVITY_SCHEDULED → LOCAL_ACTIVITY_COMPLETED: the times in each local activity's marker,
   * the worker's clock, which on one machine is the server's). The rest of `workflowTaskRun` is the
   * SDK: activating the workflow, running its code, completing the task.
   */
  localActivityRun: number;
  /** Activity tasks scheduled → picked up by the worker, summed. */
  activityWait: number;
  /** Activities started → completed, summed (the work itself, e.g. the Matrix call). */
  activityRun: number;
  /** The rest: results being recorded by the server, hand-overs between tasks. */
  other: number;
}

/** Marker name of a local activity's result in a history (sdk-core). */
export const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/**
 * The LOCAL_ACTIVITY_SCHEDULED / LOCAL_ACTIVITY_COMPLETED times (ms) of a local activity marker's
 * `data` detail (sdk-core's JSON: `original_schedule_time`, `complete_time` as seconds + nanos);
 * [] when absent or unreadable.
 */
export function localActivityEvents(markerData: string): { type: string; ms: number }[] {
  try {
    const d = JSON.parse(markerData) as Record<string, { seconds?: number | string; nanos?: number } | null | undefined>;
    const ms = (t: { seconds?: number | string; nanos?: number } | null | undefined): number | undefined =>
      t && t.seconds !== undefined ? Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : undefined;
    const from = ms(d.original_schedule_time);
    const to = ms(d.complete_time);
    if (from === undefined || to === undefined) return [];
    return [
      { type: 'LOCAL_ACTIVITY_SCHEDULED', ms: from },
      { type: 'LOCAL_ACTIVITY_COMPLETED', ms: to },
    ];
  } catch {
    return [];
  }
}

/** The phases of one completed workflow's history; null when it did not complete. */
export function historyPhases(history: readonly { type: string; ms: number }[]): HistoryPhases | null {
  // In time order: local activity times (from markers) fall inside the task that ran them.
  const events = [...history].sort((a, b) => a.ms - b.ms);
  const first = (t: string): number | undefined => events.find((e) => e.type === t)?.ms;
  const started = first('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  const completed = first('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  if (started === undefined || completed === undefined) return null;
  const waits = (from: string, to: string): number => {
    let sum = 0;
    let open: number | undefined;
    for (const e of events) {
      if (e.type === from) open = e.ms;
      else if (e.type === to && open !== undefined) {
        sum += e.ms - open;
        open = undefined;
      }
    }
    return sum;
  };
  const total = completed - started;
  const workflowTaskWait = waits('EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 'EVENT_TYPE_WORKFLOW_TASK_STARTED');
  const activityWait = waits('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', 'EVENT_TYPE_ACTIVITY_TASK_STARTED');
  const activityRun = waits('EVENT_TYPE_ACTIVITY_TASK_STARTED', 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED');
  const workflowTaskRun = waits('EVENT_TYPE_WORKFLOW_TASK_STARTED', 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
  const localActivityRun = waits('LOCAL_ACTIVITY_SCHEDULED', 'LOCAL_ACTIVITY_COMPLETED');
  return {
    total,
    workflowTaskWait,
    workflowTaskRun,
    localActivityRun,
    activityWait,
    activityRun,
    other: total - workflowTaskWait - workflowTaskRun - activityWait - activityRun,
  };
}
