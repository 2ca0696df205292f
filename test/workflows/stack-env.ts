/**
 * The stack's Temporal dev server (TEMPORAL_ADDRESS) for workflow tests with stubbed activities:
 * one test environment and one workflow bundle per file, made in beforeAll, torn down in afterAll.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';

const WORKFLOWS = fileURLToPath(new URL('../../workflows/index.js', import.meta.url));

export interface StackWorkflowEnv {
  readonly env: TestWorkflowEnvironment;
  readonly bundle: WorkflowBundleWithSourceMap;
}

export function stackWorkflowEnv(): StackWorkflowEnv {
  let env: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundleWithSourceMap | undefined;
  beforeAll(async () => {
    // The activity and workflow failures these tests cause on purpose are logged at WARN.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    if (!process.env.TEMPORAL_ADDRESS) throw new Error('the stack is not up: source .stack/<name>/stack.env first');
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: process.env.TEMPORAL_ADDRESS });
    bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: new DefaultLogger('WARN') });
  });
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
