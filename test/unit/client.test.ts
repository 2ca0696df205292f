/**
 * The typed client stays aligned with the service (the compiler checks the service's types still
 * fit the client's; the tests compare the runtime lists), and builds requests and errors as
 * documented. The fetch here is a recorder: what is asserted is what would go over the wire.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { ERROR_STATUS } from '../../api/errors.js';
import * as Client from '../../client/index.js';
import type { ReadinessReport } from '../../adapters/readiness.js';
import { ROLES_BY_KIND } from '../../vocabulary/ids.js';
import type * as Server from '../../vocabulary/contract.js';

// --- compile-time alignment: this file does not build when the service's types drift away ---
type Assert<T extends true> = T;
type Fits<A, B> = [A] extends [B] ? true : false;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type _Alignment = [
  Assert<Fits<Server.RoomState, Client.RoomState>>,
  Assert<Fits<Server.UserState, Client.UserState>>,
  Assert<Fits<Server.ProvisionUserResult, Client.ProvisionedUser>>,
  Assert<Fits<Server.RoomChangeResult, Client.RoomChangeResult>>,
  Assert<Fits<Server.ReconcileResult, Client.ReconcileResult>>,
  Assert<Same<Server.RoomSettings, Client.RoomSettings>>,
  Assert<Same<Server.RoomRef['kind'], Client.RoomKind>>,
  Assert<Same<keyof typeof ERROR_STATUS, Client.KnownErrorCode>>,
  Assert<Same<WorkflowExecutionStatusName, Client.WorkflowStatusName>>,
  Assert<Fits<ReadinessReport, Client.Readiness>>,
];

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

function recorder(answer: (r: Recorded) => Response) {
  const calls: Recorded[] = [];
  const fake = (async (input: string | URL | Request, init?: RequestInit) => {
    const r: Recorded = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: { ...(init?.headers as Record<string, string>) },
      body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
    };
    calls.push(r);
    return answer(r);
  }) as typeof fetch;
  return { calls, fetch: fake };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('client alignment with the service', () => {
  it('lists the same roles per room kind as the service', () => {
    expect(Client.ROLES).toEqual(ROLES_BY_KIND);
  });

  it('lists every error code the service answers with', () => {
    expect([...Client.ERROR_CODES].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
  });
});

describe('client requests', () => {
  it('encodes path segments, sends JSON with the service JWT, and asks the token function each time', async () => {
    const rec = recorder(() =>
      json(200, { status: 'completed', workflowId: 'w', operation: '/o', roomId: '!r', alias: '#a', actions: [] }),
    );
    let minted = 0;
    const om = Client.createClient({ baseUrl: 'http://api.test/', token: () => `jwt-${++minted}`, fetch: rec.fetch });
    await om.rooms.ensure({ tenant: 'acme', kind: 'dm', slug: 'ann~bob' }, { encrypted: true }, { requestId: 'req-1' });
    await om.members.set({ tenant: 'acme', kind: 'group', slug: 'g 1' }, 'zoë', { role: 'admin' });
    await om.operations.get('room:acme:dm:ann~bob');
    expect(rec.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'PUT http://api.test/v1/tenants/acme/rooms/dm/ann~bob',
      'PUT http://api.test/v1/tenants/acme/rooms/group/g%201/members/zo%C3%AB',
      'GET http://api.test/v1/operations/room%3Aacme%3Adm%3Aann~bob',
    ]);
    expect(rec.calls[0]).toMatchObject({
      headers: { authorization: 'Bearer jwt-1', 'content-type': 'application/json', 'x-request-id': 'req-1' },
      body: { encrypted: true },
    });
    expect(rec.calls[1]!.headers.authorization).toBe('Bearer jwt-2');
    expect(rec.calls[2]!.body).toBeUndefined();
  });

  it('turns a 202 into a running outcome that names the operation', async () => {
    const rec = recorder(() =>
      json(202, {
        workflowId: 'user:acme:a',
        status: 'running',
        operation: '/v1/operations/user%3Aacme%3Aa',
        userId: '@om_acme_a:x',
      }),
    );
    const om = Client.createClient({ baseUrl: 'http://api.test', token: 't', fetch: rec.fetch });
    expect(await om.users.provision('acme', { slug: 'a', displayName: 'A' })).toEqual({
      status: 'running',
      workflowId: 'user:acme:a',
      operation: '/v1/operations/user%3Aacme%3Aa',
      userId: '@om_acme_a:x',
    });
  });

  it('throws MatrixOrchestratorError with status, errcode, error and request id; non-JSON answers become M_UNKNOWN', async () => {
    const om = (answer: Response) =>
      Client.createClient({ baseUrl: 'http://api.test', token: 't', fetch: recorder(() => answer).fetch });
    const e1 = await om(
      json(409, { errcode: 'OM_ROOM_ARCHIVED', error: 'the room is archived' }, { 'x-request-id': 'abc' }),
    )
      .rooms.archive({ tenant: 'acme', kind: 'event', slug: 'x' })
      .catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(Client.MatrixOrchestratorError);
    expect(e1).toMatchObject({
      status: 409,
      errcode: 'OM_ROOM_ARCHIVED',
      error: 'the room is archived',
      requestId: 'abc',
      message: '409 OM_ROOM_ARCHIVED: the room is archived',
    });
    const e2 = await om(new Response('<html>Bad Gateway</html>', { status: 502 }))
      .health()
      .catch((e: unknown) => e);
    expect(e2).toMatchObject({
      status: 502,
      errcode: 'M_UNKNOWN',
      error: 'HTTP 502: <html>Bad Gateway</html>',
      requestId: null,
    });
  });

  it('returns an unready readiness report instead of throwing', async () => {
    const report = {
      status: 'unready',
      checks: { database: 'ok', temporal: 'error: timed out after 2000 ms', homeserver: 'ok' },
    };
    const om = Client.createClient({
      baseUrl: 'http://api.test',
      token: 't',
      fetch: recorder(() => json(503, report)).fetch,
    });
    expect(await om.ready()).toEqual(report);
  });
});
