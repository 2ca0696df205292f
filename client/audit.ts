/** The tenant's audit trail (docs/api.md "Audit trail"): what the service changed on the homeserver, who asked, the outcome. */
import type { CallOptions, Method } from './http.js';
import type { operations } from './openapi-types.js';

export type AuditPage = operations['listAudit']['responses'][200]['content']['application/json'];
export type AuditQuery = NonNullable<operations['listAudit']['parameters']['query']>;

type Json = <T>(method: Method, path: string, body?: unknown, opts?: CallOptions) => Promise<T>;

/** `GET /v1/tenants/{tenant}/audit?room=&user=&since=&until=&cursor=&limit=`: entries, newest first; `next` is the `cursor` of the next page. */
export function auditCall(json: Json) {
  return (tenant: string, q: AuditQuery = {}, opts?: CallOptions) => {
    const given = Object.entries(q).filter((e) => e[1] !== undefined).map(([k, v]): [string, string] => [k, String(v)]);
    const qs = given.length ? `?${new URLSearchParams(given)}` : '';
    return json<AuditPage>('GET', `/v1/tenants/${encodeURIComponent(tenant)}/audit${qs}`, undefined, opts);
  };
}
