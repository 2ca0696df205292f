/** The `time` of a room's state in the OpenAPI spec: an event's time and its timers (decision 0053). */
import type { JsonSchema } from './schema.js';
import { bool, int, nullable, obj, str } from './json-schema.js';

export const EVENT_TIME_STATE: JsonSchema = {
  ...nullable(
    obj({
      startsAt: int,
      endsAt: int,
      timeZone: str,
      cancelled: bool,
      readOnly: bool,
      policy: obj(
        {
          reminderMinutes: { type: 'array', items: int },
          readOnlyAfterMinutes: nullable(int),
          archiveAfterMinutes: nullable(int),
          locale: str,
          templates: obj({ reminder: str, cancelled: str }),
        },
        "The tenant's event timer policy when the time was set.",
      ),
      timers: {
        type: 'object',
        additionalProperties: obj({ dueAt: int, done: bool, skipped: bool }, undefined, ['skipped']),
        description:
          'Timer name (`reminder:{minutes}`, `readOnly`, `archive`) → due time (epoch ms) and whether it is done.',
      },
    }),
  ),
  description: 'An event\'s time (epoch ms) and its timers (docs/api.md "Event time"); absent without one.',
};
