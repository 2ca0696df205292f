/**
 * One fault scenario's set-up: a worker process on its own task queue, the in-process API, a seeded
 * plan, and the fault loop that runs while the burst is in flight. Faults hit the stack of
 * `npm run test:faults` (STACK_NAME=faults), never the main test stack.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { sleep, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { stack } from '../helpers/stack.js';
import type { Config } from '../../lib/config.js';
import {
  expectExactState,
  inProcess,
  makePlan,
  runBurst,
  scenarioSeed,
  seededRandom,
  type BurstPlan,
  type BurstStats,
  type Sender,
} from './burst.js';

export interface Scenario {
  readonly config: Config;
  readonly taskQueue: string;
  readonly random: () => number;
  readonly seed: number;
  api: TestApi;
  worker: RunningProcess | undefined;
  startWorker: (env?: Record<string, string>) => Promise<RunningProcess>;
  /**
   * Runs the burst with `fault` looping beside it until the burst is done and `fault` has run at
   * least `minFaults` times, then waits for the exact final state.
   */
  run: (
    fault: (n: number) => Promise<void>,
    opts?: {
      minFaults?: number;
      maxFaults?: number;
      gapMs?: [number, number];
      sender?: Sender;
      plan?: Parameters<typeof makePlan>[2];
      /** Runs once the burst has been sent and the faults have stopped, before the final check. */
      afterBurst?: () => void | Promise<void>;
    },
  ) => Promise<{ plan: BurstPlan; stats: BurstStats; faults: number; ms: number }>;
}

/** Registers beforeAll/afterAll for a scenario and returns its handles. */
export function scenario(
  name: string,
  defaultSeed: number,
  opts: { env?: Record<string, string>; workerEnv?: () => Record<string, string> } = {},
): Scenario {
  const env = opts.env ?? {};
  const taskQueue = uniqueTaskQueue(`faults-${name}`);
  const seed = scenarioSeed(name, defaultSeed);
  const s: Scenario = {
    config: testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '1000', API_ACCEPT_TIMEOUT_MS: '10000', ...env }),
    taskQueue,
    seed,
    random: seededRandom(seed),
    api: undefined as unknown as TestApi,
    worker: undefined,
    startWorker: async (workerEnv = {}) => {
      s.worker = await startWorker(taskQueue, { ...env, ...opts.workerEnv?.(), ...workerEnv });
      return s.worker;
    },
    run: async (fault, runOpts = {}) => {
      const started = Date.now();
      const plan = makePlan(uniqueTenant(`f${name.slice(0, 4)}`), s.random, runOpts.plan);
      let done = false;
      const burst = runBurst(runOpts.sender ?? inProcess(s.api), plan).finally(() => (done = true));
      burst.catch(() => undefined);
      const [lo, hi] = runOpts.gapMs ?? [1500, 4000];
      let faults = 0;
      while ((!done || faults < (runOpts.minFaults ?? 2)) && faults < (runOpts.maxFaults ?? 6)) {
        await sleep(lo + s.random() * (hi - lo));
        await fault(++faults);
      }
      const stats = await burst;
      await runOpts.afterBurst?.();
      console.log(`[faults] ${name}: ${faults} faults; burst ${JSON.stringify(stats)} in ${Date.now() - started} ms`);
      await expectExactState(s.config, plan);
      const ms = Date.now() - started;
      console.log(`[faults] ${name}: exact final state reached; ${ms} ms in all (tenant ${plan.tenant}, seed ${seed})`);
      return { plan, stats, faults, ms };
    },
  };
  beforeAll(async () => {
    await s.startWorker();
    s.api = await createTestApi(s.config);
  }, 120_000);
  afterAll(async () => {
    await s.api?.close();
    await s.worker?.stop();
  }, 120_000);
  return s;
}

/** SIGKILLs a stack component (its whole process group) as a crash would, without any clean-up. */
export async function killComponent(component: 'synapse' | 'temporal'): Promise<void> {
  const dir = process.env.STACK_DIR;
  if (!dir) throw new Error('STACK_DIR is not set: run through npm run test:faults');
  const pid = Number((await readFile(`${dir}/${component}.pid`, 'utf8')).trim());
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
  throw new Error(`${component} (pid ${pid}) still alive after SIGKILL`);
}

/** Brings one component of this stack back up (scripts/stack.sh up <component>). */
export const restartComponent = (component: 'synapse' | 'temporal' | 'postgres'): Promise<void> =>
  stack(['up', component]);
