/**
 * The usual set-up of an integration file: a worker process on a task queue of its own, the real
 * API in-process, a PostgreSQL pool, a tenant no other file uses; all torn down after the file.
 */
import { afterAll, beforeAll } from '@jest/globals';
import pg from 'pg';
import type { Config } from '../../lib/config.js';
import { createTestApi, type TestApi } from './api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from './env.js';
import { startWorker, type RunningProcess } from './processes.js';

export interface ServiceFixture {
  readonly config: Config;
  readonly tenant: string;
  readonly taskQueue: string;
  /** Available inside tests and hooks (set up in beforeAll). */
  readonly api: TestApi;
  readonly worker: RunningProcess;
  readonly db: pg.Pool;
}

/** `env` configures the in-process API; `workerEnv`, the worker process (e.g. POWER_LEVELS, which the worker applies). */
export function serviceFixture(
  name: string,
  env: Record<string, string> = {},
  tenantPrefix = name,
  workerEnv: Record<string, string> = {},
): ServiceFixture {
  const taskQueue = uniqueTaskQueue(name);
  const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, ...env });
  let api: TestApi | undefined;
  let worker: RunningProcess | undefined;
  let db: pg.Pool | undefined;
  beforeAll(async () => {
    worker = await startWorker(taskQueue, workerEnv);
    api = await createTestApi(config);
    db = new pg.Pool({ connectionString: config.databaseUrl });
  });
  afterAll(async () => {
    await api?.close();
    await worker?.stop();
    await db?.end();
  });
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`the ${what} of the ${name} fixture is only there inside tests`);
    return v;
  };
  return {
    config,
    tenant: uniqueTenant(tenantPrefix),
    taskQueue,
    get api() {
      return ready(api, 'API');
    },
    get worker() {
      return ready(worker, 'worker');
    },
    get db() {
      return ready(db, 'database pool');
    },
  };
}
