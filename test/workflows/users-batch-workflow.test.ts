/**
 * The users batch workflow with its activity stubbed: chunks of the right size, at most
 * USERS_BATCH_CHUNKS_IN_FLIGHT at once (decision 0037), the progress query, and a chunk whose
 * activity fails for good (its attempts spent) reported as its users' failure while the batch goes
 * on and completes, with every outcome in request order.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { ROOT, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import {
  USERS_BATCH_CHUNK,
  USERS_BATCH_CHUNKS_IN_FLIGHT,
  usersBatchProgressQuery,
  type BatchUserOutcome,
  type UsersBatchInput,
  type UsersBatchResult,
  type UsersChunkInput,
} from '../../vocabulary/users-batch.js';

const WORKFLOWS = fileURLToPath(new URL('../../workflows/index.js', import.meta.url));
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: process.env.TEMPORAL_CLI ?? `${ROOT}.stack/venv/bin/temporal` },
    },
  });
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: new DefaultLogger('WARN') });
});

afterAll(async () => {
  await env?.teardown();
});

describe('provisionUsersBatchWorkflow', () => {
  it("runs the chunks two at a time, reports progress, and turns a chunk that failed for good into its users' failures", async () => {
    const taskQueue = uniqueTaskQueue('users-batch');
    const tenant = uniqueTenant();
    const n = 2 * USERS_BATCH_CHUNK + 30;
    const input: UsersBatchInput = {
      tenant,
      batchId: 'b1',
      users: Array.from({ length: n }, (_, i) => ({
        slug: `u${i}`,
        displayName: `U ${i}`,
        userId: `@om_${tenant}_u${i}:hs`,
      })),
    };
    const calls: { offset: number; size: number }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((r) => (releaseFirst = r));
    let releaseLast!: () => void;
    const lastMayRun = new Promise<void>((r) => (releaseLast = r));
    const activities = {
      async provisionMatrixUsersChunk(chunk: UsersChunkInput): Promise<BatchUserOutcome[]> {
        calls.push({ offset: chunk.offset, size: chunk.users.length });
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          // The first chunk is still running when the second has failed and the third has started.
          if (chunk.offset === 0) await firstMayEnd;
          if (chunk.offset === USERS_BATCH_CHUNK) {
            throw ApplicationFailure.create({ type: 'Unavailable', message: 'homeserver gone', nonRetryable: true });
          }
          if (chunk.offset === 2 * USERS_BATCH_CHUNK) await lastMayRun;
          return chunk.users.map((u) => ({ slug: u.slug, userId: `@x_${u.slug}`, outcome: 'created' as const }));
        } finally {
          inFlight -= 1;
        }
      },
    };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities,
    });
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('provisionUsersBatchWorkflow', {
        taskQueue,
        workflowId: `users-batch:${tenant}:b1`,
        args: [input],
      });
      // The second chunk failed and the third took its lane while the first still runs.
      for (let i = 0; i < 200 && calls.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      expect(calls.map((c) => c.offset)).toEqual(expect.arrayContaining([0, USERS_BATCH_CHUNK, 2 * USERS_BATCH_CHUNK]));
      expect(await handle.query(usersBatchProgressQuery)).toMatchObject({ done: USERS_BATCH_CHUNK });
      releaseFirst();
      // The last chunk waits: the progress says two chunks are done.
      let progress = await handle.query(usersBatchProgressQuery);
      for (let i = 0; i < 200 && progress.done < 2 * USERS_BATCH_CHUNK; i++) {
        await new Promise((r) => setTimeout(r, 50));
        progress = await handle.query(usersBatchProgressQuery);
      }
      expect(progress).toEqual({
        tenant,
        batchId: 'b1',
        total: n,
        done: 2 * USERS_BATCH_CHUNK,
        counts: {
          created: USERS_BATCH_CHUNK,
          displayNameChanged: 0,
          reactivated: 0,
          unchanged: 0,
          failed: USERS_BATCH_CHUNK,
        },
      });
      releaseLast();
      return (await handle.result()) as UsersBatchResult;
    });
    expect([...calls].sort((a, b) => a.offset - b.offset)).toEqual([
      { offset: 0, size: USERS_BATCH_CHUNK },
      { offset: USERS_BATCH_CHUNK, size: USERS_BATCH_CHUNK },
      { offset: 2 * USERS_BATCH_CHUNK, size: 30 },
    ]);
    expect(maxInFlight).toBe(USERS_BATCH_CHUNKS_IN_FLIGHT);
    expect(result.total).toBe(n);
    expect(result.counts).toEqual({
      created: USERS_BATCH_CHUNK + 30,
      displayNameChanged: 0,
      reactivated: 0,
      unchanged: 0,
      failed: USERS_BATCH_CHUNK,
    });
    expect(result.users.map((u) => u.slug)).toEqual(input.users.map((u) => u.slug));
    expect(result.users[USERS_BATCH_CHUNK + 5]).toEqual({
      slug: `u${USERS_BATCH_CHUNK + 5}`,
      userId: `@om_${tenant}_u${USERS_BATCH_CHUNK + 5}:hs`,
      outcome: 'failed',
      error: { type: 'Unavailable', message: 'homeserver gone' },
    });
  });
});
