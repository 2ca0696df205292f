/**
 * One call to a tenant's routes of a fixture's in-process API, with the service JWT: its status and
 * JSON body, whatever it is (a change's outcome, a view, an error).
 */
import { expect } from '@jest/globals';
import type { ServiceFixture } from './fixture.js';

export interface Answer {
  status: number;
  body: Record<string, unknown> & {
    errcode?: string;
    error?: string;
    newSlug?: string;
    roomId?: string;
    actions?: string[];
  };
}

export type TenantCall = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<Answer>;

/** `call('PUT', '/rooms/group/hikers', {...})` → `/v1/tenants/{fx.tenant}/rooms/group/hikers`. */
export function tenantCaller(fx: ServiceFixture): TenantCall {
  return async (method, path, body) => {
    const res = await fx.api.app.request(`/v1/tenants/${fx.tenant}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${fx.api.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  };
}

/** `ensure('group', 'hikers', {...})`: the room made (or updated) through `PUT …/rooms/{kind}/{slug}`, answered 200; its room id. */
export function roomEnsurer(call: TenantCall) {
  return async (kind: 'group' | 'event', slug: string, body: Record<string, unknown> = {}): Promise<string> => {
    const res = await call('PUT', `/rooms/${kind}/${slug}`, body);
    expect(res).toMatchObject({ status: 200 });
    return res.body.roomId as string;
  };
}
