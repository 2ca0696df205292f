/**
 * An event's timers without a workflow (vocabulary/event-time.ts, decision 0053): what is planned
 * for a time and policy, what a move does to timers already fired, the order of timers due at
 * once; the read-only power levels (activities/rooms/power-levels.ts); the notices' text; the
 * lifecycle changes' checks and the unarchive fold (workflows/room-lifecycle.ts, room-batch.ts).
 */
import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_EVENT_TIMER_POLICY,
  dueNow,
  eventTimeProblem,
  nextDue,
  planTimers,
  policyProblem,
  timersMemo,
  type EventSchedule,
} from '../../vocabulary/event-time.js';
import { readOnlyLevel, sendingChange } from '../../activities/rooms/power-levels.js';
import { renderNotice } from '../../activities/rooms/event-time.js';
import { lifecycleProblem } from '../../workflows/room-lifecycle.js';
import { foldBatch } from '../../workflows/room-batch.js';
import { DEFAULT_POWER_LEVELS } from '../../vocabulary/roles.js';
import type { RoomState } from '../../vocabulary/contract.js';

const H = 3_600_000;
const M = 60_000;
const policy = { ...DEFAULT_EVENT_TIMER_POLICY, reminderMinutes: [24 * 60, 60], readOnlyAfterMinutes: 30, archiveAfterMinutes: 120 };
const T0 = Date.parse('2030-05-01T18:00:00Z');
const event = (startsAt: number, endsAt = startsAt + 2 * H) => ({ startsAt, endsAt, cancelled: false, policy });

describe('planning an event timers', () => {
  it('arms a reminder per offset before the start, read-only and the archive after the end', () => {
    const plan = planTimers(undefined, event(T0), T0 - 48 * H);
    expect(plan).toEqual({
      'reminder:1440': { dueAt: T0 - 24 * H, done: false },
      'reminder:60': { dueAt: T0 - H, done: false },
      readOnly: { dueAt: T0 + 2 * H + 30 * M, done: false },
      archive: { dueAt: T0 + 2 * H + 120 * M, done: false },
    });
  });

  it('skips a reminder whose time had passed when it was planned, but fires read-only at once', () => {
    const plan = planTimers(undefined, event(T0 - 3 * H, T0 - 2 * H), T0);
    expect(plan['reminder:60']).toEqual({ dueAt: T0 - 4 * H, done: true, skipped: true });
    expect(plan.readOnly).toEqual({ dueAt: T0 - 90 * M, done: false });
  });

  it('moving the event re-arms a reminder already sent when its new time is ahead, and never one whose time passed', () => {
    const sent = planTimers(undefined, event(T0), T0 - 48 * H);
    sent['reminder:1440']!.done = true;
    // Now 2 h before the old start; moved a day later: both reminders ahead again.
    const later = planTimers(sent, event(T0 + 24 * H), T0 - 2 * H);
    expect(later['reminder:1440']).toEqual({ dueAt: T0, done: false });
    expect(later['reminder:60']).toEqual({ dueAt: T0 + 23 * H, done: false });
    // Moved 30 minutes earlier instead: the 24 h reminder (sent) stays sent, the 1 h one is past: skipped.
    const earlier = planTimers(sent, event(T0 - 90 * M), T0 - 2 * H);
    expect(earlier['reminder:1440']).toMatchObject({ done: true });
    expect(earlier['reminder:60']).toEqual({ dueAt: T0 - 150 * M, done: true, skipped: true });
  });

  it('keeps an unchanged armed timer that is overdue (a worker was down): it fires late, once', () => {
    const plan = planTimers(undefined, event(T0), T0 - 48 * H);
    const again = planTimers(plan, event(T0), T0 - 30 * M);
    expect(again['reminder:60']).toEqual({ dueAt: T0 - H, done: false });
    const s: EventSchedule = { ...event(T0), timeZone: 'UTC', readOnly: false, timers: again };
    expect(dueNow(s, T0 - 30 * M)).toEqual(['reminder:1440', 'reminder:60']);
  });

  it('a cancelled event has no timers; due ones act reminders first, then read-only, then the archive', () => {
    expect(planTimers(undefined, { ...event(T0), cancelled: true }, T0 - 48 * H)).toEqual({});
    const timers = planTimers(undefined, event(T0), T0 - 48 * H);
    const s: EventSchedule = { ...event(T0), timeZone: 'UTC', readOnly: false, timers };
    expect(dueNow(s, T0 + 10 * H)).toEqual(['reminder:1440', 'reminder:60', 'readOnly', 'archive']);
    expect(nextDue(s)).toBe(T0 - 24 * H);
    expect(Object.keys(timersMemo(s))).toEqual(['reminder:1440', 'reminder:60', 'readOnly', 'archive']);
    s.timers['reminder:1440']!.done = true;
    expect(nextDue(s)).toBe(T0 - H);
  });
});

describe('checking event times and policies', () => {
  it('names the field that is wrong', () => {
    expect(eventTimeProblem({ startsAt: '2030-05-01T18:00:00Z', endsAt: '2030-05-01T20:00:00+02:00', timeZone: 'Europe/Berlin' })).toBeNull();
    expect(eventTimeProblem({ startsAt: 'tomorrow', endsAt: '2030-05-01T20:00:00Z', timeZone: 'UTC' })).toMatch(/"startsAt"/);
    expect(eventTimeProblem({ startsAt: '2030-05-01T18:00:00', endsAt: '2030-05-01T20:00:00Z', timeZone: 'UTC' })).toMatch(/UTC offset/);
    expect(eventTimeProblem({ startsAt: '2030-05-01T18:00:00Z', endsAt: '2030-05-01T17:00:00Z', timeZone: 'UTC' })).toMatch(/"endsAt" must not be before/);
    expect(eventTimeProblem({ startsAt: '2030-05-01T18:00:00Z', endsAt: '2030-05-01T19:00:00Z', timeZone: 'Mars/Olympus' })).toMatch(/"timeZone"/);
    expect(policyProblem({ ...policy, reminderMinutes: [60, 60] })).toMatch(/twice/);
    expect(policyProblem({ ...policy, reminderMinutes: [0] })).toMatch(/"reminderMinutes"/);
    expect(policyProblem({ ...policy, archiveAfterMinutes: 10 })).toMatch(/"archiveAfterMinutes"/);
    expect(policyProblem(DEFAULT_EVENT_TIMER_POLICY)).toBeNull();
  });

  it('refuses a time, a cancel or an unarchive on a room kind that has none', () => {
    const time = { startsAt: '2030-05-01T18:00:00Z', endsAt: '2030-05-01T19:00:00Z', timeZone: 'UTC' };
    expect(lifecycleProblem('event', { type: 'ensure', time })).toBeNull();
    expect(lifecycleProblem('group', { type: 'ensure', time })).toMatch(/only an event/);
    expect(lifecycleProblem('group', { type: 'cancel' })).toMatch(/only an event/);
    expect(lifecycleProblem('event', { type: 'cancel', reason: 'x'.repeat(1001) })).toMatch(/reason/);
    expect(lifecycleProblem('dm', { type: 'unarchive' })).toMatch(/DM/);
  });
});

describe('read-only power levels', () => {
  it('raises sending to the moderators, and lowers back only what it raised', () => {
    const level = readOnlyLevel(DEFAULT_POWER_LEVELS, 'event');
    expect(level).toBe(50);
    const raised = sendingChange({ users: {}, events_default: 0, events: { 'm.room.name': 50 } }, true, level);
    expect(raised?.content).toEqual({ events_default: 50, events: { 'm.room.name': 50, 'm.room.message': 50 } });
    expect(sendingChange({ events_default: 50, events: { 'm.room.message': 50 } }, true, level)).toBeNull();
    const lowered = sendingChange({ events_default: 50, events: { 'm.room.message': 50, 'm.room.name': 50 } }, false, level);
    expect(lowered?.content).toEqual({ events_default: 0, events: { 'm.room.name': 50 } });
    // Someone set sending to 75 meanwhile: not ours to lower.
    expect(sendingChange({ events_default: 75, events: { 'm.room.message': 75 } }, false, level)).toBeNull();
    expect(sendingChange({ events_default: 0 }, undefined, level)).toBeNull();
  });
});

describe('notices', () => {
  it('fills the template with the name and the local start time in the event time zone and language', () => {
    const base = { name: 'Summer meetup', startsAt: T0, endsAt: T0 + 2 * H, timeZone: 'Europe/Berlin' };
    expect(renderNotice({ ...base, notice: 'reminder', policy: DEFAULT_EVENT_TIMER_POLICY })).toBe(
      'Reminder: Summer meetup starts Wednesday, May 1, 2030 at 8:00 PM (Europe/Berlin).',
    );
    const german = { ...DEFAULT_EVENT_TIMER_POLICY, locale: 'de', templates: { reminder: '{name} beginnt am {start}.', cancelled: '{name} fällt aus.{reason}' } };
    expect(renderNotice({ ...base, notice: 'reminder', policy: german })).toBe('Summer meetup beginnt am Mittwoch, 1. Mai 2030 um 20:00.');
    expect(renderNotice({ ...base, notice: 'cancelled', policy: german, reason: 'Regen.' })).toBe('Summer meetup fällt aus. Regen.');
  });
});

describe('folding an unarchive', () => {
  const archived = (): RoomState => ({
    tenant: 'acme',
    kind: 'event',
    slug: 'meetup',
    roomId: '!r:x',
    alias: '#r:x',
    settings: {},
    members: {},
    archived: true,
    changesApplied: 0,
    pendingChanges: 0,
    lastError: null,
  });

  it('reopens an archived room as a reconciliation, and takes the changes after it', () => {
    const state = archived();
    const fold = foldBatch(state, [{ type: 'addMember', userSlug: 'a', role: 'member' }, { type: 'unarchive' }, { type: 'addMember', userSlug: 'b', role: 'member' }]);
    expect(fold.refusals.map((r) => r?.type)).toEqual(['RoomArchived', undefined, undefined]);
    expect(fold).toMatchObject({ unarchive: true, reconcile: true, archive: false });
    expect(state.archived).toBe(false);
    expect(fold.upserts).toEqual({ b: 'member' });
  });

  it('an unarchive of an active room changes nothing; a cancel archives', () => {
    const state = { ...archived(), archived: false };
    const fold = foldBatch(state, [{ type: 'unarchive' }]);
    expect(fold.unarchive).toBeUndefined();
    expect(fold).toMatchObject({ reconcile: false, archive: false, refusals: [undefined] });
    expect(foldBatch(state, [{ type: 'cancel', reason: 'rain' }])).toMatchObject({ archive: true, cancel: { reason: 'rain' } });
  });
});
