/**
 * A complete member list in the room workflow's batch (workflows/member-list-fold.ts through
 * foldBatch and distributeOutcomes) and its check (vocabulary/member-list.ts): set semantics, what
 * the caller is told, and the refusals the API and the workflow's validator share.
 */
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import type { RoomChangeRequest, RoomState } from '../../vocabulary/contract.js';
import { MEMBER_LIST_MAX, memberListProblem } from '../../vocabulary/member-list.js';
import { distributeOutcomes, emptyEffects, foldBatch } from '../../workflows/room-batch.js';
import { validateRoomChange } from '../../workflows/room.js';

function roomState(members: Record<string, string>): RoomState {
  return {
    tenant: 'acme',
    kind: 'event',
    slug: 'meetup',
    roomId: '!r:localhost',
    alias: '#r:localhost',
    settings: { name: 'Meetup' },
    members: { ...members },
    archived: false,
    changesApplied: 0,
    pendingChanges: 0,
    lastError: null,
  };
}

const list = (members: [string, string, string?][]): RoomChangeRequest => ({
  type: 'setMembers',
  members: members.map(([userSlug, role, displayName]) => ({ userSlug, role, ...(displayName ? { displayName } : {}) })),
});

describe('a complete member list folded into a batch', () => {
  it('adds the new, removes the unlisted, sets changed roles and leaves the rest untouched', () => {
    const state = roomState({ ann: 'host', bob: 'member', cat: 'member', dan: 'speaker' });
    const fold = foldBatch(state, [list([['ann', 'host'], ['bob', 'moderator'], ['eve', 'member', 'Eve'], ['dan', 'speaker']])]);
    expect(state.members).toEqual({ ann: 'host', bob: 'moderator', eve: 'member', dan: 'speaker' });
    expect(Object.fromEntries(fold.targets)).toEqual({
      cat: { to: 'leave' },
      bob: { to: 'join', displayName: undefined },
      eve: { to: 'join', displayName: 'Eve' },
    });
    expect(fold.previousRoles).toEqual({ cat: 'member', bob: 'member', eve: null });
    expect(fold.upserts).toEqual({ bob: 'moderator', eve: 'member' });
    expect([...fold.removals]).toEqual(['cat']);
    // Unchanged members cost one read of the room's members, no write.
    expect([...fold.verify].sort()).toEqual(['ann', 'dan']);
    expect(fold.membersOnly).toBe(true);
    expect(fold.lists.get(0)).toEqual({
      added: ['eve'],
      removed: ['cat'],
      roleChanged: [{ userSlug: 'bob', from: 'member', to: 'moderator' }],
      unchanged: ['ann', 'dan'],
    });
  });

  it('the same list again has no target: nothing to write', () => {
    const state = roomState({ ann: 'host', bob: 'member' });
    const fold = foldBatch(state, [list([['bob', 'member'], ['ann', 'host']])]);
    expect(fold.targets.size).toBe(0);
    expect(fold.upserts).toEqual({});
    expect(fold.removals.size).toBe(0);
    expect([...fold.verify].sort()).toEqual(['ann', 'bob']);
  });

  it('an empty list empties the room', () => {
    const state = roomState({ ann: 'host', bob: 'member' });
    const fold = foldBatch(state, [list([])]);
    expect(state.members).toEqual({});
    expect([...fold.removals].sort()).toEqual(['ann', 'bob']);
  });

  it('folds in arrival order with single changes around it; a member already targeted is not checked again', () => {
    const state = roomState({ ann: 'host' });
    const changes: RoomChangeRequest[] = [
      { type: 'addMember', userSlug: 'bob', role: 'member' },
      list([['ann', 'host'], ['bob', 'member']]),
      { type: 'removeMember', userSlug: 'ann' },
    ];
    const fold = foldBatch(state, changes);
    expect(state.members).toEqual({ bob: 'member' });
    expect([...fold.verify]).toEqual([]);
    expect(Object.fromEntries(fold.targets)).toEqual({ bob: { to: 'join', displayName: undefined }, ann: { to: 'leave' } });
  });

  it("answers with what it changed and the members it touched last that failed, not others' failures", () => {
    const state = roomState({ ann: 'host', cat: 'member' });
    const changes = [list([['ann', 'host'], ['bob', 'member']]), { type: 'addMember', userSlug: 'dan', role: 'member' } as const];
    const fold = foldBatch(state, changes);
    const effects = emptyEffects();
    const refused = ApplicationFailure.create({ type: 'Forbidden', message: 'bob may not join', nonRetryable: true });
    effects.perUser.set('bob', { actions: [], error: refused });
    effects.perUser.set('cat', { actions: ['removed @cat'] });
    effects.perUser.set('dan', { actions: [], error: ApplicationFailure.create({ type: 'Forbidden', message: 'dan' }) });
    effects.powerLevels = { bySlug: { cat: ['power level @cat 0→0'], bob: ['power level @bob stays 100: not below the bot'] }, other: [] };
    effects.roomActions.push('created !r');
    const [mine, dans] = distributeOutcomes('event', changes, fold, effects);
    expect(mine).toEqual({
      ok: true,
      actions: ['created !r', 'power levels: 1 entry changed'],
      members: {
        added: ['bob'],
        removed: ['cat'],
        roleChanged: [],
        unchanged: 1,
        failed: [{ userSlug: 'bob', type: 'Forbidden', message: 'bob may not join' }],
      },
    });
    expect(dans).toMatchObject({ ok: false });
  });
});

describe('the check of a list', () => {
  it('accepts a list with roles of the kind, optional roles and names, and an empty list', () => {
    expect(memberListProblem('event', [{ userSlug: 'ann', role: 'host' }, { userSlug: 'bob', displayName: 'Bob' }])).toBeNull();
    expect(memberListProblem('group', [])).toBeNull();
  });

  it('names the offending entries: shape, slug, role, repeats, unknown fields; DMs have no list', () => {
    expect(memberListProblem('event', { ann: 'host' })).toBe('field "members" must be an array');
    expect(memberListProblem('dm', [])).toMatch(/DM is between exactly its two users/);
    const problem = memberListProblem('event', [
      { userSlug: 'ann', role: 'owner' },
      { userSlug: 'bad slug' },
      { userSlug: 'cat', colour: 'red' },
      { userSlug: 'dan' },
      { userSlug: 'dan', role: 'host' },
      'eve',
      { userSlug: 'fay', displayName: '' },
    ]);
    expect(problem).toContain('members[0].role "owner" is not one of host, moderator, speaker, member, participant, guest for event rooms');
    expect(problem).toContain('members[1].userSlug');
    expect(problem).toContain('members[2] has an unknown field "colour"');
    expect(problem).toContain('members[4].userSlug repeats members[3] ("dan")');
    expect(problem).toContain('members[5] must be a JSON object');
    expect(problem).toContain('(and 1 more)');
  });

  it(`refuses more than ${MEMBER_LIST_MAX} members, saying the limit`, () => {
    const many = Array.from({ length: MEMBER_LIST_MAX + 1 }, (_, i) => ({ userSlug: `u${i}` }));
    expect(memberListProblem('group', many)).toBe(`field "members" has ${MEMBER_LIST_MAX + 1} entries, over the limit of ${MEMBER_LIST_MAX}`);
    expect(memberListProblem('group', many.slice(1))).toBeNull();
  });

  it("the workflow's validator refuses a list without roles (the API fills them in) and a bad one", () => {
    expect(() => validateRoomChange('event', { type: 'setMembers', members: [{ userSlug: 'ann', role: 'host' }] })).not.toThrow();
    expect(() => validateRoomChange('event', { type: 'setMembers', members: [{ userSlug: 'ann' }] } as never)).toThrow(
      'members[0].role is missing',
    );
    expect(() => validateRoomChange('group', { type: 'setMembers', members: 'all' } as never)).toThrow(
      'field "members" must be an array',
    );
  });
});
