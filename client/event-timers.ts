/** An event's lifecycle calls (decision 0053): cancel, reopen, and the tenant's event timer policy. */
import type { CallOptions, Method } from './http.js';
import type { operations } from './openapi-types.js';

export type EventTimerPolicy = operations['getEventTimers']['responses'][200]['content']['application/json'];
export type EventTimerPolicyInput = NonNullable<operations['putEventTimers']['requestBody']>['content']['application/json'];

type Json = <T>(method: Method, path: string, body?: unknown, opts?: CallOptions) => Promise<T>;

export function eventTimerCalls(json: Json) {
  const path = (tenant: string): string => `/v1/tenants/${encodeURIComponent(tenant)}/event-timers`;
  return {
    /** `PUT /v1/tenants/{tenant}/event-timers`: reminders, read-only and archive after the end, language and texts. */
    put: (tenant: string, input: EventTimerPolicyInput, opts?: CallOptions) => json<EventTimerPolicy>('PUT', path(tenant), input, opts),
    /** `GET …/event-timers`: the policy (the defaults when the tenant set none). */
    get: (tenant: string, opts?: CallOptions) => json<EventTimerPolicy>('GET', path(tenant), undefined, opts),
  };
}
