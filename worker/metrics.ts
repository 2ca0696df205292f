import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { createServer } from 'node:net';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

type OutcomeLabels = 'activity_type' | 'outcome' | 'failure_type';

/** A failure type or class name is code-defined (bounded); anything else would be a label explosion. */
const LABEL_SAFE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * How an attempt ended, in the words operators see in the Temporal UI: the ApplicationFailure
 * `type` (`MatrixRateLimited`, ...) or, for anything else, the error's class name, which is what
 * Temporal records as its type.
 */
export function outcomeOf(err: unknown): { outcome: 'failed' | 'cancelled'; failure_type: string } {
  const e = err as { name?: unknown; type?: unknown } | null;
  // By name, not instanceof: the SDK's classes may come from another copy of @temporalio/common.
  if (e?.name === 'CancelledFailure') return { outcome: 'cancelled', failure_type: 'CancelledFailure' };
  const type = e?.name === 'ApplicationFailure' && typeof e.type === 'string' ? e.type : e?.name;
  return { outcome: 'failed', failure_type: typeof type === 'string' && LABEL_SAFE.test(type) ? type : 'Error' };
}

export interface WorkerMetrics {
  registry: Registry;
  /** Counts every activity attempt by type and outcome; register it in WorkerOptions.interceptors.activity. */
  activityInterceptor: ActivityInterceptorsFactory;
  /** Our metrics followed by the Temporal SDK's, as one Prometheus text exposition. */
  scrape: () => Promise<string>;
  contentType: string;
}

/**
 * The worker's metrics. The SDK's own metrics (temporal_*) are exported by its Rust core on a
 * loopback port of their own (`sdkMetricsPort`, see `freeLoopbackPort`); `scrape` fetches and
 * appends them so one endpoint serves everything.
 */
export function createWorkerMetrics(sdkMetricsPort: number | null): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const outcomes = new Counter<OutcomeLabels>({
    name: 'matrix_orchestrator_activity_executions_total',
    help: 'Activity attempts finished by this worker, by activity type, outcome (completed, failed, cancelled) and failure type.',
    labelNames: ['activity_type', 'outcome', 'failure_type'],
    registers: [registry],
  });

  const activityInterceptor: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        const activity_type = ctx.info.activityType;
        try {
          const result = await next(input);
          outcomes.inc({ activity_type, outcome: 'completed' });
          return result;
        } catch (err) {
          outcomes.inc({ activity_type, ...outcomeOf(err) });
          throw err;
        }
      },
    },
  });

  const scrape = async (): Promise<string> => {
    const ours = await registry.metrics();
    if (sdkMetricsPort === null) return ours;
    try {
      const res = await fetch(`http://127.0.0.1:${sdkMetricsPort}/metrics`, { signal: AbortSignal.timeout(2_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const sdk = await res.text();
      return `${ours.replace(/\n*$/, '\n')}${sdk.replace(/\n*$/, '\n')}`;
    } catch (err) {
      // A comment line keeps the exposition valid; our own metrics are still worth serving.
      return `${ours.replace(/\n*$/, '\n')}# Temporal SDK metrics unavailable: ${(err as Error).message.replace(/\s+/g, ' ')}\n`;
    }
  };

  return { registry, activityInterceptor, scrape, contentType: registry.contentType };
}

/**
 * A loopback port free right now, for the SDK's Prometheus exporter (which cannot report the port
 * it bound if given 0). Another process could take it before the SDK binds; start fails loudly then.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
