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
import { roomStateQuery, type RoomChangeResult, type RoomInput } from '../../vocabulary/contract.js';
import { ROOT, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { storedRoom, stubRoom } from './room-stubs.js';
import { DEFAULT_EVENT_TIMER_POLICY } from '../../vocabulary/event-time.js';

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

  it('sets a list of 10,000 members in chunks of 500 with one power-levels write, then carries it into a new run', async () => {
    const taskQueue = uniqueTaskQueue('room-list');
    const input: RoomInput = { tenant: uniqueTenant(), kind: 'group', slug: 'big', idleTimeoutMs: 60_000 };
    const stub = stubRoom('group', storedRoom(input.tenant, 'group', 'big', { old: 'member' }));
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: stub.activities });
    const roles = ['member', 'member', 'moderator', 'admin', 'owner'];
    const members = Array.from({ length: 10_000 }, (_, i) => ({ userSlug: `u${i}`, role: roles[i % roles.length]! }));
    await worker.runUntil(async () => {
      const workflowId = `room:${input.tenant}:group:big`;
      const first = await env.client.workflow.start('roomWorkflow', { taskQueue, workflowId, args: [input] });
      const handle = env.client.workflow.getHandle(workflowId);
      try {
        const result = (await handle.executeUpdate('roomChange', { args: [{ type: 'setMembers', members }] })) as RoomChangeResult;
        expect(result.members).toMatchObject({ removed: ['old'], roleChanged: [], unchanged: 0, failed: [] });
        expect(result.members!.added).toHaveLength(10_000);
        const passes = stub.inputsOf<MemberPassInput>('applyMembers');
        // 10,001 targets (10,000 in, one out): 21 chunks of at most 500, none writing the levels itself.
        expect(passes.map((p) => p.targets.length)).toEqual([...Array(20).fill(500), 1]);
        expect(passes.every((p) => p.deferLevels === true && Object.keys(p.members).length <= 500)).toBe(true);
        expect(new Set(passes.flatMap((p) => p.targets.map((t) => t.userSlug))).size).toBe(10_001);
        expect(stub.types().filter((t) => t === 'syncPowerLevels')).toHaveLength(1);
        // The whole list is recorded in PostgreSQL before the first chunk reaches the homeserver.
        const recorded = stub.inputsOf<{ upserts: Record<string, string>; removals: string[] }>('recordMembers');
        expect(recorded).toHaveLength(1);
        expect([Object.keys(recorded[0]!.upserts).length, recorded[0]!.removals]).toEqual([10_000, ['old']]);
        expect(stub.types().indexOf('recordMembers')).toBeLessThan(stub.types().indexOf('applyMembers'));
        expect(stub.levelWrites).toHaveLength(1);
        expect(Object.keys(stub.levelWrites[0]!)).toHaveLength(6_000);

        // The history grew past the (lowered) suggestion: the next run carries all 10,000.
        await waitFor(async () => (await handle.describe()).runId !== first.firstExecutionRunId);
        const carried = await handle.query(roomStateQuery);
        expect(Object.keys(carried.members)).toHaveLength(10_000);
        expect(carried.members.u3).toBe('admin');

        // The same list again, in the new run: one read that checks them, no pass, no levels.
        const before = stub.calls.length;
        const again = (await handle.executeUpdate('roomChange', { args: [{ type: 'setMembers', members }] })) as RoomChangeResult;
        expect(again.members).toMatchObject({ added: [], removed: [], roleChanged: [], unchanged: 10_000, failed: [] });
        expect(stub.calls.slice(before).map((c) => c.type)).toEqual(['listedAbsent']);
        expect(stub.types().filter((t) => t === 'loadRoom')).toHaveLength(1);
      } finally {
        await handle.terminate('test over').catch(() => undefined);
      }
    });
  });

  it("carries an event's timers: the reminder planned in the first run fires once, in the next, at its time", async () => {
    const taskQueue = uniqueTaskQueue('room-can-timers');
    const input: RoomInput = { tenant: uniqueTenant(), kind: 'event', slug: 'meetup', idleTimeoutMs: 60_000 };
    const notices: { at: number; key: string }[] = [];
    const policy = { ...DEFAULT_EVENT_TIMER_POLICY, reminderMinutes: [1], readOnlyAfterMinutes: null };
    const stub = stubRoom('event', storedRoom(input.tenant, 'event', 'meetup', {}), {
      eventTimerPolicy: async () => policy,
      recordEventTime: async () => undefined,
      postEventNotice: async (i) => {
        notices.push({ at: Date.now(), key: i.key });
        return ['posted'];
      },
    });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: stub.activities });
    await worker.runUntil(async () => {
      const workflowId = `room:${input.tenant}:event:meetup`;
      const first = await env.client.workflow.start('roomWorkflow', { taskQueue, workflowId, args: [input] });
      const handle = env.client.workflow.getHandle(workflowId);
      try {
        // The reminder is due 25 s from now (a minute before the start).
        const startsAt = Date.now() + 85_000;
        const time = { startsAt: new Date(startsAt).toISOString(), endsAt: new Date(startsAt + 60_000).toISOString(), timeZone: 'UTC' };
        await handle.executeUpdate('roomChange', { args: [{ type: 'ensure', time }] });
        for (let i = 0; (await handle.describe()).runId === first.firstExecutionRunId && i < 30; i++) {
          await handle.executeUpdate('roomChange', { args: [{ type: 'addMember', userSlug: `m${i}`, role: 'participant' }] });
          await new Promise((r) => setTimeout(r, 200));
        }
        expect((await env.client.workflow.getHandle(workflowId, first.firstExecutionRunId).describe()).status.name).toBe('CONTINUED_AS_NEW');
        expect(notices).toEqual([]);
        const carried = await handle.query(roomStateQuery);
        expect(carried.time?.timers['reminder:1']).toEqual({ dueAt: startsAt - 60_000, done: false });

        await waitFor(async () => notices.length > 0, 60_000);
        expect(notices[0]!.key).toBe(`reminder:1@${startsAt - 60_000}`);
        expect(notices[0]!.at).toBeGreaterThanOrEqual(startsAt - 60_000);
        await new Promise((r) => setTimeout(r, 2_000));
        expect(notices).toHaveLength(1);
        // Carried, never reloaded from the store.
        expect(stub.types().filter((t) => t === 'loadRoom')).toHaveLength(1);
      } finally {
        await handle.terminate('test over').catch(() => undefined);
      }
    });
  }, 120_000);
});

async function waitFor(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 100));
  }
}
