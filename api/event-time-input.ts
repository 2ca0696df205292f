/**
 * An event's time in request bodies (decision 0053): `startsAt`, `endsAt` (ISO 8601 date-times
 * with an offset) and `timeZone` (IANA), given together, on the event routes and `chat.event.*`.
 */
import type { RoomKind } from '../vocabulary/ids.js';
import type { EventTime } from '../vocabulary/contract.js';
import { eventTimeProblem, timeZoneKnown } from '../vocabulary/event-time.js';
import { ApiError } from './errors.js';
import { formatted, optional, TEXT_PATTERN } from './spec/schema.js';
import { assertValid } from './spec/validation.js';

const instant = (description: string) =>
  optional(
    formatted(64, (v, name) => (Number.isNaN(Date.parse(v)) ? `field "${name}" must be an ISO 8601 date-time` : null), {
      format: 'date-time',
      minLength: 1,
      maxLength: 64,
      pattern: TEXT_PATTERN,
      description,
    }),
  );

export const eventTimeFields = {
  startsAt: instant('When the event starts (ISO 8601, with its offset). With `endsAt` and `timeZone`: events only.'),
  endsAt: instant('When the event ends; not before `startsAt`.'),
  timeZone: optional(
    formatted(64, (v, name) => (timeZoneKnown(v) ? null : `field "${name}" must be an IANA time zone, e.g. Europe/Berlin`), {
      minLength: 1,
      maxLength: 64,
      pattern: TEXT_PATTERN,
      description: "The event's IANA time zone: the bot's notices write local times in it.",
    }),
  ),
};

/** The three fields → the event's time (none given: undefined), refusing a partial one or one on a group. */
export function timeFrom(
  kind: RoomKind,
  input: { startsAt?: string | undefined; endsAt?: string | undefined; timeZone?: string | undefined },
): EventTime | undefined {
  const { startsAt, endsAt, timeZone } = input;
  const given = { startsAt, endsAt, timeZone };
  const missing = Object.entries(given).filter(([, v]) => v === undefined).map(([k]) => k);
  if (missing.length === 3) return undefined;
  if (kind !== 'event') throw new ApiError('M_INVALID_PARAM', `only an event has a start and an end (this is a ${kind})`);
  if (missing.length) throw new ApiError('M_INVALID_PARAM', `startsAt, endsAt and timeZone go together: missing field "${missing[0]}"`);
  const time = given as EventTime;
  assertValid(eventTimeProblem(time));
  return time;
}
