/**
 * A tenant's policy for its events' rooms (decision 0053): `PUT/GET /v1/tenants/{tenant}/event-timers`
 * — the reminders' offsets, read-only and archive after the end, the language and the bot's texts.
 * An event takes the policy when its time is set (or moved); rooms already planned keep theirs.
 */
import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { createEventTimeStore } from '../../adapters/store/event-times.js';
import { DEFAULT_EVENT_TIMER_POLICY, policyProblem, REMINDERS_MAX, type EventTimerPolicy } from '../../vocabulary/event-time.js';
import { authorizedTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { operation } from '../spec/operation.js';
import type { JsonSchema } from '../spec/schema.js';
import { assertValid, readJsonObject, rejectUnknownFields } from '../spec/validation.js';

const TEMPLATE_MAX = 2000;
const minutes = (description: string): JsonSchema => ({
  anyOf: [{ type: 'integer', minimum: 0, maximum: 43_200 }, { type: 'null' }],
  description,
});
const POLICY: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    reminderMinutes: {
      type: 'array',
      items: { type: 'integer', minimum: 1, maximum: 43_200 },
      maxItems: REMINDERS_MAX,
      uniqueItems: true,
      description: 'Reminders, in minutes before the start (default 1440 and 60).',
    },
    readOnlyAfterMinutes: minutes('Read-only for members this long after the end (default 60; null: never).'),
    archiveAfterMinutes: minutes('Archived this long after the end (default null: never); not before read-only.'),
    locale: { type: 'string', minLength: 1, maxLength: 35, description: 'BCP 47 language of the local times, e.g. de-DE (default en).' },
    templates: {
      type: 'object',
      additionalProperties: false,
      properties: {
        reminder: { type: 'string', minLength: 1, maxLength: TEMPLATE_MAX },
        cancelled: { type: 'string', minLength: 1, maxLength: TEMPLATE_MAX },
      },
      description: 'The bot\'s texts; placeholders {name}, {start}, {end}, {timeZone}, {reason}.',
    },
  },
};

const base = { tags: ['events'], security: 'service', path: '/v1/tenants/:tenant/event-timers' } as const;
const ops = {
  put: operation({
    ...base,
    method: 'put',
    operationId: 'putEventTimers',
    summary: "Set the tenant's event timer policy (left-out fields: the defaults)",
    body: { schema: POLICY },
    responses: { 200: { description: 'The policy now.', json: POLICY } },
    errors: ['M_INVALID_PARAM', 'M_BAD_JSON', 'OM_UNAVAILABLE'],
  }),
  get: operation({
    ...base,
    method: 'get',
    operationId: 'getEventTimers',
    summary: "The tenant's event timer policy (the defaults when it set none)",
    responses: { 200: { description: 'The policy.', json: POLICY } },
    errors: ['OM_UNAVAILABLE'],
  }),
};
export const eventTimerOperations = [ops.put, ops.get];

const isMinutes = (v: unknown): boolean => v === null || Number.isInteger(v);

/** The body → a policy, naming the field that is wrong. */
export function policyFrom(body: Record<string, unknown>): EventTimerPolicy {
  rejectUnknownFields(body, Object.keys(POLICY.properties as object));
  const d = DEFAULT_EVENT_TIMER_POLICY;
  const given = <T>(k: string, dflt: T): unknown => (body[k] === undefined ? dflt : body[k]);
  const reminders = given('reminderMinutes', d.reminderMinutes);
  if (!Array.isArray(reminders)) throw new ApiError('M_BAD_JSON', 'field "reminderMinutes" must be an array of minutes');
  for (const f of ['readOnlyAfterMinutes', 'archiveAfterMinutes'] as const)
    if (body[f] !== undefined && !isMinutes(body[f])) throw new ApiError('M_BAD_JSON', `field "${f}" must be a whole number of minutes or null`);
  const locale = given('locale', d.locale);
  if (typeof locale !== 'string' || locale.length > 35 || !locale) throw new ApiError('M_BAD_JSON', 'field "locale" must be a BCP 47 language tag');
  try {
    Intl.getCanonicalLocales(locale);
  } catch {
    throw new ApiError('M_INVALID_PARAM', `field "locale": ${JSON.stringify(locale)} is not a BCP 47 language tag`);
  }
  const t = given('templates', {}) as Record<string, unknown>;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new ApiError('M_BAD_JSON', 'field "templates" must be an object');
  rejectUnknownFields(t, ['reminder', 'cancelled']);
  for (const k of ['reminder', 'cancelled'])
    if (t[k] !== undefined && (typeof t[k] !== 'string' || t[k].length > TEMPLATE_MAX || !t[k]))
      throw new ApiError('M_INVALID_PARAM', `field "templates.${k}" must be a non-empty string of at most ${TEMPLATE_MAX} characters`);
  const policy: EventTimerPolicy = {
    reminderMinutes: reminders as number[],
    readOnlyAfterMinutes: (body.readOnlyAfterMinutes === undefined ? d.readOnlyAfterMinutes : body.readOnlyAfterMinutes) as number | null,
    archiveAfterMinutes: (body.archiveAfterMinutes === undefined ? d.archiveAfterMinutes : body.archiveAfterMinutes) as number | null,
    locale,
    templates: { ...d.templates, ...(t as Partial<EventTimerPolicy['templates']>) },
  };
  assertValid(policyProblem(policy));
  return policy;
}

/** Mounted at `/`; the paths are the operations' own. */
export function eventTimerRoutes(deps: AppDeps) {
  const store = createEventTimeStore(deps.db);
  return new Hono<ApiEnv, BlankSchema, '/'>()
    .put(ops.put.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      const policy = policyFrom(await readJsonObject(c));
      await store.setPolicy(tenant, policy);
      return c.json(policy);
    })
    .get(ops.get.path, async (c) => c.json(await store.policy(authorizedTenant(c.get('principal'), c.req.param('tenant')))));
}
