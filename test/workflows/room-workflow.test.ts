/**
 * The room workflow on a real Temporal server (the stack's dev server, TEMPORAL_ADDRESS) with its
 * activities stubbed (room-stubs.ts): which activities a batch runs, with what, and which caller
 * hears which outcome — the layer between the pure batch functions (test/unit/room-batch.test.ts)
 * and the real homeserver (test/integration/rooms.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { MemberPassInput } from '../../activities/rooms.js';
import { FailureType } from '../../vocabulary/failures.js';
import type { RoomKind } from '../../vocabulary/ids.js';
import { roomStateQuery, type RoomInput } from '../../vocabulary/contract.js';
import { accepted, gate, storedRoom, stubRoom, type StubRoom } from './room-stubs.js';
import { stackWorkflowEnv, withRoomWorkflow } from './stack-env.js';

const stack = stackWorkflowEnv();

/** Starts a room workflow on a worker with `stub`'s activities, runs `body`, then ends it. */
const withRoom = (
  kind: RoomKind,
  stub: StubRoom,
  body: (h: WorkflowHandle, input: RoomInput) => Promise<void>,
): Promise<void> => withRoomWorkflow(stack, stub.activities, { kind, slug: 'meetup', idleTimeoutMs: 60_000 }, body);

describe('the room workflow, activities stubbed', () => {
  it('a batch of adds, removes and role changes on a known room is one applyMembers and one power-levels write; each update hears its own outcome', async () => {
    const loading = gate();
    const stub = stubRoom('event', storedRoom('x', 'event', 'meetup', { bob: 'member', carol: 'host' }), {
      loadRoom: async (ref) => {
        await loading.wait();
        return storedRoom(ref.tenant, 'event', 'meetup', { bob: 'member', carol: 'host' });
      },
    });
    await withRoom('event', stub, async (handle) => {
      // All four are queued while the run is still loading the room: they make one batch.
      const results = [
        await accepted(handle, { type: 'addMember', userSlug: 'alice', role: 'host' }),
        await accepted(handle, { type: 'removeMember', userSlug: 'bob' }),
        await accepted(handle, { type: 'addMember', userSlug: 'carol', role: 'moderator' }),
        await accepted(handle, { type: 'addMember', userSlug: 'dave', role: 'speaker' }),
      ];
      loading.open();
      const answers = await Promise.all(results.map((r) => r()));

      expect(stub.types()).toEqual(['loadRoom', 'applyMembers']);
      const [pass] = stub.inputsOf<MemberPassInput>('applyMembers');
      expect(pass).toMatchObject({
        roomId: '!known:test',
        inviteOnly: true,
        targets: [
          { userSlug: 'alice', to: 'join' },
          { userSlug: 'bob', to: 'leave' },
          { userSlug: 'carol', to: 'join' },
          { userSlug: 'dave', to: 'join' },
        ],
        members: { carol: 'moderator', alice: 'host', dave: 'speaker' },
        previousRoles: { alice: null, bob: 'member', carol: 'host', dave: null },
        powerLevelsInSync: false,
      });
      // Event roles: host 100, moderator 50, speaker 25, member 0 (vocabulary/roles.ts).
      expect(stub.levelWrites).toEqual([{ alice: 100, carol: 50, dave: 25 }]);
      expect(answers.map((a) => a.actions)).toEqual([
        ['joined alice', 'power level alice 0→100'],
        ['removed bob'],
        ['joined carol', 'power level carol 0→50'],
        ['joined dave', 'power level dave 0→25'],
      ]);
      expect(answers.every((a) => a.roomId === '!known:test')).toBe(true);
      expect(await handle.query(roomStateQuery)).toMatchObject({
        changesApplied: 4,
        pendingChanges: 0,
        lastError: null,
      });
    });
  });

  it("a failed activity's outcome reaches only the updates of its batch; the next batch is applied", async () => {
    const failing = gate();
    let passes = 0;
    const stub = stubRoom('event', storedRoom('x', 'event', 'meetup', {}), {
      applyMembers: async (input) => {
        passes += 1;
        if (passes === 2) {
          failing.arrive();
          await failing.wait();
          throw ApplicationFailure.create({
            type: FailureType.PowerLevelsDiverged,
            message: 'read back 0',
            nonRetryable: true,
          });
        }
        const members = Object.fromEntries(
          input.targets.map((t) => [t.userSlug, { actions: [`joined ${t.userSlug}`] }]),
        );
        return { members, powerLevels: { bySlug: {}, other: [] } };
      },
    });
    await withRoom('event', stub, async (handle) => {
      await handle.executeUpdate('roomChange', { args: [{ type: 'addMember', userSlug: 'zoe', role: 'member' }] });
      const alice = await accepted(handle, { type: 'addMember', userSlug: 'alice', role: 'host' });
      await failing.reached;
      // Queued while the failing batch is on the homeserver: the next batch.
      const bob = await accepted(handle, { type: 'addMember', userSlug: 'bob', role: 'member' });
      const carol = await accepted(handle, { type: 'addMember', userSlug: 'carol', role: 'speaker' });
      failing.open();

      const failed = { cause: { type: FailureType.PowerLevelsDiverged } };
      await expect(alice()).rejects.toMatchObject(failed);
      expect((await bob()).actions).toEqual(['joined bob']);
      expect((await carol()).actions).toEqual(['joined carol']);
      const passInputs = stub.inputsOf<MemberPassInput>('applyMembers');
      expect(passInputs.map((p) => p.targets.map((t) => t.userSlug))).toEqual([['zoe'], ['alice'], ['bob', 'carol']]);
      // In sync after the first pass; a failed batch leaves the levels unknown, so the next pass looks again.
      expect(passInputs.map((p) => p.powerLevelsInSync)).toEqual([false, true, false]);
      expect(await handle.query(roomStateQuery)).toMatchObject({ changesApplied: 3, lastError: null });
    });
  });

  it("a member refused in the pass fails only that member's update; one the pass left goes the per-member way, and the levels with it", async () => {
    const loading = gate();
    const stub = stubRoom('group', null, {
      loadRoom: async (ref) => {
        await loading.wait();
        return storedRoom(ref.tenant, 'group', 'meetup', {});
      },
      applyMembers: async () => ({
        members: {
          alice: { actions: [], error: { type: FailureType.Forbidden, message: 'not allowed' } },
          bob: { actions: ['joined bob'] },
          carol: { actions: [], retry: true },
        },
        powerLevels: null,
      }),
    });
    await withRoom('group', stub, async (handle) => {
      const results = [
        await accepted(handle, { type: 'addMember', userSlug: 'alice', role: 'owner' }),
        await accepted(handle, { type: 'addMember', userSlug: 'bob', role: 'member' }),
        await accepted(handle, { type: 'addMember', userSlug: 'carol', role: 'admin' }),
      ];
      loading.open();
      const outcomes = await Promise.all(
        results.map((r) =>
          r().then(
            (a) => a.actions,
            (e: { cause?: { type?: string } }) => `failed: ${e.cause?.type}`,
          ),
        ),
      );
      // Carol, left by the pass: prepared, then joined as herself; the levels the pass could not write, after.
      // (The group's space step follows the answers: decision 0051.)
      expect(stub.types().filter((t) => t !== 'syncGroupSpace')).toEqual(['loadRoom', 'applyMembers', 'prepareMember', 'joinAsMember', 'syncPowerLevels']);
      expect(stub.inputsOf('prepareMember')).toEqual([
        expect.objectContaining({ userSlug: 'carol', inviteOnly: true }),
      ]);
      expect(stub.inputsOf('syncPowerLevels')).toEqual([
        expect.objectContaining({ members: { alice: 'owner', bob: 'member', carol: 'admin' }, removed: [] }),
      ]);
      // Group roles: owner 100, admin 75, member 0.
      expect(stub.levelWrites).toEqual([{ alice: 100, carol: 75 }]);
      expect(outcomes).toEqual([
        `failed: ${FailureType.Forbidden}`,
        ['joined bob'],
        ['invited carol', 'joined @carol', 'power level carol 0→75'],
      ]);
      expect(await handle.query(roomStateQuery)).toMatchObject({ changesApplied: 2, pendingChanges: 0 });
    });
  });

  it('a new room is found or created first; a reconcile repairs every member the per-member way and reports all it did', async () => {
    const stub = stubRoom('event', null, {
      undesiredMembers: async () => ['@drifter:test'],
      prepareMember: async (input) => ({ userId: `@${input.userSlug}`, joined: input.userSlug === 'bob', actions: [] }),
    });
    await withRoom('event', stub, async (handle) => {
      const ensured = await handle.executeUpdate('roomChange', {
        args: [{ type: 'ensure', settings: { name: 'Meetup' } }],
      });
      expect(ensured).toEqual({
        roomId: '!new:test',
        alias: '#room:test',
        slug: 'meetup',
        actions: ['created !new:test'],
      });
      await handle.executeUpdate('roomChange', { args: [{ type: 'addMember', userSlug: 'alice', role: 'host' }] });
      await handle.executeUpdate('roomChange', { args: [{ type: 'addMember', userSlug: 'bob', role: 'member' }] });
      const before = stub.calls.length;
      const reconciled = (await handle.executeUpdate('roomChange', { args: [{ type: 'reconcile' }] })) as {
        actions: string[];
      };

      expect(stub.types().slice(0, 4)).toEqual(['loadRoom', 'ensureRoom', 'applyMembers', 'applyMembers']);
      const repair = stub.types().slice(before);
      // The aliases are checked too (a rename whose update never arrived is finished here).
      expect(repair.slice(0, 4)).toEqual(['ensureRoom', 'applyRoomSettings', 'syncAliases', 'undesiredMembers']);
      expect(repair.slice(4, -2).sort()).toEqual(['joinAsMember', 'prepareMember', 'prepareMember']);
      expect(repair.slice(-2)).toEqual(['ensureMemberRemoved', 'syncPowerLevels']);
      expect(stub.inputsOf('joinAsMember')).toEqual([expect.objectContaining({ userSlug: 'alice' })]);
      expect(stub.inputsOf('ensureMemberRemoved')).toEqual([expect.objectContaining({ userId: '@drifter:test' })]);
      expect(reconciled.actions).toEqual(expect.arrayContaining(['joined @alice', 'removed @drifter:test']));
      expect(reconciled.actions).toHaveLength(2);
    });
  });

  it('a room gone from the homeserver fails the update that found out, then the workflow, as RoomMissing', async () => {
    const stub = stubRoom('event', storedRoom('x', 'event', 'meetup', {}), {
      applyMembers: async () => {
        throw ApplicationFailure.create({ type: FailureType.RoomMissing, message: 'gone', nonRetryable: true });
      },
    });
    await withRoom('event', stub, async (handle) => {
      const alice = handle.executeUpdate('roomChange', {
        args: [{ type: 'addMember', userSlug: 'alice', role: 'host' }],
      });
      await expect(alice).rejects.toMatchObject({ cause: { type: FailureType.RoomMissing } });
      await expect(handle.result()).rejects.toMatchObject({ cause: { type: FailureType.RoomMissing } });
    });
  });
});
