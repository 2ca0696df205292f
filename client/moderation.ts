/**
 * Moderation through the platform and the drift report (docs/api.md "Moderation", "Drift"):
 * mutes, and what differs between the desired state and the homeserver. A moderator removes a
 * message with `messages.delete(ref, eventId, { actorSlug, reason })`.
 */
import type { CallOptions, Method } from './http.js';
import type { operations } from './openapi-types.js';

export type MuteInput = NonNullable<operations['muteMember']['requestBody']>['content']['application/json'];
export type DriftPage = operations['tenantDrift']['responses'][200]['content']['application/json'];
export type RoomDrift = operations['roomDrift']['responses'][200]['content']['application/json'];
export type DriftQuery = NonNullable<operations['tenantDrift']['parameters']['query']>;

type Json = <T>(method: Method, path: string, body?: unknown, opts?: CallOptions) => Promise<T>;
/** A room change's call: its outcome (200) or the operation to follow (202). */
type Change<C> = (method: Method, path: string, body?: unknown, opts?: CallOptions) => Promise<C>;
interface Ref {
  tenant: string;
  kind: string;
  slug: string;
}

export function moderationCalls<C>(json: Json, change: Change<C>) {
  const seg = encodeURIComponent;
  const room = (r: Ref): string => `/v1/tenants/${seg(r.tenant)}/rooms/${seg(r.kind)}/${seg(r.slug)}`;
  return {
    mutes: {
      /** `POST …/mutes`: the member may not send for `durationSeconds`; the moderator's role is checked. */
      add: (ref: Ref, input: MuteInput, opts?: CallOptions) => change('POST', `${room(ref)}/mutes`, input, opts),
      /** `DELETE …/mutes/{userSlug}?actorSlug=`: ends the mute now. */
      remove: (ref: Ref, userSlug: string, actorSlug: string, opts?: CallOptions) =>
        change('DELETE', `${room(ref)}/mutes/${seg(userSlug)}?actorSlug=${seg(actorSlug)}`, undefined, opts),
    },
    drift: {
      /** `GET /v1/tenants/{tenant}/drift?after=&limit=`: a page of rooms compared with the homeserver now. */
      tenant: (tenant: string, q: DriftQuery = {}, opts?: CallOptions) => {
        const given = Object.entries(q).filter((e) => e[1] !== undefined).map(([k, v]): [string, string] => [k, String(v)]);
        const qs = given.length ? `?${new URLSearchParams(given)}` : '';
        return json<DriftPage>('GET', `/v1/tenants/${seg(tenant)}/drift${qs}`, undefined, opts);
      },
      /** `GET …/rooms/{kind}/{slug}/drift`: one room. */
      room: (ref: Ref, opts?: CallOptions) => json<RoomDrift>('GET', `${room(ref)}/drift`, undefined, opts),
    },
  };
}
