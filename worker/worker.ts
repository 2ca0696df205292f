import { NativeConnection, Worker, type WorkerInterceptors, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { dataConverter } from '../lib/codec.js';
import { heartbeatInterceptor } from './heartbeat.js';
import type { Config } from '../lib/config.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.js', import.meta.url));

export interface CreateWorkerOptions {
  config: Config;
  activities: ActivityDeps;
  connection: NativeConnection;
  /** A pre-built bundle (tests bundle once per file); otherwise the worker bundles WORKFLOWS_PATH. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
  /** E.g. the activity-outcome counter of worker/metrics.ts. */
  interceptors?: WorkerInterceptors;
}

/** The Temporal worker with every workflow and activity registered. */
export function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.taskQueue ?? opts.config.temporal.taskQueue,
    activities: createActivities(opts.activities),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    shutdownGraceTime: '20 seconds',
    dataConverter: dataConverter(opts.config.payloads),
    // Liveness heartbeats first, on every worker (tests included): see workflows/heartbeat.ts.
    interceptors: { ...opts.interceptors, activity: [heartbeatInterceptor, ...(opts.interceptors?.activity ?? [])] },
  });
}
