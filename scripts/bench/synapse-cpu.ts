/**
 * Synapse's own account of its CPU (its Prometheus metrics, /_synapse/metrics): user + system time
 * per request servlet and per background process, read before and after one side of a benchmark.
 * The process CPU line says how much Synapse worked for each side; this says on what, so a ratio
 * held down by the homeserver shows which calls (or which background work) make the difference.
 */
import { counterBy, counterDelta } from './sync-clients-stats.js';

export interface SynapseCpu {
  /** Seconds of CPU, by servlet (requests) and by background process name. */
  requests: Record<string, number>;
  background: Record<string, number>;
  /** Requests answered, by servlet. */
  calls: Record<string, number>;
}

const sum = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
};

/** Synapse's counters now. The bench stack runs Synapse with SYNAPSE_METRICS=on (stack.ts). */
export async function synapseCpu(homeserverUrl: string): Promise<SynapseCpu> {
  const res = await fetch(`${homeserverUrl}/_synapse/metrics`, { signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`Synapse metrics answered ${res.status} (SYNAPSE_METRICS=on needed)`);
  const text = await res.text();
  const cpu = (prefix: string, label: string): Record<string, number> =>
    sum(counterBy(text, `${prefix}_ru_utime_seconds_total`, label), counterBy(text, `${prefix}_ru_stime_seconds_total`, label));
  const requests = cpu('synapse_http_server_response', 'servlet');
  const calls = counterBy(text, 'synapse_http_server_response_count_total', 'servlet');
  // Our own scrapes are not load.
  delete requests.MetricsResource;
  delete calls.MetricsResource;
  return { requests, background: cpu('synapse_background_process', 'name'), calls };
}

/** What Synapse spent between two readings, as counters: summed over rounds with `addSynapseCpu`. */
export function synapseSpent(before: SynapseCpu, after: SynapseCpu): SynapseCpu {
  return {
    requests: counterDelta(before.requests, after.requests),
    background: counterDelta(before.background, after.background),
    calls: counterDelta(before.calls, after.calls),
  };
}

export function addSynapseCpu(a: SynapseCpu, b: SynapseCpu): SynapseCpu {
  return { requests: sum(a.requests, b.requests), background: sum(a.background, b.background), calls: sum(a.calls, b.calls) };
}

export const NO_SYNAPSE_CPU: SynapseCpu = { requests: {}, background: {}, calls: {} };

/** What Synapse spent between two readings, per operation of the side (e.g. per message). */
export interface SynapseCpuPerOp {
  requestsMs: number;
  backgroundMs: number;
  /** Largest first: servlet → ms per op and calls per op. */
  servlets: { name: string; ms: number; calls: number }[];
  /** Largest first: background process → ms per op. */
  background: { name: string; ms: number }[];
}

export function synapseCpuPerOp(before: SynapseCpu, after: SynapseCpu, ops: number): SynapseCpuPerOp {
  const per = (s: number): number => (s * 1000) / Math.max(1, ops);
  const req = counterDelta(before.requests, after.requests);
  const calls = counterDelta(before.calls, after.calls);
  const bg = counterDelta(before.background, after.background);
  const total = (r: Record<string, number>): number => Object.values(r).reduce((s, v) => s + v, 0);
  return {
    requestsMs: per(total(req)),
    backgroundMs: per(total(bg)),
    servlets: Object.entries(req)
      .map(([name, s]) => ({ name, ms: per(s), calls: (calls[name] ?? 0) / Math.max(1, ops) }))
      .sort((a, b) => b.ms - a.ms),
    background: Object.entries(bg)
      .map(([name, s]) => ({ name, ms: per(s) }))
      .sort((a, b) => b.ms - a.ms),
  };
}

/** "requests 9.1 ms (RoomSendEventRestServlet 8.0 ms in 1.00 calls, …), background 2.3 ms (…)". */
export function describeSynapseCpu(p: SynapseCpuPerOp, n = 5): string {
  const servlets = p.servlets
    .slice(0, n)
    .map((s) => `${s.name} ${s.ms.toFixed(2)} ms in ${s.calls.toFixed(2)} calls`)
    .join(', ');
  const background = p.background
    .slice(0, n)
    .map((b) => `${b.name} ${b.ms.toFixed(2)} ms`)
    .join(', ');
  return `requests ${p.requestsMs.toFixed(2)} ms (${servlets || 'none'}), background ${p.backgroundMs.toFixed(2)} ms (${background || 'none'})`;
}
