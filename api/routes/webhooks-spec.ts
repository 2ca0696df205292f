/** The webhook routes' operations (decision 0049); the handlers are in webhooks.ts. */
import {
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_SECRET_MAX_LENGTH,
  WEBHOOK_SECRET_MIN_LENGTH,
  WEBHOOK_URL_MAX_LENGTH,
} from '../../vocabulary/webhooks.js';
import { emptyAnswer, operation } from '../spec/operation.js';
import { formatted, list, object, optional, TEXT_PATTERN, type JsonSchema } from '../spec/schema.js';

/** An absolute http(s) URL with a host, no white space; the route also has it parse as a URL. */
const URL_PATTERN = /^https?:\/\/[^\s/?#@]+(?:[/?#]\S*)?$/;

function urlProblem(v: string, name: string): string | null {
  if (v.length > WEBHOOK_URL_MAX_LENGTH) return `field "${name}" must be at most ${WEBHOOK_URL_MAX_LENGTH} characters`;
  if (!URL_PATTERN.test(v)) return `field "${name}" must be an absolute http or https URL with a host (and no credentials)`;
  try {
    new URL(v);
  } catch {
    return `field "${name}" must be an absolute http or https URL`;
  }
  return null;
}

export const WEBHOOK_BODY = object({
  url: formatted(WEBHOOK_URL_MAX_LENGTH + 1, urlProblem, {
    pattern: URL_PATTERN.source,
    maxLength: WEBHOOK_URL_MAX_LENGTH,
    description: 'Where deliveries are POSTed (http or https).',
  }),
  secret: formatted(
    WEBHOOK_SECRET_MAX_LENGTH,
    (v, name) =>
      v.length < WEBHOOK_SECRET_MIN_LENGTH ? `field "${name}" must be at least ${WEBHOOK_SECRET_MIN_LENGTH} characters` : null,
    {
      minLength: WEBHOOK_SECRET_MIN_LENGTH,
      maxLength: WEBHOOK_SECRET_MAX_LENGTH,
      pattern: TEXT_PATTERN,
      description: 'The signing secret (HMAC-SHA256); stored encrypted, never answered back.',
    },
  ),
  eventTypes: optional(
    list({
      items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
      minItems: 1,
      maxItems: WEBHOOK_EVENT_TYPES.length,
      shape: `field "eventTypes" must be a non-empty array of event types`,
      check: (t) =>
        (WEBHOOK_EVENT_TYPES as readonly string[]).includes(t)
          ? null
          : `unknown event type "${t.slice(0, 64)}"; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
      duplicate: 'field "eventTypes" names an event type twice',
    }),
  ),
});


export const WEBHOOK_DELIVERIES_QUERY = { maxLimit: 1000 } as const;

const str: JsonSchema = { type: 'string' };
const nullableStr: JsonSchema = { type: ['string', 'null'] };
const int: JsonSchema = { type: 'integer' };
const STATES = ['pending', 'delivered', 'failed'];

const SUBSCRIPTION: JsonSchema = {
  type: 'object',
  description: 'The subscription (its secret is never shown).',
  properties: {
    tenant: str,
    url: str,
    eventTypes: { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] } },
    state: { type: 'string', enum: ['active', 'stopped'] },
    stoppedReason: { ...nullableStr, description: 'Why it stopped, e.g. the receiver answered 410 Gone.' },
    stoppedAt: nullableStr,
    dropped: { ...int, description: 'Events not queued because 10,000 deliveries were pending already.' },
    deliveries: {
      type: 'object',
      description: 'Deliveries kept, by state.',
      properties: Object.fromEntries(STATES.map((s) => [s, int])),
    },
    createdAt: str,
    updatedAt: str,
  },
  required: ['tenant', 'url', 'eventTypes', 'state', 'stoppedReason', 'dropped', 'deliveries'],
};

const DELIVERIES: JsonSchema = {
  type: 'object',
  properties: {
    deliveries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { ...str, description: 'The stable id, sent as `X-OM-Delivery-Id`.' },
          seq: int,
          type: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
          room: { type: ['object', 'null'], description: '`{kind, slug, roomId}` of the room it is about.' },
          state: { type: 'string', enum: STATES },
          attempts: int,
          lastStatus: { type: ['integer', 'null'], description: "The receiver's last HTTP status (null: no answer)." },
          lastError: nullableStr,
          createdAt: str,
          attemptedAt: nullableStr,
          finishedAt: nullableStr,
        },
      },
    },
    next: { type: ['integer', 'null'], description: 'Pass as `after` for the next page; null on the last.' },
  },
  required: ['deliveries', 'next'],
};

const base = { tags: ['webhooks'], security: 'service' } as const;
const PATH = '/v1/tenants/:tenant/webhook';

export const webhookOps = {
  put: operation({
    ...base,
    method: 'put',
    path: PATH,
    operationId: 'putWebhook',
    summary: "Subscribe the tenant's webhook (or replace it; a stopped one resumes)",
    description:
      'Deliveries of the chosen `eventTypes` (default: all) are POSTed to `url`, signed with `secret` (see "Webhooks" in docs/api.md). Replacing a stopped subscription resumes its pending deliveries.',
    body: { schema: WEBHOOK_BODY.json },
    responses: { 200: { description: 'Subscribed.', json: SUBSCRIPTION } },
    errors: ['M_INVALID_PARAM', 'M_BAD_JSON', 'OM_UNAVAILABLE'],
  }),
  get: operation({
    ...base,
    method: 'get',
    path: PATH,
    operationId: 'getWebhook',
    summary: "The tenant's webhook subscription: state (active, or stopped with the reason) and delivery counts",
    responses: { 200: { description: 'The subscription.', json: SUBSCRIPTION } },
    errors: ['M_NOT_FOUND', 'OM_UNAVAILABLE'],
  }),
  delete: operation({
    ...base,
    method: 'delete',
    path: PATH,
    operationId: 'deleteWebhook',
    summary: "Delete the tenant's webhook subscription and its pending deliveries",
    responses: { 200: emptyAnswer('Deleted.') },
    errors: ['M_NOT_FOUND', 'OM_UNAVAILABLE'],
  }),
  deliveries: operation({
    ...base,
    method: 'get',
    path: `${PATH}/deliveries`,
    operationId: 'listWebhookDeliveries',
    summary: "The tenant's webhook deliveries, oldest first (kept 7 days after they are delivered or failed)",
    query: [
      { name: 'state', description: 'Only deliveries in this state.', schema: { type: 'string', enum: STATES } },
      {
        name: 'limit',
        description: 'Deliveries per page (default 100).',
        schema: { type: 'integer', minimum: 1, maximum: WEBHOOK_DELIVERIES_QUERY.maxLimit },
      },
      { name: 'after', description: 'The `next` of the previous page.', schema: { type: 'integer', minimum: 0 } },
    ],
    responses: { 200: { description: 'A page of deliveries.', json: DELIVERIES } },
    errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_UNAVAILABLE'],
  }),
};
export const webhookOperations = Object.values(webhookOps);
