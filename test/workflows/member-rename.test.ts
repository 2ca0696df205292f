/**
 * The room workflow and adoption/renames (issue #17), activities stubbed: a rename of a member only
 * follows the database (no activity at all), a member the database recorded under a new slug is
 * followed from the pass's answer, and an `adopt` reaches ensureRoom.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkflowHandle } from '@temporalio/client';
import type { MemberPassInput } from '../../activities/rooms.js';
import { roomStateQuery } from '../../vocabulary/contract.js';
import { storedRoom, stubRoom, type StubRoom } from './room-stubs.js';
import { stackWorkflowEnv, withRoomWorkflow } from './stack-env.js';

const stack = stackWorkflowEnv();

const withRoom = (stub: StubRoom, body: (h: WorkflowHandle) => Promise<void>): Promise<void> =>
  withRoomWorkflow(stack, stub.activities, { kind: 'group', slug: 'hikers', idleTimeoutMs: 60_000 }, body);

const change = (handle: WorkflowHandle, c: object) => handle.executeUpdate('roomChange', { args: [c] });

describe('the room workflow, renamed members and adoption', () => {
  it('a renameMember moves the desired member and runs no activity; later changes name the new slug', async () => {
    const stub = stubRoom('group', storedRoom('x', 'group', 'hikers', { ann: 'admin', ben: 'member' }));
    await withRoom(stub, async (handle) => {
      const answer = await change(handle, { type: 'renameMember', userSlug: 'ann', newSlug: 'anna' });
      expect(answer).toEqual({ roomId: '!known:test', alias: '#room:test', slug: 'hikers', actions: [] });
      expect(stub.types()).toEqual(['loadRoom']);
      expect((await handle.query(roomStateQuery)).members).toEqual({ anna: 'admin', ben: 'member' });
      await change(handle, { type: 'addMember', userSlug: 'anna', role: 'moderator' });
      expect(stub.inputsOf<MemberPassInput>('applyMembers')[0]!.members).toEqual({ anna: 'moderator', ben: 'member' });
    });
  });

  it('follows a member the database recorded under a new slug (renamed while the change was on its way)', async () => {
    const stub = stubRoom('group', storedRoom('x', 'group', 'hikers', {}), {
      applyMembers: async (input) => ({
        members: Object.fromEntries(input.targets.map((t) => [t.userSlug, { actions: [] }])),
        powerLevels: { bySlug: {}, other: [] },
        renamed: { cy: 'cyrus' },
      }),
    });
    await withRoom(stub, async (handle) => {
      await change(handle, { type: 'addMember', userSlug: 'cy', role: 'member' });
      expect((await handle.query(roomStateQuery)).members).toEqual({ cyrus: 'member' });
    });
  });

  it('hands the room to adopt to ensureRoom, once', async () => {
    const stub = stubRoom('group', null);
    await withRoom(stub, async (handle) => {
      await change(handle, { type: 'ensure', settings: { prune: true }, adopt: { alias: '#old:hs' } });
      await change(handle, { type: 'ensure', settings: { name: 'Hikers' } });
      expect(stub.inputsOf('ensureRoom')).toEqual([
        expect.objectContaining({ adopt: { alias: '#old:hs' }, settings: { prune: true } }),
        expect.not.objectContaining({ adopt: expect.anything() }),
      ]);
    });
  });

  it('refuses a malformed adopt or rename before it is accepted', async () => {
    const stub = stubRoom('group', null);
    await withRoom(stub, async (handle) => {
      await expect(change(handle, { type: 'ensure', adopt: { room: 'x' } })).rejects.toMatchObject({
        cause: { message: 'adopt must name the room by roomId or alias' },
      });
      await expect(change(handle, { type: 'renameMember', userSlug: 'ann', newSlug: 'a b' })).rejects.toMatchObject({
        cause: { type: 'InvalidChange' },
      });
      expect(stub.types()).toEqual(['loadRoom']);
    });
  });
});
