/**
 * The room workflow's side of a rename (decision 0031) on the stack's Temporal dev server, with
 * its activities stubbed (room-stubs.ts): a rename brings the aliases along in order with the
 * member changes around it and lists every slug in `EntitySlugs`; an old alias waiting for its
 * removal keeps the workflow open (a durable timer) past its idle time; a new run picks the
 * renamed entity's slugs up from what loadRoom stored.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { AliasSync } from '../../activities/rooms.js';
import { roomStateQuery, type RoomChangeResult, type RoomInput } from '../../vocabulary/contract.js';
import { FailureType } from '../../vocabulary/failures.js';
import { EntitySlugsKey } from '../../vocabulary/search-attributes.js';
import { accepted, gate, storedRoom, stubRoom, type StubRoom } from './room-stubs.js';
import { stackWorkflowEnv, withRoomWorkflow } from './stack-env.js';

const IDLE_MS = 1_000;

const stack = stackWorkflowEnv();

/** Runs a room workflow (`group` `meetup`, idle after IDLE_MS) on a worker with `stub`'s activities. */
const withRoom = (stub: StubRoom, body: (h: WorkflowHandle, input: RoomInput) => Promise<void>): Promise<void> =>
  withRoomWorkflow(stack, stub.activities, { kind: 'group', slug: 'meetup', idleTimeoutMs: IDLE_MS }, body);

const sync = (over: Partial<AliasSync>): AliasSync => ({
  slug: 'meetup-2',
  slugs: ['meetup', 'meetup-2'],
  alias: '#new:test',
  aliasRemovalAt: null,
  actions: [],
  ...over,
});

describe('the room workflow, renamed', () => {
  it('a rename brings the aliases along after the room, in one batch with the member changes around it; its caller hears what that did', async () => {
    const loading = gate();
    const stub = stubRoom('group', storedRoom('x', 'group', 'meetup', {}), {
      loadRoom: async (ref) => {
        await loading.wait();
        return storedRoom(ref.tenant, 'group', 'meetup', {});
      },
      syncAliases: async () =>
        sync({ actions: ['alias #new:test added', 'canonical alias #new:test (also #room:test)'] }),
    });
    await withRoom(stub, async (handle) => {
      const before = await accepted(handle, { type: 'addMember', userSlug: 'alice', role: 'owner' });
      const rename = await accepted(handle, { type: 'rename', newSlug: 'meetup-2' });
      const after = await accepted(handle, { type: 'addMember', userSlug: 'bob', role: 'member' });
      loading.open();
      const [a, r, b] = (await Promise.all([before(), rename(), after()])) as RoomChangeResult[];

      expect(stub.types().filter((t) => t !== 'syncGroupSpace')).toEqual(['loadRoom', 'ensureRoom', 'syncAliases', 'applyMembers']);
      expect(r).toEqual({
        roomId: '!known:test',
        alias: '#new:test',
        slug: 'meetup-2',
        actions: ['alias #new:test added', 'canonical alias #new:test (also #room:test)'],
      });
      expect(a).toMatchObject({
        slug: 'meetup-2',
        actions: ['joined alice', expect.stringMatching(/power level alice/)],
      });
      expect(b).toMatchObject({ slug: 'meetup-2', actions: ['joined bob'] });
      expect(await handle.query(roomStateQuery)).toMatchObject({
        slug: 'meetup-2',
        slugs: ['meetup', 'meetup-2'],
        alias: '#new:test',
        members: { alice: 'owner', bob: 'member' },
      });
      const described = await handle.describe();
      expect(described.typedSearchAttributes.get(EntitySlugsKey)).toEqual(['meetup', 'meetup-2']);
    });
  });

  it('aliases that cannot follow fail the rename, not the member change beside it', async () => {
    const loading = gate();
    const stub = stubRoom('group', storedRoom('x', 'group', 'meetup', {}), {
      loadRoom: async (ref) => {
        await loading.wait();
        return storedRoom(ref.tenant, 'group', 'meetup', {});
      },
      syncAliases: async () => {
        throw ApplicationFailure.create({
          type: FailureType.RoomInUse,
          message: 'alias held elsewhere',
          nonRetryable: true,
        });
      },
    });
    await withRoom(stub, async (handle) => {
      const rename = await accepted(handle, { type: 'rename', newSlug: 'meetup-2' });
      const add = await accepted(handle, { type: 'addMember', userSlug: 'alice', role: 'owner' });
      loading.open();
      const [renamed, added] = await Promise.allSettled([rename(), add()]);
      expect(renamed.status).toBe('rejected');
      const cause = ((renamed as PromiseRejectedResult).reason as { cause?: { type?: string; message?: string } })
        .cause;
      expect(cause).toMatchObject({ type: FailureType.RoomInUse, message: 'alias held elsewhere' });
      expect(added).toMatchObject({ status: 'fulfilled', value: { actions: ['joined alice', expect.any(String)] } });
      expect(stub.types().filter((t) => t !== 'syncGroupSpace')).toEqual(['loadRoom', 'ensureRoom', 'syncAliases', 'applyMembers']);
    });
  });

  it('an old alias waiting for removal keeps the workflow open past its idle time; the timer removes it, then it ends', async () => {
    let calls = 0;
    const due = Date.now() + 4 * IDLE_MS;
    const stub = stubRoom('group', storedRoom('x', 'group', 'meetup', {}), {
      // The rename keeps the old alias until `due`; the call the timer makes finds it past due and removes it.
      syncAliases: async () =>
        ++calls === 1 ? sync({ aliasRemovalAt: due }) : sync({ actions: ['old alias #room:test removed'] }),
    });
    await withRoom(stub, async (handle) => {
      await handle.executeUpdate('roomChange', { args: [{ type: 'rename', newSlug: 'meetup-2' }] });
      await new Promise((r) => setTimeout(r, 2 * IDLE_MS));
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect(calls).toBe(1);
      expect((await handle.query(roomStateQuery)).aliasRemovalAt).toBe(due);

      const state = (await handle.result()) as { aliasRemovalAt: number | null; slug: string };
      expect(calls).toBe(2);
      expect(Date.now()).toBeGreaterThanOrEqual(due);
      expect(state).toMatchObject({ aliasRemovalAt: null, slug: 'meetup-2' });
      const history = await handle.fetchHistory();
      const timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes).length;
      expect(timers).toBeGreaterThanOrEqual(2);
      // The timer's removal is the service's own change: in the audit trail (decision 0060).
      expect(stub.inputsOf<{ operation: string; origin: { subject: string }; actions: string[] }[]>('recordAudit')).toEqual([
        [expect.objectContaining({ operation: 'room.aliases', origin: { subject: 'service:alias-timer' }, actions: ['old alias #room:test removed'] })],
      ]);
    });
  });

  it('a new run of a renamed entity takes its slugs and pending removal from loadRoom, and its search attribute with them', async () => {
    let syncs = 0;
    const stub = stubRoom('group', null, {
      loadRoom: async (ref) => ({
        ...storedRoom(ref.tenant, 'group', 'meetup', { carol: 'member' }),
        renamed: { slug: 'meetup-3', slugs: ['meetup', 'meetup-2', 'meetup-3'], aliasRemovalAt: Date.now() },
      }),
      syncAliases: async () => {
        syncs += 1;
        return sync({ slug: 'meetup-3', slugs: ['meetup', 'meetup-2', 'meetup-3'], alias: '#three:test' });
      },
    });
    await withRoom(stub, async (handle) => {
      const state = (await handle.result()) as { slug: string; slugs: string[]; alias: string };
      expect(state).toMatchObject({
        slug: 'meetup-3',
        slugs: ['meetup', 'meetup-2', 'meetup-3'],
        alias: '#three:test',
      });
      expect(syncs).toBe(1);
      const described = await handle.describe();
      expect(described.typedSearchAttributes.get(EntitySlugsKey)).toEqual(['meetup', 'meetup-2', 'meetup-3']);
    });
  });
});
