/**
 * The tenant's webhook subscription and its deliveries (docs/api.md "Webhooks"); the signature
 * check for the receiving side is in webhook-signature.ts.
 */
import type { CallOptions, Method } from './http.js';
import type { operations } from './openapi-types.js';

export type WebhookSubscription = operations['getWebhook']['responses'][200]['content']['application/json'];
export type WebhookSubscriptionInput = NonNullable<operations['putWebhook']['requestBody']>['content']['application/json'];
export type WebhookDeliveryPage = operations['listWebhookDeliveries']['responses'][200]['content']['application/json'];
export type WebhookDeliveryQuery = NonNullable<operations['listWebhookDeliveries']['parameters']['query']>;

type Json = <T>(method: Method, path: string, body?: unknown, opts?: CallOptions) => Promise<T>;

export function webhookCalls(json: Json) {
  const path = (tenant: string): string => `/v1/tenants/${encodeURIComponent(tenant)}/webhook`;
  return {
    /** `PUT /v1/tenants/{tenant}/webhook`: subscribes (or replaces the subscription; a stopped one resumes). */
    put: (tenant: string, input: WebhookSubscriptionInput, opts?: CallOptions) =>
      json<WebhookSubscription>('PUT', path(tenant), input, opts),
    /** `GET …/webhook`: state (active, or stopped with the reason) and delivery counts; never the secret. */
    get: (tenant: string, opts?: CallOptions) => json<WebhookSubscription>('GET', path(tenant), undefined, opts),
    /** `DELETE …/webhook`: the subscription and its pending deliveries are gone. */
    delete: (tenant: string, opts?: CallOptions) => json<Record<string, never>>('DELETE', path(tenant), undefined, opts),
    /** `GET …/webhook/deliveries?state=&limit=&after=`: deliveries, oldest first. */
    deliveries: (tenant: string, q: WebhookDeliveryQuery = {}, opts?: CallOptions) => {
      const given = Object.entries(q).filter((e) => e[1] !== undefined).map(([k, v]): [string, string] => [k, String(v)]);
      const qs = given.length ? `?${new URLSearchParams(given)}` : '';
      return json<WebhookDeliveryPage>('GET', `${path(tenant)}/deliveries${qs}`, undefined, opts);
    },
  };
}
