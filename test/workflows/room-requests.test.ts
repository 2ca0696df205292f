/**
 * Join-request decisions in the room workflow (decision 0055) on a real Temporal server, activities
 * stubbed: the batch's decisions are claimed before anything else is done, an approved user of
 * ours goes the member way, other decisions are knocks answered after the members, an unclaimed
 * decision is refused with its own type, and the requests show in the workflow's query (from the
 * claim, and from the intake's signal).
 */
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { roomStateQuery, type RoomState } from '../../vocabulary/contract.js';
import { FailureType } from '../../vocabulary/failures.js';
import { joinRequestSignal, type JoinClaim, type JoinRequest } from '../../vocabulary/join-requests.js';
import { accepted, gate, storedRoom, stubRoom } from './room-stubs.js';
import { stackWorkflowEnv, withRoomWorkflow } from './stack-env.js';

const stack = stackWorkflowEnv();

const request = (userId: string, state: JoinRequest['state'], userSlug: string | null = null): JoinRequest => ({
  userId,
  userSlug,
  state,
  reason: null,
  requestedAt: '2026-12-06T00:00:00.000Z',
  decidedBy: state === 'pending' ? null : 'platform',
  decidedAt: null,
  decisionReason: null,
});

describe('join-request decisions in the room workflow, activities stubbed', () => {
  it('claims the batch first, then the member pass for ours, then the knocks; each caller hears its own outcome', async () => {
    const loading = gate();
    const claimed: Record<string, JoinClaim> = {
      '@bob:test': { claimed: true },
      '@eve:other': { claimed: true },
      '@zed:other': { claimed: false, found: 'approved' },
    };
    const stub = stubRoom('event', null, {
      loadRoom: async () => {
        await loading.wait();
        return storedRoom('x', 'event', 'meetup', { ann: 'host' });
      },
      claimJoinRequests: async (input: { decisions: { userId: string }[] }) => ({
        claims: input.decisions.map((d) => claimed[d.userId]!),
        requests: [request('@bob:test', 'approved', 'bob'), request('@eve:other', 'refused'), request('@zed:other', 'approved')],
      }),
      answerJoinRequests: async (input: { answers: { userId: string }[] }) =>
        Object.fromEntries(input.answers.map((a) => [a.userId, [`refused the knock of ${a.userId}`]])),
    });
    await withRoomWorkflow(stack, stub.activities, { kind: 'event', slug: 'meetup', idleTimeoutMs: 60_000 }, async (handle) => {
      const results = [
        await accepted(handle, { type: 'decideRequest', userId: '@bob:test', userSlug: 'bob', approve: true, role: 'participant' }),
        await accepted(handle, { type: 'decideRequest', userId: '@eve:other', userSlug: null, approve: false, reason: 'full' }),
        await accepted(handle, { type: 'decideRequest', userId: '@zed:other', userSlug: null, approve: true }),
      ];
      loading.open();
      const [bob, eve] = await Promise.all([results[0]!(), results[1]!()]);
      await expect(results[2]!()).rejects.toMatchObject({ cause: { type: FailureType.RequestDecided } });

      expect(stub.types()).toEqual(['loadRoom', 'claimJoinRequests', 'applyMembers', 'answerJoinRequests']);
      const [claim] = stub.inputsOf<{ decisions: { userId: string; decisionId: string; approve: boolean; reason?: string }[] }>('claimJoinRequests');
      expect(claim!.decisions.map(({ userId, approve }) => [userId, approve])).toEqual([
        ['@bob:test', true],
        ['@eve:other', false],
        ['@zed:other', true],
      ]);
      expect(new Set(claim!.decisions.map((d) => d.decisionId)).size).toBe(3);
      expect(stub.inputsOf('applyMembers')).toMatchObject([{ targets: [{ userSlug: 'bob', to: 'join' }], members: { ann: 'host', bob: 'participant' } }]);
      // Only the claimed decision that is not a member change is answered on the homeserver.
      expect(stub.inputsOf('answerJoinRequests')).toMatchObject([{ answers: [{ userId: '@eve:other', approve: false, reason: 'full' }] }]);
      expect(bob!.actions).toContain('joined bob');
      expect(eve!.actions).toEqual(['refused the knock of @eve:other']);
      const state = (await handle.query(roomStateQuery)) as RoomState;
      expect(state.members).toEqual({ ann: 'host', bob: 'participant' });
      expect(state.requests?.map((r) => [r.userId, r.state])).toEqual([
        ['@bob:test', 'approved'],
        ['@eve:other', 'refused'],
        ['@zed:other', 'approved'],
      ]);
    });
  });

  it('a claimed decision the homeserver did not carry out goes back to pending (the platform can decide again)', async () => {
    const stub = stubRoom('event', storedRoom('x', 'event', 'meetup', {}), {
      claimJoinRequests: async () => ({ claims: [{ claimed: true }], requests: [request('@eve:other', 'refused')] }),
      answerJoinRequests: async () => {
        throw ApplicationFailure.create({ type: FailureType.Forbidden, message: 'the bot may not kick', nonRetryable: true });
      },
      releaseJoinRequests: async () => [request('@eve:other', 'pending')],
    });
    await withRoomWorkflow(stack, stub.activities, { kind: 'event', slug: 'meetup', idleTimeoutMs: 60_000 }, async (handle) => {
      const refusal = await accepted(handle, { type: 'decideRequest', userId: '@eve:other', userSlug: null, approve: false });
      await expect(refusal()).rejects.toMatchObject({ cause: { type: FailureType.Forbidden } });
      expect(stub.types()).toEqual(['loadRoom', 'claimJoinRequests', 'answerJoinRequests', 'releaseJoinRequests']);
      const [claim] = stub.inputsOf<{ decisions: { decisionId: string }[] }>('claimJoinRequests');
      expect(stub.inputsOf('releaseJoinRequests')).toMatchObject([{ decisionIds: [claim!.decisions[0]!.decisionId] }]);
      expect(((await handle.query(roomStateQuery)) as RoomState).requests).toEqual([request('@eve:other', 'pending')]);
    });
  });

  it("shows a knock the intake signals in its query, without running anything", async () => {
    const stub = stubRoom('event', storedRoom('x', 'event', 'meetup', {}));
    await withRoomWorkflow(stack, stub.activities, { kind: 'event', slug: 'meetup', idleTimeoutMs: 60_000 }, async (handle) => {
      await handle.signal(joinRequestSignal, request('@amy:other', 'pending'));
      await handle.signal(joinRequestSignal, request('@amy:other', 'withdrawn'));
      const state = (await handle.query(roomStateQuery)) as RoomState;
      expect(state.requests).toEqual([request('@amy:other', 'withdrawn')]);
      expect(stub.types()).toEqual(['loadRoom']);
    });
  });
});
