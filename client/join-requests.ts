/**
 * Join requests (knocks) of a room (docs/api.md "Join requests"): the list, and the platform's
 * decision on one. A request's user is their slug, or the Matrix id of a user who is not one of ours.
 */
import type { CallOptions, Method } from './http.js';
import type { operations } from './openapi-types.js';
import type { Outcome, RoomChangeResult, RoomKind, RoomRef } from './types.js';

export type JoinRequestList = operations['listJoinRequests']['responses'][200]['content']['application/json'];
export type JoinRequest = JoinRequestList['requests'][number];
export type JoinDecisionInput = NonNullable<operations['decideJoinRequest']['requestBody']>['content']['application/json'];

type Json = <T>(method: Method, path: string, body?: unknown, opts?: CallOptions) => Promise<T>;
type OutcomeOf = <T>(method: Method, path: string, body?: unknown, opts?: CallOptions) => Promise<Outcome<T>>;

export function joinRequestCalls(json: Json, outcome: OutcomeOf) {
  const seg = encodeURIComponent;
  const path = (r: RoomRef): string => `/v1/tenants/${seg(r.tenant)}/rooms/${seg(r.kind)}/${seg(r.slug)}/requests`;
  return {
    /** `GET …/requests?state=`: the room's join requests, the most recent first. */
    list: (ref: RoomRef<Exclude<RoomKind, 'dm'>>, state?: JoinRequest['state'], opts?: CallOptions) =>
      json<JoinRequestList>('GET', `${path(ref)}${state ? `?state=${seg(state)}` : ''}`, undefined, opts),
    /**
     * `POST …/requests/{user}`: approve (invited; one of ours joined too) or refuse (the knock kicked)
     * a pending request, once. `user`: a user slug, or a Matrix id.
     */
    decide: (ref: RoomRef<Exclude<RoomKind, 'dm'>>, user: string, input: JoinDecisionInput, opts?: CallOptions) =>
      outcome<RoomChangeResult>('POST', `${path(ref)}/${seg(user)}`, input, opts),
  };
}
