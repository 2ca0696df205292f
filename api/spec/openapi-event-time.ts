/** The `time` of a room's state in the OpenAPI spec: an event's time and its timers (decision 0053). */
import type { JsonSchema } from './schema.js';

const int: JsonSchema = { type: 'integer', minimum: 0 };
const str: JsonSchema = { type: 'string' };
const bool: JsonSchema = { type: 'boolean' };
const nullable = (s: JsonSchema): JsonSchema => ({ anyOf: [s, { type: 'null' }] });
const obj = (properties: Record<string, JsonSchema>, optional: string[] = [], description?: string): JsonSchema => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
  required: Object.keys(properties).filter((k) => !optional.includes(k)),
});

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
        [],
        "The tenant's event timer policy when the time was set.",
      ),
      timers: {
        type: 'object',
        additionalProperties: obj({ dueAt: int, done: bool, skipped: bool }, ['skipped']),
        description: 'Timer name (`reminder:{minutes}`, `readOnly`, `archive`) → due time (epoch ms) and whether it is done.',
      },
    }),
  ),
  description: "An event's time (epoch ms) and its timers (docs/api.md \"Event time\"); absent without one.",
};
