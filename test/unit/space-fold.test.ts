/**
 * Group bans and an event's group in the room workflow's batch (workflows/space-fold.ts through
 * workflows/room-batch.ts, decision 0051), and the rules of vocabulary/spaces.ts. Pure.
 */
import { describe, expect, it } from '@jest/globals';
import type { RoomChangeRequest, RoomState } from '../../vocabulary/contract.js';
import { FailureType } from '../../vocabulary/failures.js';
import { spaceAliasLocalpart, spaceChangeProblem } from '../../vocabulary/spaces.js';
import { distributeOutcomes, emptyEffects, foldBatch } from '../../workflows/room-batch.js';

function roomState(over: Partial<RoomState> = {}): RoomState {
  return {
    tenant: 'acme',
    kind: 'event',
    slug: 'walk',
    roomId: '!r:localhost',
    alias: '#r:localhost',
    settings: {},
    members: { alice: 'participant', bob: 'host' },
    archived: false,
    changesApplied: 0,
    pendingChanges: 0,
    lastError: null,
    ...over,
  };
}

describe('a ban in the batch', () => {
  it('takes the user out of the desired members, notes the ban, and asks the space step to run', () => {
    const state = roomState();
    const fold = foldBatch(state, [{ type: 'ban', userSlug: 'alice', reason: 'spam' }]);
    expect(state.members).toEqual({ bob: 'host' });
    expect(state.bans).toEqual(['alice']);
    expect(fold.targets.get('alice')).toEqual({ to: 'leave' });
    expect([...fold.removals]).toEqual(['alice']);
    expect(fold.bans).toBe(true);
    expect(fold.reconcile).toBe(false);
  });

  it('refuses adding a banned user while the ban holds, as UserBanned, and nothing else in the batch', () => {
    const state = roomState({ bans: ['carol'] });
    const changes: RoomChangeRequest[] = [
      { type: 'addMember', userSlug: 'carol', role: 'participant' },
      { type: 'addMember', userSlug: 'dave', role: 'participant' },
    ];
    const fold = foldBatch(state, changes);
    expect(fold.refusals[0]?.type).toBe(FailureType.UserBanned);
    expect(fold.refusals[1]).toBeUndefined();
    expect(state.members).not.toHaveProperty('carol');
    expect(state.members.dave).toBe('participant');
    const outcomes = distributeOutcomes('event', changes, fold, emptyEffects());
    expect(outcomes[0]).toMatchObject({ ok: false });
    expect(outcomes[1]).toMatchObject({ ok: true });
  });

  it('leaves banned users out of a complete member list; an unban lets them be added again', () => {
    const state = roomState({ bans: ['carol'] });
    foldBatch(state, [{ type: 'setMembers', members: [{ userSlug: 'carol', role: 'participant' }, { userSlug: 'bob', role: 'host' }] }]);
    expect(state.members).toEqual({ bob: 'host' });
    const fold = foldBatch(state, [{ type: 'unban', userSlug: 'carol' }, { type: 'addMember', userSlug: 'carol', role: 'participant' }]);
    expect(fold.refusals).toEqual([undefined, undefined]);
    expect(state.bans).toEqual([]);
    expect(state.members.carol).toBe('participant');
  });

  it('reports the ban member actions to the ban change', () => {
    const state = roomState();
    const changes: RoomChangeRequest[] = [{ type: 'ban', userSlug: 'alice' }];
    const fold = foldBatch(state, changes);
    const effects = emptyEffects();
    effects.perUser.set('alice', { actions: ['removed @alice'] });
    expect(distributeOutcomes('event', changes, fold, effects)).toEqual([{ ok: true, actions: ['removed @alice'] }]);
  });
});

describe("an event's group in the batch", () => {
  it('moves the event when an ensure names another group (or none), and not when it names the same one', () => {
    const state = roomState({ group: 'hikers' });
    expect(foldBatch(state, [{ type: 'ensure', group: 'hikers' }]).groupChanged).toBeUndefined();
    expect(foldBatch(state, [{ type: 'ensure', settings: { name: 'x' } }]).groupChanged).toBeUndefined();
    expect(foldBatch(state, [{ type: 'ensure', group: 'climbers' }]).groupChanged).toBe(true);
    expect(state.group).toBe('climbers');
    expect(foldBatch(state, [{ type: 'ensure', group: null }]).groupChanged).toBe(true);
    expect(state.group).toBeNull();
  });
});

describe('the rules of spaces and bans', () => {
  it('gives only events a group, checks its slug, and bans only in groups and events', () => {
    expect(spaceChangeProblem('event', { type: 'ensure', group: 'hikers' })).toBeNull();
    expect(spaceChangeProblem('event', { type: 'ensure', group: null })).toBeNull();
    expect(spaceChangeProblem('group', { type: 'ensure', group: 'hikers' })).toBe('only an event has a group');
    expect(spaceChangeProblem('event', { type: 'ensure', group: 'no spaces' })).toMatch(/^group/);
    expect(spaceChangeProblem('event', { type: 'ensure', group: 7 })).toMatch(/group must be a slug or null/);
    expect(spaceChangeProblem('group', { type: 'ban', userSlug: 'alice' })).toBeNull();
    expect(spaceChangeProblem('dm', { type: 'ban', userSlug: 'alice' })).toMatch(/DM belongs to no group/);
    expect(spaceChangeProblem('event', { type: 'ban', userSlug: 'alice', reason: 'x'.repeat(501) })).toMatch(/reason/);
    expect(spaceChangeProblem('event', { type: 'unban', userSlug: '' })).toMatch(/userSlug/);
  });

  it("names a group's space by an alias of its own, as long as the group room's", () => {
    expect(spaceAliasLocalpart('om', 'acme', 'hikers')).toBe('om_acme_space_hikers');
    expect(spaceAliasLocalpart('om', 'acme', 'hikers').length).toBe('om_acme_group_hikers'.length);
  });
});
