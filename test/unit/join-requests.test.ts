/**
 * Join requests (decision 0055) without a homeserver: what a membership event does to a request
 * (adapters/store/join-request-events.ts), the join rule a room's `knock` setting asks for
 * (activities/rooms/join-rule.ts), the decision's check shared by the API and the workflow's
 * validator, and a decision through the room workflow's pure batch (foldBatch, distributeOutcomes).
 */
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { requestTransition } from '../../adapters/store/join-request-events.js';
import { roomVersionAllows } from '../../adapters/matrix/join-rules.js';
import { wantedJoinRules } from '../../activities/rooms/join-rule.js';
import type { RoomChangeRequest, RoomState } from '../../vocabulary/contract.js';
import { FailureType } from '../../vocabulary/failures.js';
import { joinDecisionProblem, withRequest, type JoinClaim, type JoinRequest } from '../../vocabulary/join-requests.js';
import { settingsProblem } from '../../vocabulary/room-rules.js';
import { distributeOutcomes, emptyEffects, foldBatch } from '../../workflows/room-batch.js';
import { validateRoomChange } from '../../workflows/room.js';

const BOT = '@openmeet-bot:localhost';
const member = (sender: string, stateKey: string, membership: string, reason?: string) => ({
  room_id: '!r:localhost',
  type: 'm.room.member',
  event_id: `$${sender}-${membership}`,
  sender,
  state_key: stateKey,
  content: { membership, ...(reason ? { reason } : {}) },
});

describe('a membership event and the join requests', () => {
  it('a knock is a new request, with its reason (cut to 500 characters)', () => {
    expect(requestTransition(member('@bob:hs', '@bob:hs', 'knock', 'let me in'), BOT)).toEqual({
      kind: 'knock',
      roomId: '!r:localhost',
      userId: '@bob:hs',
      eventId: '$@bob:hs-knock',
      reason: 'let me in',
    });
    const long = requestTransition(member('@bob:hs', '@bob:hs', 'knock', 'x'.repeat(600)), BOT);
    expect(long?.kind === 'knock' && long.reason?.length).toBe(500);
  });

  it('settles a request decided from a Matrix client: leaving is withdrawing, a kick or ban refuses, an invite or join approves', () => {
    expect(requestTransition(member('@bob:hs', '@bob:hs', 'leave'), BOT)).toMatchObject({ kind: 'settle', state: 'withdrawn', by: '@bob:hs' });
    expect(requestTransition(member('@mod:hs', '@bob:hs', 'leave', 'no'), BOT)).toMatchObject({ state: 'refused', by: '@mod:hs', reason: 'no' });
    expect(requestTransition(member('@mod:hs', '@bob:hs', 'ban'), BOT)).toMatchObject({ state: 'refused' });
    expect(requestTransition(member('@mod:hs', '@bob:hs', 'invite'), BOT)).toMatchObject({ state: 'approved', by: '@mod:hs' });
    expect(requestTransition(member('@bob:hs', '@bob:hs', 'join'), BOT)).toMatchObject({ state: 'approved' });
  });

  it("skips the service's own bot (its invites and kicks carry out decisions already recorded) and other events", () => {
    expect(requestTransition(member(BOT, '@bob:hs', 'invite'), BOT)).toBeNull();
    expect(requestTransition(member(BOT, '@bob:hs', 'leave'), BOT)).toBeNull();
    expect(requestTransition({ ...member('@bob:hs', '@bob:hs', 'knock'), type: 'm.room.message' }, BOT)).toBeNull();
    expect(requestTransition({ ...member('@bob:hs', '@bob:hs', 'knock'), state_key: undefined }, BOT)).toBeNull();
    // A knock is the knocker's own act: one sent for someone else is not a request.
    expect(requestTransition(member('@mod:hs', '@bob:hs', 'knock'), BOT)).toBeNull();
  });
});

describe("the join rule a room's knock setting asks for", () => {
  it('knock on: knock, or knock_restricted keeping the allow list of a restricted room; already so: nothing', () => {
    expect(wantedJoinRules({ join_rule: 'invite' }, true, 'private')).toEqual({ join_rule: 'knock' });
    expect(wantedJoinRules({ join_rule: 'public' }, true, 'public')).toEqual({ join_rule: 'knock' });
    expect(wantedJoinRules(null, true, undefined)).toEqual({ join_rule: 'knock' });
    const allow = [{ type: 'm.room_membership', room_id: '!space:hs' }];
    expect(wantedJoinRules({ join_rule: 'restricted', allow }, true, 'private')).toEqual({ join_rule: 'knock_restricted', allow });
    expect(wantedJoinRules({ join_rule: 'knock' }, true, 'private')).toBeNull();
    expect(wantedJoinRules({ join_rule: 'knock_restricted', allow }, true, 'private')).toBeNull();
  });

  it("knock off: back to the visibility's rule, or restricted; never said: the join rule is left alone", () => {
    expect(wantedJoinRules({ join_rule: 'knock' }, false, 'private')).toEqual({ join_rule: 'invite' });
    expect(wantedJoinRules({ join_rule: 'knock' }, false, 'public')).toEqual({ join_rule: 'public' });
    const allow = [{ type: 'm.room_membership', room_id: '!space:hs' }];
    expect(wantedJoinRules({ join_rule: 'knock_restricted', allow }, false, 'private')).toEqual({ join_rule: 'restricted', allow });
    expect(wantedJoinRules({ join_rule: 'invite' }, false, 'private')).toBeNull();
    expect(wantedJoinRules({ join_rule: 'knock' }, undefined, 'private')).toBeNull();
  });

  it('needs room version 7 for knock and 10 for knock_restricted; unstable versions are left to the homeserver', () => {
    expect(roomVersionAllows('6', 'knock')).toBe(false);
    expect(roomVersionAllows('7', 'knock')).toBe(true);
    expect(roomVersionAllows('9', 'knock_restricted')).toBe(false);
    expect(roomVersionAllows('11', 'knock_restricted')).toBe(true);
    expect(roomVersionAllows('1', 'invite')).toBe(true);
    expect(roomVersionAllows('org.matrix.msc9999', 'knock')).toBe(true);
  });

  it('is refused for DMs, by the API and the workflow alike', () => {
    expect(settingsProblem('dm', { knock: true })).toMatch(/no one can knock/);
    expect(settingsProblem('event', { knock: true })).toBeNull();
    expect(() => validateRoomChange('dm', { type: 'ensure', settings: { knock: true } })).toThrow(/no one can knock/);
    expect(() => validateRoomChange('event', { type: 'ensure', settings: { knock: 'yes' as never } })).toThrow(/knock must be true or false/);
  });
});

describe('a decision and its check', () => {
  const ok = { userId: '@bob:hs', userSlug: null, approve: true };
  it('names what is wrong', () => {
    expect(joinDecisionProblem('event', ok)).toBeNull();
    expect(joinDecisionProblem('event', { ...ok, userSlug: 'bob', role: 'participant', reason: 'welcome', decidedBy: 'mod' })).toBeNull();
    expect(joinDecisionProblem('dm', ok)).toMatch(/no join requests/);
    expect(joinDecisionProblem('event', { ...ok, userId: 'bob' })).toMatch(/Matrix user id/);
    expect(joinDecisionProblem('event', { ...ok, approve: 'yes' })).toMatch(/"approve"/);
    expect(joinDecisionProblem('event', { ...ok, reason: 'x'.repeat(501) })).toMatch(/"reason"/);
    expect(joinDecisionProblem('event', { ...ok, decidedBy: '' })).toMatch(/"decidedBy"/);
    expect(joinDecisionProblem('group', { ...ok, role: 'host' })).toMatch(/role "host" is not one of/);
    expect(joinDecisionProblem('event', { ...ok, userSlug: 'not a slug' })).toMatch(/userSlug/);
    expect(() => validateRoomChange('event', { type: 'decideRequest', ...ok, approve: 1 as never })).toThrow(/"approve"/);
  });
});

function roomState(members: Record<string, string>): RoomState {
  return {
    tenant: 'acme',
    kind: 'event',
    slug: 'meetup',
    roomId: '!r:localhost',
    alias: '#r:localhost',
    settings: { knock: true },
    members: { ...members },
    archived: false,
    changesApplied: 0,
    pendingChanges: 0,
    lastError: null,
  };
}

describe('decisions in the room workflow batch', () => {
  const approveOurs: RoomChangeRequest = { type: 'decideRequest', userId: '@acme_bob:hs', userSlug: 'bob', approve: true, role: 'participant' };
  const refusePlain: RoomChangeRequest = { type: 'decideRequest', userId: '@eve:other', userSlug: null, approve: false, reason: 'full' };
  const approvePlain: RoomChangeRequest = { type: 'decideRequest', userId: '@zed:other', userSlug: null, approve: true };
  const claimed: JoinClaim = { claimed: true };

  it('an approved user of ours becomes a desired member and a target to join; other decisions are knocks to answer', () => {
    const state = roomState({ ann: 'host' });
    const claims = new Map([[0, claimed], [1, claimed], [2, claimed]]);
    const fold = foldBatch(state, [approveOurs, refusePlain, approvePlain], claims);
    expect(fold.refusals).toEqual([undefined, undefined, undefined]);
    expect(state.members).toEqual({ ann: 'host', bob: 'participant' });
    expect(Object.fromEntries(fold.targets)).toEqual({ bob: { to: 'join' } });
    expect(fold.upserts).toEqual({ bob: 'participant' });
    expect(fold.membersOnly).toBe(true);
    expect(fold.answers).toEqual([
      { userId: '@eve:other', approve: false, reason: 'full' },
      { userId: '@zed:other', approve: true },
    ]);
    const effects = emptyEffects();
    effects.perUser.set('bob', { actions: ['invited @acme_bob:hs', 'joined @acme_bob:hs'] });
    effects.answers.set('@eve:other', { actions: ['refused the knock of @eve:other'] });
    effects.answers.set('@zed:other', { actions: ['invited @zed:other'] });
    const outcomes = distributeOutcomes('event', [approveOurs, refusePlain, approvePlain], fold, effects);
    expect(outcomes).toEqual([
      { ok: true, actions: ['invited @acme_bob:hs', 'joined @acme_bob:hs'] },
      { ok: true, actions: ['refused the knock of @eve:other'] },
      { ok: true, actions: ['invited @zed:other'] },
    ]);
  });

  it('a member approved keeps their role', () => {
    const state = roomState({ bob: 'host' });
    foldBatch(state, [approveOurs], new Map([[0, claimed]]));
    expect(state.members.bob).toBe('host');
  });

  it('a decision not claimed is refused: no request (404), or decided already (409); nothing is folded for it', () => {
    const state = roomState({});
    const claims = new Map<number, JoinClaim>([
      [0, { claimed: false, found: null }],
      [1, { claimed: false, found: 'withdrawn' }],
    ]);
    const fold = foldBatch(state, [approveOurs, refusePlain], claims);
    const [notFound, decided] = fold.refusals as ApplicationFailure[];
    expect(notFound).toMatchObject({ type: FailureType.RequestNotFound, message: expect.stringContaining('@acme_bob:hs') });
    expect(decided).toMatchObject({ type: FailureType.RequestDecided, message: expect.stringContaining('withdrawn already') });
    expect(state.members).toEqual({});
    expect(fold.targets.size).toBe(0);
    expect(fold.answers).toEqual([]);
    // No claim at all (the workflow claimed none): refused too, never carried out unclaimed.
    expect(foldBatch(roomState({}), [refusePlain]).refusals[0]).toMatchObject({ type: FailureType.RequestNotFound });
  });

  it('an archived room refuses decisions as it refuses every change', () => {
    const state = { ...roomState({}), archived: true };
    expect(foldBatch(state, [refusePlain], new Map([[0, claimed]])).refusals[0]).toMatchObject({ type: FailureType.RoomArchived });
  });

  it("a knock change turns the room's settings changed", () => {
    const state: RoomState = { ...roomState({}), settings: {} };
    expect(foldBatch(state, [{ type: 'ensure', settings: { knock: true } }]).settingsChanged).toBe(true);
    expect(state.settings.knock).toBe(true);
    expect(foldBatch(state, [{ type: 'ensure', settings: { knock: true } }]).settingsChanged).toBe(false);
  });
});

describe("the requests in the workflow's state", () => {
  const req = (userId: string, state: JoinRequest['state']): JoinRequest => ({
    userId,
    userSlug: null,
    state,
    reason: null,
    requestedAt: '2026-01-01T00:00:00.000Z',
    decidedBy: null,
    decidedAt: null,
    decisionReason: null,
  });
  it("replace the same user's, most recent first, at most 100", () => {
    let list = withRequest(undefined, req('@a:hs', 'pending'));
    list = withRequest(list, req('@b:hs', 'pending'));
    list = withRequest(list, req('@a:hs', 'refused'));
    expect(list.map((r) => [r.userId, r.state])).toEqual([['@a:hs', 'refused'], ['@b:hs', 'pending']]);
    for (let i = 0; i < 150; i++) list = withRequest(list, req(`@u${i}:hs`, 'pending'));
    expect(list).toHaveLength(100);
    expect(list[0]!.userId).toBe('@u149:hs');
  });
});
