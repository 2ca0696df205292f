/**
 * The stack's Temporal dev server (TEMPORAL_ADDRESS) for workflow tests with stubbed activities:
 * one test environment and one workflow bundle per file, made in beforeAll, torn down in afterAll.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import type { RoomInput } from '../../vocabulary/contract.js';
import { uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';

const WORKFLOWS = fileURLToPath(new URL('../../workflows/index.js', import.meta.url));

export interface StackWorkflowEnv {
  readonly env: TestWorkflowEnvironment;
  readonly bundle: WorkflowBundleWithSourceMap;
}

/**
 * One environment (made by `create`) and one workflow bundle per test file: made in beforeAll,
 * torn down in afterAll. Shared by the stack's dev server and the time-skipping server.
 */
export function workflowTestEnv(create: () => Promise<TestWorkflowEnvironment>, timeoutMs?: number): StackWorkflowEnv {
  let env: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundleWithSourceMap | undefined;
  beforeAll(async () => {
    // The activity and workflow failures these tests cause on purpose are logged at WARN.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    env = await create();
    bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: new DefaultLogger('WARN') });
  }, timeoutMs);
  afterAll(async () => {
    await env?.teardown();
  });
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the workflow test environment is only there inside tests');
    return v;
  };
  return {
    get env() {
      return ready(env);
    },
    get bundle() {
      return ready(bundle);
    },
  };
}

export function stackWorkflowEnv(): StackWorkflowEnv {
  return workflowTestEnv(async () => {
    if (!process.env.TEMPORAL_ADDRESS) throw new Error('the stack is not up: source .stack/<name>/stack.env first');
    return TestWorkflowEnvironment.createFromExistingServer({ address: process.env.TEMPORAL_ADDRESS });
  });
}

/**
 * Runs a room workflow for `{kind}/{slug}` of a new tenant on a worker of its own with `activities`,
 * hands its handle to `body`, then terminates it.
 */
export async function withRoomWorkflow(
  stack: StackWorkflowEnv,
  activities: object,
  room: Pick<RoomInput, 'kind' | 'slug' | 'idleTimeoutMs'>,
  body: (h: WorkflowHandle, input: RoomInput) => Promise<void>,
): Promise<void> {
  const taskQueue = uniqueTaskQueue(`room-${room.kind}`);
  const input: RoomInput = { tenant: uniqueTenant(), ...room };
  const worker = await Worker.create({
    connection: stack.env.nativeConnection,
    taskQueue,
    workflowBundle: stack.bundle,
    activities,
  });
  await worker.runUntil(async () => {
    const workflowId = `room:${input.tenant}:${input.kind}:${input.slug}`;
    await stack.env.client.workflow.start('roomWorkflow', { taskQueue, workflowId, args: [input] });
    const handle = stack.env.client.workflow.getHandle(workflowId);
    try {
      await body(handle, input);
    } finally {
      await handle.terminate('test over').catch(() => undefined);
    }
  });
}
