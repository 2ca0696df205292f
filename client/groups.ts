/** A group's bans and the tenant's space settings (docs/api.md "Group spaces and bans", decision 0051). */
import type { CallOptions, Method } from './http.js';
import type { operations } from './openapi-types.js';

export type GroupBanOutcome = operations['banFromGroup']['responses'][200]['content']['application/json'];
export type GroupBanInput = NonNullable<operations['banFromGroup']['requestBody']>['content']['application/json'];
export type GroupBans = operations['listGroupBans']['responses'][200]['content']['application/json'];
export type SpaceSettings = operations['getSpaceSettings']['responses'][200]['content']['application/json'];
export type SpaceSettingsInput = NonNullable<operations['putSpaceSettings']['requestBody']>['content']['application/json'];

type Json = <T>(method: Method, path: string, body?: unknown, opts?: CallOptions) => Promise<T>;

export function groupCalls(json: Json) {
  const seg = encodeURIComponent;
  const bans = (tenant: string, group: string): string => `/v1/tenants/${seg(tenant)}/groups/${seg(group)}/bans`;
  const settings = (tenant: string): string => `/v1/tenants/${seg(tenant)}/settings/spaces`;
  return {
    /** `PUT …/groups/{slug}/bans/{userSlug}`: bans the user from the group's space, room and event rooms (also later ones). */
    ban: (tenant: string, group: string, userSlug: string, input: GroupBanInput = {}, opts?: CallOptions) =>
      json<GroupBanOutcome>('PUT', `${bans(tenant, group)}/${seg(userSlug)}`, input, opts),
    /** `DELETE …/groups/{slug}/bans/{userSlug}`: lifts the ban; the user may join again. `actorSlug`: the moderator acting. */
    unban: (tenant: string, group: string, userSlug: string, opts?: CallOptions & { actorSlug?: string }) => {
      const by = opts?.actorSlug === undefined ? '' : `?actorSlug=${seg(opts.actorSlug)}`;
      return json<GroupBanOutcome>('DELETE', `${bans(tenant, group)}/${seg(userSlug)}${by}`, undefined, opts);
    },
    /** `GET …/groups/{slug}/bans`: the bans in force. */
    bans: (tenant: string, group: string, opts?: CallOptions) => json<GroupBans>('GET', bans(tenant, group), undefined, opts),
    /** `PUT …/settings/spaces`: who may join the private event rooms of the tenant's groups. */
    putSpaceSettings: (tenant: string, input: SpaceSettingsInput, opts?: CallOptions) =>
      json<SpaceSettings>('PUT', settings(tenant), input, opts),
    /** `GET …/settings/spaces`. */
    spaceSettings: (tenant: string, opts?: CallOptions) => json<SpaceSettings>('GET', settings(tenant), undefined, opts),
  };
}
