/**
 * An event's time and the durable timers it gives its room (issue #20 part 2, decision 0053): the
 * reminders before the start, the room made read-only after the end, the archive later. Pure: the
 * room workflow plans its timers with these functions, so a plan is the same on every replay and
 * after continue-as-new (the plan is recomputed from the event's time, never kept as live timers).
 */

/** An event's time as the platform gives it: ISO 8601 instants and an IANA time zone. */
export interface EventTime {
  startsAt: string;
  endsAt: string;
  timeZone: string;
}

/** What a tenant wants of its events' rooms (tenant_event_policies; defaults below). */
export interface EventTimerPolicy {
  /** Reminders, in minutes before the start (at most 5, each 1 min to 30 days). */
  reminderMinutes: number[];
  /** The room becomes read-only for members this long after the end; null: never. */
  readOnlyAfterMinutes: number | null;
  /** The room is archived this long after the end; null (the default): never. */
  archiveAfterMinutes: number | null;
  /** BCP 47 language the local times are written in (the platform's language). */
  locale: string;
  /** Bot texts; placeholders {name}, {start}, {end}, {timeZone}, {reason} (see docs/api.md). */
  templates: { reminder: string; cancelled: string };
}

export const DEFAULT_EVENT_TIMER_POLICY: EventTimerPolicy = {
  reminderMinutes: [24 * 60, 60],
  readOnlyAfterMinutes: 60,
  archiveAfterMinutes: null,
  locale: 'en',
  templates: {
    reminder: 'Reminder: {name} starts {start} ({timeZone}).',
    cancelled: '{name} has been cancelled.{reason}',
  },
};

/** One timer: when it is due (epoch ms) and whether it is done (fired, or skipped: see planTimers). */
export interface TimerMark {
  dueAt: number;
  done: boolean;
  /** Done without acting: its time had passed when it was planned, or it came after the start. */
  skipped?: boolean;
}

/** The timers' names: `reminder:{minutes}`, `readOnly`, `archive`. */
export type TimerName = string;

/** The event's time on the room workflow's state (carried through continue-as-new) and in PostgreSQL. */
export interface EventSchedule {
  startsAt: number;
  endsAt: number;
  timeZone: string;
  cancelled: boolean;
  /** The room is read-only for members now (set by the `readOnly` timer, lifted by a move or unarchive). */
  readOnly: boolean;
  policy: EventTimerPolicy;
  timers: Record<TimerName, TimerMark>;
}

export const REMINDERS_MAX = 5;
/** Characters of a cancellation's reason. */
export const CANCEL_REASON_MAX = 1000;
const MINUTE = 60_000;
/** Longest event and furthest offset accepted: a year, and 30 days. */
const EVENT_MAX_MS = 366 * 24 * 60 * MINUTE;
const OFFSET_MAX_MIN = 30 * 24 * 60;

/** Whether `tz` is an IANA time zone this runtime knows. */
export function timeZoneKnown(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Why an event time cannot be taken (naming the field), or null. */
export function eventTimeProblem(t: Partial<Record<keyof EventTime, unknown>>): string | null {
  for (const f of ['startsAt', 'endsAt'] as const) {
    const v = t[f];
    if (typeof v !== 'string' || !ISO_INSTANT.test(v) || Number.isNaN(Date.parse(v)))
      return `field "${f}" must be an ISO 8601 date-time with a UTC offset, e.g. 2030-05-01T18:00:00Z`;
  }
  if (typeof t.timeZone !== 'string' || t.timeZone.length > 64 || !timeZoneKnown(t.timeZone))
    return 'field "timeZone" must be an IANA time zone, e.g. Europe/Berlin';
  const start = Date.parse(t.startsAt as string);
  const end = Date.parse(t.endsAt as string);
  if (end < start) return 'field "endsAt" must not be before "startsAt"';
  if (end - start > EVENT_MAX_MS) return 'an event lasts at most 366 days';
  return null;
}

/** Why a policy cannot be taken (naming the field), or null. */
export function policyProblem(p: EventTimerPolicy): string | null {
  const mins = p.reminderMinutes;
  if (!Array.isArray(mins) || mins.length > REMINDERS_MAX) return `field "reminderMinutes" lists at most ${REMINDERS_MAX} offsets`;
  if (!mins.every((m) => Number.isInteger(m) && m >= 1 && m <= OFFSET_MAX_MIN))
    return `field "reminderMinutes": each offset is a whole number of minutes from 1 to ${OFFSET_MAX_MIN}`;
  if (new Set(mins).size !== mins.length) return 'field "reminderMinutes" lists an offset twice';
  for (const f of ['readOnlyAfterMinutes', 'archiveAfterMinutes'] as const) {
    const v = p[f];
    if (v !== null && !(Number.isInteger(v) && v >= 0 && v <= OFFSET_MAX_MIN))
      return `field "${f}" is null or a whole number of minutes from 0 to ${OFFSET_MAX_MIN}`;
  }
  if (p.readOnlyAfterMinutes !== null && p.archiveAfterMinutes !== null && p.archiveAfterMinutes < p.readOnlyAfterMinutes)
    return 'field "archiveAfterMinutes" must not come before "readOnlyAfterMinutes"';
  return null;
}

/** Each timer's due time for this time and policy (a cancelled event has none). */
export function dueTimes(s: Pick<EventSchedule, 'startsAt' | 'endsAt' | 'cancelled' | 'policy'>): Record<TimerName, number> {
  if (s.cancelled) return {};
  const out: Record<TimerName, number> = {};
  for (const m of s.policy.reminderMinutes) out[`reminder:${m}`] = s.startsAt - m * MINUTE;
  if (s.policy.readOnlyAfterMinutes !== null) out.readOnly = s.endsAt + s.policy.readOnlyAfterMinutes * MINUTE;
  if (s.policy.archiveAfterMinutes !== null) out.archive = s.endsAt + s.policy.archiveAfterMinutes * MINUTE;
  return out;
}

/**
 * The timers for the event's (new) time, planned at `now` from the previous plan (decision 0053):
 * - a timer due after `now` is armed (a reminder already sent for an earlier time is sent again:
 *   its new time is still ahead);
 * - one whose due time did not change keeps its mark (armed and late, it fires now; done stays done);
 * - a reminder whose new time has already passed is skipped (never sent late, never sent twice);
 * - read-only and archive already due fire now, unless done before (an event over is over).
 */
export function planTimers(
  prev: Record<TimerName, TimerMark> | undefined,
  s: Pick<EventSchedule, 'startsAt' | 'endsAt' | 'cancelled' | 'policy'>,
  now: number,
): Record<TimerName, TimerMark> {
  const out: Record<TimerName, TimerMark> = {};
  for (const [name, dueAt] of Object.entries(dueTimes(s))) {
    const before = prev?.[name];
    if (dueAt > now) out[name] = { dueAt, done: false };
    else if (before && before.dueAt === dueAt) out[name] = before;
    else if (name.startsWith('reminder:')) out[name] = { dueAt, done: true, skipped: true };
    else out[name] = { dueAt, done: before?.done ?? false };
  }
  return out;
}

/** The order timers due at once act in: reminders (earliest first), then read-only, then the archive. */
const rank = (name: TimerName): number => (name === 'archive' ? 2 : name === 'readOnly' ? 1 : 0);

/** The armed timers due at `now`, in the order they act. */
export function dueNow(s: EventSchedule, now: number): TimerName[] {
  return Object.entries(s.timers)
    .filter(([, t]) => !t.done && t.dueAt <= now)
    .sort(([a, x], [b, y]) => rank(a) - rank(b) || x.dueAt - y.dueAt)
    .map(([name]) => name);
}

/** When the next armed timer is due (epoch ms), or null when none is. */
export function nextDue(s: EventSchedule | null | undefined): number | null {
  if (!s) return null;
  const due = Object.values(s.timers)
    .filter((t) => !t.done)
    .map((t) => t.dueAt);
  return due.length ? Math.min(...due) : null;
}

/** The armed timers as the Temporal UI's memo shows them: name → ISO due time, earliest first. */
export function timersMemo(s: EventSchedule): Record<string, string> {
  return Object.fromEntries(
    Object.entries(s.timers)
      .filter(([, t]) => !t.done)
      .sort(([, a], [, b]) => a.dueAt - b.dueAt)
      .map(([name, t]) => [name, new Date(t.dueAt).toISOString()]),
  );
}

/** The minutes of a reminder timer's name. */
export const reminderMinutes = (name: TimerName): number => Number(name.slice('reminder:'.length));
