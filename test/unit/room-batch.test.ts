/**
 * The room workflow's batch without the homeserver (workflows/room-batch.ts): how a batch of
 * changes folds into the desired state, and which caller hears which outcome (decision 0005).
 */
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { RoomKind } from '../../vocabulary/ids.js';
import type { RoomChangeRequest, RoomState } from '../../vocabulary/contract.js';
import {
  distributeOutcomes,
  emptyEffects,
  foldBatch,
  followRenames,
  type ChangeOutcome,
} from '../../workflows/room-batch.js';

function roomState(over: Partial<RoomState> = {}, kind: RoomKind = 'event'): RoomState {
  return {
    tenant: 'acme',
    kind,
    slug: 'meetup',
    roomId: '!r:localhost',
    alias: '#r:localhost',
    settings: { name: 'Meetup' },
    members: {},
    archived: false,
    changesApplied: 0,
    pendingChanges: 0,
    lastError: null,
    ...over,
  };
}

const add = (userSlug: string, role: string, displayName?: string): RoomChangeRequest => ({
  type: 'addMember',
  userSlug,
  role,
  ...(displayName ? { displayName } : {}),
});
const remove = (userSlug: string): RoomChangeRequest => ({ type: 'removeMember', userSlug });
const actionsOf = (o: ChangeOutcome): string[] => (o.ok ? o.actions : [`failed: ${o.failure.type}`]);

describe('foldBatch', () => {
  it('folds adds, removes and role changes in arrival order into the desired members, each target with its final say', () => {
    const state = roomState({ members: { bob: 'member', carol: 'host' } });
    const fold = foldBatch(state, [
      add('alice', 'host', 'Alice'),
      remove('bob'),
      add('carol', 'member'),
      remove('alice'),
      add('alice', 'speaker'),
    ]);
    expect(state.members).toEqual({ carol: 'member', alice: 'speaker' });
    expect([...fold.targets]).toEqual([
      ['alice', { to: 'join', displayName: undefined }],
      ['bob', { to: 'leave' }],
      ['carol', { to: 'join', displayName: undefined }],
    ]);
    // The role before the batch, taken at the first touch, whatever came after.
    expect(fold.previousRoles).toEqual({ alice: null, bob: 'member', carol: 'host' });
    expect(fold.upserts).toEqual({ carol: 'member', alice: 'speaker' });
    expect([...fold.removals]).toEqual(['bob']);
    expect(fold.refusals).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(fold).toMatchObject({ membersOnly: true, archive: false, reconcile: false, settingsChanged: false });
  });

  it("an add with keepRoles keeps a member's role among them, else gives the change's role; a plain add sets it", () => {
    const keepRoles = ['host', 'speaker', 'participant'];
    const keep = (userSlug: string): RoomChangeRequest => ({ type: 'addMember', userSlug, role: 'participant', keepRoles });
    const state = roomState({ members: { hana: 'host', ivo: 'speaker', kim: 'guest' } });
    const fold = foldBatch(state, [keep('hana'), keep('jan'), add('ivo', 'member'), keep('kim'), remove('jan'), keep('jan')]);
    expect(state.members).toEqual({ hana: 'host', ivo: 'member', jan: 'participant', kim: 'participant' });
    expect(fold.upserts).toEqual({ hana: 'host', ivo: 'member', jan: 'participant', kim: 'participant' });
    expect([...fold.targets.keys()]).toEqual(['hana', 'jan', 'ivo', 'kim']);
  });

  it('an add then a remove in the same batch leaves the member out and only records the removal', () => {
    const state = roomState();
    const fold = foldBatch(state, [add('dave', 'moderator'), remove('dave')]);
    expect(state.members).toEqual({});
    expect(fold.upserts).toEqual({});
    expect([...fold.removals]).toEqual(['dave']);
    expect(fold.targets.get('dave')).toEqual({ to: 'leave' });
  });

  it('settings: name and topic changes are noticed, visibility is taken, encryption only before the room exists', () => {
    const known = roomState();
    const fold = foldBatch(known, [
      { type: 'ensure', settings: { name: 'Meetup', visibility: 'public', encrypted: true } },
    ]);
    expect(known.settings).toEqual({ name: 'Meetup', visibility: 'public' });
    expect(fold.settingsChanged).toBe(false);
    expect(fold.membersOnly).toBe(false);
    expect(foldBatch(known, [{ type: 'ensure', settings: { topic: 'Bring snacks' } }]).settingsChanged).toBe(true);

    const dm = roomState({ roomId: null, alias: null, settings: {} }, 'dm');
    foldBatch(dm, [{ type: 'ensure', settings: { encrypted: true } }]);
    expect(dm.settings.encrypted).toBe(true);
  });

  it('refuses every change after an archive, and every change to an archived room, as RoomArchived', () => {
    const state = roomState();
    const fold = foldBatch(state, [
      add('alice', 'host'),
      { type: 'archive' },
      add('bob', 'member'),
      { type: 'reconcile' },
    ]);
    expect(fold.refusals.map((r) => r?.type)).toEqual([
      undefined,
      undefined,
      FailureType.RoomArchived,
      FailureType.RoomArchived,
    ]);
    expect(fold.refusals[2]?.nonRetryable).toBe(true);
    expect(state.members).toEqual({ alice: 'host' });
    expect(fold).toMatchObject({ archive: true, reconcile: false, membersOnly: false });

    const archived = roomState({ archived: true, members: { alice: 'host' } });
    const none = foldBatch(archived, [remove('alice')]);
    expect(none.refusals.map((r) => r?.type)).toEqual([FailureType.RoomArchived]);
    expect(archived.members).toEqual({ alice: 'host' });
    expect(none.targets.size).toBe(0);
  });

  it('marks a reconcile, which is not a members-only batch', () => {
    const fold = foldBatch(roomState(), [add('alice', 'host'), { type: 'reconcile' }]);
    expect(fold).toMatchObject({ reconcile: true, membersOnly: false });
  });

  it('a rename asks for the aliases to follow, keeps the members folded around it, and is refused once archived', () => {
    const state = roomState({ members: { bob: 'member' } });
    const fold = foldBatch(state, [add('alice', 'host'), { type: 'rename', newSlug: 'meetup-2' }, remove('bob')]);
    expect(fold).toMatchObject({ aliases: true, membersOnly: false, archive: false, reconcile: false });
    expect(state.members).toEqual({ alice: 'host' });
    expect(fold.refusals).toEqual([undefined, undefined, undefined]);

    const plain = foldBatch(roomState(), [add('alice', 'host')]);
    expect(plain.aliases).toBe(false);

    const archived = foldBatch(roomState(), [{ type: 'archive' }, { type: 'rename', newSlug: 'meetup-2' }]);
    expect(archived.refusals.map((r) => r?.type)).toEqual([undefined, FailureType.RoomArchived]);
    expect(archived.aliases).toBe(false);
  });
});

describe('foldBatch: adoption and renamed members', () => {
  const rename = (userSlug: string, newSlug: string): RoomChangeRequest => ({
    type: 'renameMember',
    userSlug,
    newSlug,
  });

  it('takes the last room an ensure asks to adopt, and the prune setting', () => {
    const state = roomState({ roomId: null });
    const fold = foldBatch(state, [
      { type: 'ensure', settings: {}, adopt: { alias: '#old:hs' } },
      { type: 'ensure', settings: { prune: true }, adopt: { roomId: '!old:hs' } },
    ]);
    expect(fold.adopt).toEqual({ roomId: '!old:hs' });
    expect(state.settings.prune).toBe(true);
    expect(fold.onlyRenames).toBe(false);
  });

  it('moves a renamed member, and what the batch folded for them, to the new slug; a batch of renames only is marked so', () => {
    const state = roomState({ members: { ann: 'host', bob: 'member' } });
    const only = foldBatch(state, [rename('ann', 'anna'), rename('nobody', 'somebody')]);
    expect(state.members).toEqual({ anna: 'host', bob: 'member' });
    expect(only).toMatchObject({ onlyRenames: true, refusals: [undefined, undefined] });

    const mixed = foldBatch(state, [add('cy', 'speaker'), rename('cy', 'cyrus'), remove('bob'), rename('bob', 'rob')]);
    expect(state.members).toEqual({ anna: 'host', cyrus: 'speaker' });
    expect([...mixed.targets]).toEqual([
      ['cyrus', { to: 'join', displayName: undefined }],
      ['rob', { to: 'leave' }],
    ]);
    expect(mixed.upserts).toEqual({ cyrus: 'speaker' });
    expect([...mixed.removals]).toEqual(['rob']);
    expect(mixed.previousRoles).toEqual({ cyrus: null, rob: 'member' });
    expect(mixed.onlyRenames).toBe(false);
  });

  it('never moves a member onto a slug that is already one, and is not refused in an archived room', () => {
    const state = roomState({ members: { ann: 'host', anna: 'member' } });
    foldBatch(state, [rename('ann', 'anna')]);
    expect(state.members).toEqual({ ann: 'host', anna: 'member' });
    const archived = roomState({ archived: true, members: {} });
    expect(foldBatch(archived, [rename('ann', 'anna')]).refusals).toEqual([undefined]);
  });

  it("a room's rename and a member's rename in one batch: the aliases follow, the member moves, the batch is live", () => {
    const state = roomState({ members: { ann: 'host' } });
    const fold = foldBatch(state, [
      rename('ann', 'anna'),
      { type: 'rename', newSlug: 'summer-meetup' },
      { type: 'addMember', userSlug: 'bo', role: 'member', keepRoles: ['host'] },
    ]);
    expect(fold).toMatchObject({ aliases: true, onlyRenames: false, refusals: [undefined, undefined, undefined] });
    expect(state.members).toEqual({ anna: 'host', bo: 'member' });
    expect([...fold.targets.keys()]).toEqual(['bo']);
  });

  it('followRenames: members the database recorded under a new slug follow it', () => {
    const state = roomState({ members: { cy: 'moderator', dee: 'member' } });
    followRenames(state, { cy: 'cyrus' });
    followRenames(state, undefined);
    expect(state.members).toEqual({ cyrus: 'moderator', dee: 'member' });
  });
});

describe('distributeOutcomes', () => {
  it("room actions go to the first live change, a member's actions and power levels to the last change that touched them", () => {
    const changes = [
      add('alice', 'host'),
      add('bob', 'member'),
      add('alice', 'moderator'),
      { type: 'archive' } as const,
    ];
    const fold = foldBatch(roomState(), changes);
    const effects = emptyEffects();
    effects.roomActions.push('created !r as #r');
    effects.perUser.set('alice', { actions: ['invited @alice', 'joined @alice'] });
    effects.perUser.set('bob', { actions: ['joined @bob'] });
    effects.powerLevels = { bySlug: { alice: ['power level @alice 0→50'] }, other: ['power level @stranger 50→0'] };
    effects.archiveActions.push('removed @alice', 'archived');
    const outcomes = distributeOutcomes('event', changes, fold, effects);
    expect(outcomes.map(actionsOf)).toEqual([
      ['created !r as #r'],
      ['joined @bob'],
      ['invited @alice', 'joined @alice', 'power level @alice 0→50'],
      ['removed @alice', 'archived'],
    ]);
  });

  it('a failure of the batch reaches each of its live changes; refused changes keep their own refusal', () => {
    const state = roomState();
    const changes = [add('alice', 'host'), { type: 'archive' } as const, add('bob', 'member')];
    const fold = foldBatch(state, changes);
    const effects = emptyEffects();
    effects.batchError = ApplicationFailure.create({
      type: FailureType.PowerLevelsDiverged,
      message: 'read back 0',
      nonRetryable: true,
    });
    expect(distributeOutcomes('event', changes, fold, effects).map(actionsOf)).toEqual([
      ['failed: PowerLevelsDiverged'],
      ['failed: PowerLevelsDiverged'],
      ['failed: RoomArchived'],
    ]);
  });

  it("a member's failure reaches every change to that member and no other change", () => {
    const changes = [add('alice', 'host'), add('bob', 'member'), remove('alice')];
    const fold = foldBatch(roomState(), changes);
    const effects = emptyEffects();
    effects.perUser.set('alice', {
      actions: [],
      error: ApplicationFailure.create({ type: FailureType.Forbidden, message: 'no' }),
    });
    effects.perUser.set('bob', { actions: ['joined @bob'] });
    expect(distributeOutcomes('event', changes, fold, effects).map(actionsOf)).toEqual([
      ['failed: MatrixForbidden'],
      ['joined @bob'],
      ['failed: MatrixForbidden'],
    ]);
  });

  it("the aliases' actions go to every rename of the batch, and a reconcile hears them too", () => {
    const changes: RoomChangeRequest[] = [
      add('alice', 'host'),
      { type: 'rename', newSlug: 'b' },
      { type: 'rename', newSlug: 'c' },
      { type: 'reconcile' },
    ];
    const fold = foldBatch(roomState(), changes);
    const effects = emptyEffects();
    effects.perUser.set('alice', { actions: ['joined @alice'] });
    effects.aliasActions.push('alias #c added', 'canonical alias #c (also #meetup)');
    expect(distributeOutcomes('event', changes, fold, effects).map(actionsOf)).toEqual([
      ['joined @alice'],
      ['alias #c added', 'canonical alias #c (also #meetup)'],
      ['alias #c added', 'canonical alias #c (also #meetup)'],
      ['joined @alice', 'alias #c added', 'canonical alias #c (also #meetup)'],
    ]);
  });

  it("the aliases' failure reaches the renames and a reconcile, not the member changes beside them", () => {
    const changes: RoomChangeRequest[] = [add('alice', 'host'), { type: 'rename', newSlug: 'b' }, { type: 'reconcile' }];
    const fold = foldBatch(roomState(), changes);
    const effects = emptyEffects();
    effects.perUser.set('alice', { actions: ['joined @alice'] });
    effects.aliasError = ApplicationFailure.create({ type: FailureType.RoomInUse, message: 'held', nonRetryable: true });
    expect(distributeOutcomes('event', changes, fold, effects).map(actionsOf)).toEqual([
      ['joined @alice'],
      ['failed: MatrixRoomInUse'],
      ['failed: MatrixRoomInUse'],
    ]);
  });

  it('a reconcile, and a DM ensure, report everything the batch did', () => {
    const changes: RoomChangeRequest[] = [{ type: 'ensure' }, { type: 'reconcile' }];
    const fold = foldBatch(roomState({}, 'dm'), changes);
    const effects = emptyEffects();
    effects.roomActions.push('renamed to "x"');
    effects.perUser.set('@drift:localhost', { actions: ['removed @drift:localhost'] });
    effects.powerLevels = { bySlug: { a: ['power level @a 0→50'] }, other: ['power level @b 50→0'] };
    const everything = ['renamed to "x"', 'removed @drift:localhost', 'power level @a 0→50', 'power level @b 50→0'];
    expect(distributeOutcomes('dm', changes, fold, effects).map(actionsOf)).toEqual([everything, everything]);
    // In a room that is not a DM, an ensure hears only the room's own actions.
    expect(distributeOutcomes('group', changes, fold, effects).map(actionsOf)).toEqual([
      ['renamed to "x"'],
      everything,
    ]);
  });
});
