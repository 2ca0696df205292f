/**
 * The room workflow across continue-as-new, activities stubbed. Temporal suggests continue-as-new
 * only past thousands of history events; this file starts its own dev server (the stack's
 * `temporal` binary, TEMPORAL_CLI) with the suggestion lowered to a few dozen events, so that a
 * handful of changes carries the room into a new run.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import type { MemberPassInput } from '../../activities/rooms.js';
import { roomStateQuery, type RoomInput } from '../../workflows/messages.js';
import { ROOT, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { storedRoom, stubRoom } from './room-stubs.js';

const WORKFLOWS = fileURLToPath(new URL('../../workflows/index.js', import.meta.url));
/** History events after which the server suggests continue-as-new (the default is 4 Ki). */
const SUGGEST_AFTER_EVENTS = 40;

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      // Never the default: it downloads a binary.
      executable: { type: 'existing-path', path: process.env.TEMPORAL_CLI ?? `${ROOT}.stack/venv/bin/temporal` },
      extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AFTER_EVENTS}`],
    },
  });
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: new DefaultLogger('WARN') });
});

afterAll(async () => {
  await env?.teardown();
});

describe('the room workflow across continue-as-new', () => {
  it('carries the desired state: the new run does not reload it, and its first batch works from all of it', async () => {
    const taskQueue = uniqueTaskQueue('room-can');
    const input: RoomInput = { tenant: uniqueTenant(), kind: 'event', slug: 'meetup', idleTimeoutMs: 60_000 };
    const stub = stubRoom('event', storedRoom(input.tenant, 'event', 'meetup', { bob: 'member' }));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: stub.activities,
    });
    await worker.runUntil(async () => {
      const workflowId = `room:${input.tenant}:event:meetup`;
      const first = await env.client.workflow.start('roomWorkflow', { taskQueue, workflowId, args: [input] });
      const handle = env.client.workflow.getHandle(workflowId);
      const desired: Record<string, string> = { bob: 'member' };
      let sent = 0;
      try {
        // Each change is a batch of its own (sent one after the other): a dozen events of history each.
        while ((await handle.describe()).runId === first.firstExecutionRunId && sent < 20) {
          const slug = `m${sent}`;
          desired[slug] = sent % 2 ? 'speaker' : 'member';
          await handle.executeUpdate('roomChange', {
            args: [{ type: 'addMember', userSlug: slug, role: desired[slug] }],
          });
          sent += 1;
          await new Promise((r) => setTimeout(r, 200));
        }
        const oldRun = await env.client.workflow.getHandle(workflowId, first.firstExecutionRunId).describe();
        expect(oldRun.status.name).toBe('CONTINUED_AS_NEW');

        const carried = await handle.query(roomStateQuery);
        expect(carried).toMatchObject({ roomId: '!known:test', changesApplied: sent, pendingChanges: 0 });
        expect(carried.members).toEqual(desired);

        await handle.executeUpdate('roomChange', { args: [{ type: 'addMember', userSlug: 'erin', role: 'host' }] });
        expect(stub.types().filter((t) => t === 'loadRoom')).toHaveLength(1);
        const passes = stub.inputsOf<MemberPassInput>('applyMembers');
        expect(passes).toHaveLength(sent + 1);
        expect(passes.at(-1)!.members).toEqual({ ...desired, erin: 'host' });
        expect(passes.at(-1)).toMatchObject({
          roomId: '!known:test',
          previousRoles: { erin: null },
          // A new run has not written the levels itself: its first batch looks at them.
          powerLevelsInSync: false,
        });
        expect(passes.at(-2)!.powerLevelsInSync).toBe(true);
      } finally {
        await handle.terminate('test over').catch(() => undefined);
      }
    });
  });
});
