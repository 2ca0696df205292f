/**
 * The pure parts of moderation and the drift report (decisions 0058, 0059): who may moderate whom,
 * a mute's bounds, the level a mute gives, mutes folded into a batch, name and topic drift, and
 * the CLI's `drift` command line and text.
 */
import { describe, expect, it } from '@jest/globals';
import { mutedLevel } from '../../activities/rooms/power-levels.js';
import { nameAndTopicDrift } from '../../activities/rooms/settings.js';
import { parseCommand } from '../../scripts/cli/args.js';
import { anyDrift, renderDrift } from '../../scripts/cli/drift.js';
import type { RoomDrift } from '../../client/index.js';
import type { RoomState } from '../../vocabulary/contract.js';
import { moderationRefusal, muteProblem, MUTE_MAX_SECONDS } from '../../vocabulary/moderation.js';
import { DEFAULT_POWER_LEVELS } from '../../vocabulary/roles.js';
import { foldBatch } from '../../workflows/room-batch.js';

const T = DEFAULT_POWER_LEVELS;

describe('who may moderate', () => {
  it('needs a moderating role of the kind, named in the refusal', () => {
    expect(moderationRefusal(T, 'event', { slug: 'bob', role: 'participant' })).toBe(
      'moderating this event needs the role host or moderator; bob is participant',
    );
    expect(moderationRefusal(T, 'group', { slug: 'zed', role: undefined })).toBe(
      'moderating this group needs the role owner, admin or moderator; zed is not a member',
    );
    expect(moderationRefusal(T, 'dm', { slug: 'a', role: 'member' })).toContain('a DM has none');
    expect(moderationRefusal(T, 'event', { slug: 'mo', role: 'moderator' })).toBeNull();
  });

  it('acts only on members below the moderator', () => {
    const mo = { slug: 'mo', role: 'moderator' };
    expect(moderationRefusal(T, 'event', mo, { slug: 'alice', role: 'participant' })).toBeNull();
    expect(moderationRefusal(T, 'event', mo, { slug: 'max', role: 'moderator' })).toBe(
      'mo (moderator) cannot moderate max (moderator): only members of a lower level',
    );
    expect(moderationRefusal(T, 'group', { slug: 'o', role: 'owner' }, { slug: 'a', role: 'admin' })).toBeNull();
  });
});

describe('a mute', () => {
  it('takes a member slug and 1 s to 30 days, never in a DM', () => {
    expect(muteProblem('event', 'alice', 60)).toBeNull();
    expect(muteProblem('event', 'alice', MUTE_MAX_SECONDS)).toBeNull();
    for (const d of [0, -1, 1.5, MUTE_MAX_SECONDS + 1, '60', null]) expect(muteProblem('event', 'alice', d)).toContain('durationSeconds');
    expect(muteProblem('event', 'Not A Slug!', 60)).toContain('userSlug');
    expect(muteProblem('dm', 'alice', 60)).toContain('DM');
  });

  it('puts the member one below what sending a message takes', () => {
    expect(mutedLevel({})).toBe(-1);
    expect(mutedLevel({ events_default: 10 })).toBe(9);
    expect(mutedLevel({ events_default: 0, events: { 'm.room.message': 25 } })).toBe(24);
  });

  it('folds into the batch: a member muted until now + duration, a non-member refused, an unmute clears', () => {
    const state = { members: { alice: 'participant' }, settings: {}, archived: false } as unknown as RoomState;
    const before = Date.now();
    const fold = foldBatch(state, [
      { type: 'mute', userSlug: 'alice', durationSeconds: 60, actorSlug: 'hana' },
      { type: 'mute', userSlug: 'zed', durationSeconds: 60, actorSlug: 'hana' },
    ]);
    expect(fold.refusals[0]).toBeUndefined();
    expect(fold.refusals[1]?.message).toBe('zed is not a member of this room: only members are muted');
    expect(fold.membersOnly).toBe(false);
    expect(state.mutes!.alice).toBeGreaterThanOrEqual(before + 60_000);
    expect(fold.mutes).toEqual({ alice: { until: state.mutes!.alice, actorSlug: 'hana' } });
    // A refused mute alone records nothing.
    expect(foldBatch(state, [{ type: 'mute', userSlug: 'zed', durationSeconds: 5, actorSlug: 'hana' }]).mutes).toBeUndefined();
    const again = foldBatch(state, [{ type: 'unmute', userSlug: 'alice', actorSlug: 'hana' }]);
    expect(again.mutes).toEqual({ alice: null });
    expect(state.mutes).toEqual({});
  });
});

describe('settings drift', () => {
  it('names what differs where the settings give a value', () => {
    expect(nameAndTopicDrift({ name: 'Crew', topic: 'Sailing' }, { name: 'Crew', topic: 'Rowing' })).toEqual([
      { setting: 'topic', want: 'Sailing', have: 'Rowing' },
    ]);
    expect(nameAndTopicDrift({}, { name: 'x', topic: null })).toEqual([]);
  });
});

describe('the drift command', () => {
  it('parses a tenant, an optional room and --api', () => {
    expect(parseCommand(['drift', '--tenant', 'Acme'])).toEqual({ name: 'drift', tenant: 'acme', ref: null, api: null, json: false });
    expect(parseCommand(['drift', 'event/meetup', '-t', 'acme', '--json', '--api', 'http://127.0.0.1:9'])).toEqual({
      name: 'drift',
      tenant: 'acme',
      ref: { tenant: 'acme', kind: 'event', slug: 'meetup' },
      api: 'http://127.0.0.1:9',
      json: true,
    });
    expect(() => parseCommand(['drift'])).toThrow('--tenant');
    expect(() => parseCommand(['drift', 'room/x', '-t', 'acme'])).toThrow('room kind');
    expect(() => parseCommand(['drift', '-t', 'acme', '--api', 'ftp://x'])).toThrow('--api');
  });

  it('renders what differs and what reconciliation did; drift is any room out of line', () => {
    const room: RoomDrift = {
      kind: 'group',
      slug: 'crew',
      roomId: '!r:x',
      state: 'drift',
      membersMissing: [{ userSlug: 'adam', userId: '@a:x', membership: 'leave' }],
      membersExtra: [{ userId: '@z:x', membership: 'join' }],
      powerLevels: ['power level @m:x 50→0'],
      settings: [{ setting: 'topic', want: 'Sailing', have: 'Rowing' }],
      reconciliation: { lastRun: { startedAt: 't0', finishedAt: 't1', actions: [] }, lastFix: null },
    };
    expect(renderDrift([room])).toBe(
      [
        'group/crew !r:x: drift',
        '  member missing: adam @a:x (leave)',
        '  not a desired member: @z:x (join)',
        '  would set power level @m:x 50→0',
        '  topic is "Rowing", want "Sailing"',
        '  last reconciliation t1: nothing to fix',
      ].join('\n'),
    );
    expect(anyDrift([room])).toBe(true);
    expect(anyDrift([{ ...room, state: 'in_sync' }, { ...room, state: 'archived' }])).toBe(false);
  });
});
