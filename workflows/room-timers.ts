/**
 * An event room's durable timers (decision 0053): the reminders before the start, read-only after
 * the end, the archive later; an event moved moves them, a cancelled one posts a notice and is
 * archived. The timers are not live handles: the plan (vocabulary/event-time.ts) is on the state,
 * carried through continue-as-new and recorded in PostgreSQL, and the room workflow's one wait is
 * cut short for the next due one (`timerWaitMs`). Nothing here runs for a room without a time, so
 * histories from before it replay unchanged; TIMERS_PATCH marks the first run that plans timers.
 */
import { log, patched, upsertMemo } from '@temporalio/workflow';
import type { RoomState } from '../vocabulary/contract.js';
import { dueNow, nextDue, planTimers, timersMemo, type EventSchedule, type EventTimerPolicy } from '../vocabulary/event-time.js';
import { acts, failureOf, type RoomRun } from './room-acts.js';
import type { BatchEffects, BatchFold } from './room-batch.js';
import { refusePendingOnArchive } from './room-requests.js';

/** Retire as decision 0025 says, once no open room workflow began before it. */
export const TIMERS_PATCH = 'event-timers';

/** The timers as the Temporal UI's memo shows them (`timers`: name → due time, the next first). */
export function showTimers(state: RoomState): void {
  if (state.time) upsertMemo({ timers: timersMemo(state.time) });
}

/** Milliseconds until the next armed timer is due (at least 1), or null when none is (or the room is archived). */
export function timerWaitMs(state: RoomState): number | null {
  const next = state.archived ? null : nextDue(state.time);
  return next === null ? null : Math.max(1, next - Date.now());
}

/** A stored time (a new run of the workflow): taken as it is, its overdue timers fire at once. */
export function restoreTime(state: RoomState, time: EventSchedule | undefined): void {
  if (!time || !patched(TIMERS_PATCH)) return;
  state.time = time;
  showTimers(state);
}

const noticeFields = (state: RoomState, s: EventSchedule) => ({
  name: state.settings.name ?? state.slug,
  startsAt: s.startsAt,
  endsAt: s.endsAt,
  timeZone: s.timeZone,
  policy: s.policy,
});

/** A cancel's notice, posted before the archive (room-homeserver.ts) so members see it in the room's history. */
export async function postCancelNotice(run: RoomRun, roomId: string, cancel: { reason?: string }): Promise<string[]> {
  const { ref, state } = run;
  const policy: EventTimerPolicy = state.time?.policy ?? (await acts.eventTimerPolicy(ref.tenant));
  const s = state.time ?? { startsAt: 0, endsAt: 0, timeZone: 'UTC' };
  return acts.postEventNotice({
    ref,
    roomId,
    key: `cancelled@${s.startsAt}`,
    notice: 'cancelled',
    ...noticeFields(state, { ...s, policy } as EventSchedule),
    ...(cancel.reason ? { reason: cancel.reason } : {}),
  });
}

/**
 * After a batch that set the event's time, cancelled or reopened it: the plan follows (the
 * tenant's policy read again), a read-only room whose new end is ahead opens again, and the time
 * and timers are recorded. Only when the batch's homeserver work succeeded.
 */
export async function applyTimeChanges(run: RoomRun, fold: BatchFold, effects: BatchEffects): Promise<void> {
  const { ref, state } = run;
  if (effects.batchError || state.roomId === null || (!fold.time && !fold.cancel && !fold.unarchive)) return;
  if (!fold.time && !state.time) return;
  if (!patched(TIMERS_PATCH)) return;
  const prev = state.time ?? null;
  const policy = fold.time ? await acts.eventTimerPolicy(ref.tenant) : prev!.policy;
  const startsAt = fold.time ? Date.parse(fold.time.startsAt) : prev!.startsAt;
  const endsAt = fold.time ? Date.parse(fold.time.endsAt) : prev!.endsAt;
  const next: EventSchedule = {
    startsAt,
    endsAt,
    timeZone: fold.time?.timeZone ?? prev!.timeZone,
    cancelled: fold.cancel ? true : fold.unarchive ? false : (prev?.cancelled ?? false),
    readOnly: prev?.readOnly ?? false,
    policy,
    timers: {},
  };
  next.timers = planTimers(prev?.timers, next, Date.now());
  // Reopened: what was due is over (a reopened room is not made read-only or archived again at once).
  if (fold.unarchive) for (const t of Object.values(next.timers)) if (t.dueAt <= Date.now()) t.done = true;
  const readOnlyAhead = next.timers.readOnly !== undefined && !next.timers.readOnly.done;
  if (next.readOnly && readOnlyAhead && !state.archived) {
    // Moved to end later: the room opens again until its new end.
    effects.roomActions.push(
      ...(await acts.syncPowerLevels({ ref, roomId: state.roomId, members: state.members, readOnly: false })).other,
    );
    next.readOnly = false;
  }
  state.time = next;
  await acts.recordEventTime({ ref, time: next });
  showTimers(state);
}

/** One due timer's work; what it did. */
async function fire(run: RoomRun, roomId: string, name: string): Promise<string[]> {
  const { ref, state } = run;
  const s = state.time!;
  const mark = s.timers[name]!;
  if (name === 'readOnly') {
    const changes = await acts.syncPowerLevels({ ref, roomId, members: state.members, readOnly: true });
    s.readOnly = true;
    return changes.other;
  }
  if (name === 'archive') {
    const actions = await acts.archiveRoom({ ref, roomId });
    refusePendingOnArchive(run);
    state.archived = true;
    state.members = {};
    return actions;
  }
  // A reminder: never once the event has started (a worker down past it, say).
  if (Date.now() >= s.startsAt) {
    mark.skipped = true;
    return [];
  }
  const key = `${name}@${mark.dueAt}`;
  return acts.postEventNotice({ ref, roomId, key, notice: 'reminder', ...noticeFields(state, s) });
}

/**
 * Fires the timers due now, in order, each marked done once its work is done, then records the
 * marks. Returns whether any was due. A timer whose work fails for good (the room gone) is marked
 * done and logged: reconciliation reports the room; a transient failure is retried by its activity.
 */
export async function fireDueTimers(run: RoomRun): Promise<boolean> {
  const { state } = run;
  if (!state.time || state.archived || state.roomId === null) return false;
  const due = dueNow(state.time, Date.now());
  if (due.length === 0) return false;
  for (const name of due) {
    if (state.archived) break;
    try {
      log.info('event timer fired', { timer: name, actions: await fire(run, state.roomId, name) });
    } catch (err) {
      log.warn('event timer failed', { timer: name, error: failureOf(err).message });
    }
    state.time.timers[name]!.done = true;
  }
  await acts.recordEventTime({ ref: run.ref, time: state.time });
  showTimers(state);
  return true;
}
