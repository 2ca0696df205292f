/**
 * The tenant's webhook subscription (decision 0049): `PUT/GET/DELETE /v1/tenants/{tenant}/webhook`
 * and the deliveries `GET /v1/tenants/{tenant}/webhook/deliveries?state=`. The secret is accepted,
 * sealed and never answered back.
 */
import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { createWebhookStore, type DeliveryState, type WebhookDelivery, type WebhookSubscription } from '../../adapters/store/webhooks.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { WEBHOOK_EVENT_TYPES } from '../../vocabulary/webhooks.js';
import { authorizedTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { readJsonObject } from '../spec/validation.js';
import { WEBHOOK_BODY, WEBHOOK_DELIVERIES_QUERY, webhookOps } from './webhooks-spec.js';

export { webhookOperations } from './webhooks-spec.js';

const subscriptionAnswer = (s: WebhookSubscription, counts: Record<DeliveryState, number>) => ({
  tenant: s.tenant,
  url: s.url,
  eventTypes: s.eventTypes,
  state: s.state,
  stoppedReason: s.stoppedReason,
  stoppedAt: s.stoppedAt?.toISOString() ?? null,
  dropped: s.dropped,
  deliveries: counts,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

const deliveryAnswer = (d: WebhookDelivery) => ({
  id: d.id,
  seq: d.seq,
  type: d.type,
  room: (d.payload.room as Record<string, unknown> | undefined) ?? null,
  state: d.state,
  attempts: d.attempts,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  createdAt: d.createdAt.toISOString(),
  attemptedAt: d.attemptedAt?.toISOString() ?? null,
  finishedAt: d.finishedAt?.toISOString() ?? null,
});

const STATES: readonly DeliveryState[] = ['pending', 'delivered', 'failed'];

/** Mounted at `/`; the paths are the operations' own. */
export function webhookRoutes(deps: AppDeps) {
  const store = createWebhookStore(deps.db, new TokenCipher(deps.config.tokens.keys, deps.config.tokens.activeKeyId));
  const found = async (tenant: string) => {
    const s = await store.get(tenant);
    if (!s) throw new ApiError('M_NOT_FOUND', `tenant ${tenant} has no webhook subscription`);
    return s;
  };
  return new Hono<ApiEnv, BlankSchema, '/'>()
    .put(webhookOps.put.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      const body = WEBHOOK_BODY.parse(await readJsonObject(c));
      const s = await store.put(tenant, {
        url: body.url,
        secret: body.secret,
        eventTypes: body.eventTypes ?? [...WEBHOOK_EVENT_TYPES],
      });
      return c.json(subscriptionAnswer(s, await store.counts(tenant)), 200);
    })
    .get(webhookOps.get.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      return c.json(subscriptionAnswer(await found(tenant), await store.counts(tenant)), 200);
    })
    .delete(webhookOps.delete.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      if (!(await store.delete(tenant))) throw new ApiError('M_NOT_FOUND', `tenant ${tenant} has no webhook subscription`);
      return c.json({}, 200);
    })
    .get(webhookOps.deliveries.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      const state = c.req.query('state');
      if (state !== undefined && !(STATES as readonly string[]).includes(state))
        throw new ApiError('M_INVALID_PARAM', `query "state" must be one of ${STATES.join(', ')}`);
      const limitRaw = c.req.query('limit') ?? '100';
      if (!/^\d{1,4}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > WEBHOOK_DELIVERIES_QUERY.maxLimit)
        throw new ApiError('M_INVALID_PARAM', `query "limit" must be an integer from 1 to ${WEBHOOK_DELIVERIES_QUERY.maxLimit}`);
      const afterRaw = c.req.query('after') ?? '0';
      if (!/^\d{1,15}$/.test(afterRaw)) throw new ApiError('M_INVALID_PARAM', 'query "after" must be a delivery seq (a non-negative integer)');
      await found(tenant);
      const limit = Number(limitRaw);
      const rows = await store.list(tenant, { state: state as DeliveryState | undefined, limit, after: Number(afterRaw) });
      return c.json({ deliveries: rows.map(deliveryAnswer), next: rows.length === limit ? rows.at(-1)!.seq : null }, 200);
    });
}
