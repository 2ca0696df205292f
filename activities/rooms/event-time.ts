/**
 * The activities behind an event's timers (decision 0053): its time and timers in PostgreSQL, the
 * tenant's policy, the bot's reminder and cancellation notices (idempotent: a key per notice), and
 * reopening an archived room. Making the room read-only goes through syncPowerLevels (`readOnly`),
 * the one writer of power levels; archiving through archiveRoom.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { RoomRef } from '../../vocabulary/contract.js';
import type { EventSchedule, EventTimerPolicy } from '../../vocabulary/event-time.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { RoomContext } from './context.js';
import { reopenJoinRules } from './archive-join-rules.js';

/** What a notice says: the event's name and time, written in the tenant's language and the event's time zone. */
export interface EventNoticeInput {
  ref: RoomRef;
  roomId: string;
  /** Makes the send idempotent: the same key is the same Matrix transaction (e.g. `reminder:60@{dueAt}`). */
  key: string;
  notice: 'reminder' | 'cancelled';
  name: string;
  startsAt: number;
  endsAt: number;
  timeZone: string;
  policy: EventTimerPolicy;
  reason?: string;
}

/** A local date and time in `timeZone`, in the words of `locale` (e.g. "Friday, 1 May 2030 at 20:00"). */
export function localTime(at: number, timeZone: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone }).format(new Date(at));
}

/** The notice's text: the tenant's template with its placeholders filled in. */
export function renderNotice(input: Omit<EventNoticeInput, 'ref' | 'roomId' | 'key'>): string {
  const { policy } = input;
  const values: Record<string, string> = {
    name: input.name,
    start: localTime(input.startsAt, input.timeZone, policy.locale),
    end: localTime(input.endsAt, input.timeZone, policy.locale),
    timeZone: input.timeZone,
    reason: input.reason ? ` ${input.reason}` : '',
  };
  const template = policy.templates[input.notice];
  return template.replace(/\{(name|start|end|timeZone|reason)\}/g, (_m, k: string) => values[k]!).trim();
}

const unwired = (what: string): never => {
  throw ApplicationFailure.create({ type: 'WorkerMisconfigured', message: `the worker has no ${what}`, nonRetryable: true });
};

export function createEventTimeActivities(ctx: RoomContext) {
  const store = () => ctx.deps.eventTimes ?? unwired('event time store');
  return {
    /** The tenant's policy for its events' rooms (the defaults when it set none). */
    eventTimerPolicy: (tenant: string): Promise<EventTimerPolicy> => store().policy(tenant),
    /** The event's time and timers as the workflow has them now: what a new run plans from. */
    recordEventTime: (input: { ref: RoomRef; time: EventSchedule }): Promise<void> => store().put(input.ref, input.time),
    /** Posts the notice as the bot, once per key (the homeserver deduplicates the transaction). */
    async postEventNotice(input: EventNoticeInput): Promise<string[]> {
      const notices = ctx.deps.notices ?? unwired('bot notices');
      const body = renderNotice(input);
      const eventId = await matrixCall(() => notices.send(input.roomId, `${input.ref.tenant}:${input.ref.kind}:${input.ref.slug}:${input.key}`, body));
      return [`posted ${input.notice} ${eventId}`];
    },
    /**
     * An archived room active again: the record's status, and the desired members as stored (the
     * archive emptied the room, not the desired state), which the workflow then brings back.
     */
    async reopenRoom(input: { ref: RoomRef }): Promise<Record<string, string>> {
      const { ref } = input;
      const record = await ctx.deps.rooms.get(ref.tenant, ref.kind, ref.slug);
      await reopenJoinRules(ctx, ref, record?.roomId ?? null);
      await store().reopenRoom(ref);
      return record?.members ?? {};
    },
  };
}
