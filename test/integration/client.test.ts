/**
 * The typed client (client/index.ts) against the real API app served over HTTP on an ephemeral
 * port, with a worker on the real stack behind it. Every result is checked on the homeserver.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import {
  createClient,
  MatrixOrchestratorError,
  type MatrixOrchestratorClient,
  type RoomRef,
} from '../../client/index.js';
import { createTestApi, serviceToken, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { adminFor, botView, roomMessages } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('client');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('client');
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
const BOT = '@openmeet-bot:localhost';
const bot = botView(config);
let worker: RunningProcess;
const apis: TestApi[] = [];
const servers: ServerType[] = [];

/** Serves an API app built like the real one (this config, overrides applied) on 127.0.0.1:<any free port>. */
async function served(overrides: Record<string, string> = {}): Promise<{ baseUrl: string; api: TestApi }> {
  const api = await createTestApi(testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000', ...overrides }));
  apis.push(api);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  servers.push(server);
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, api };
}

let om: MatrixOrchestratorClient;

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  const { baseUrl } = await served();
  // A token function, as a backend with expiring service JWTs would pass; this one may act for `tenant` only.
  om = createClient({ baseUrl, token: () => serviceToken(config, { tenants: [tenant] }) });
});
afterAll(async () => {
  // The tenant's reconciliation schedule (created with its first room) would outlive this file.
  await apis[0]?.temporal.schedule
    .getHandle(`reconcile:${tenant}`)
    .delete()
    .catch(() => undefined);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await Promise.all(apis.map((a) => a.close()));
  await worker?.stop();
});

describe('the typed client', () => {
  it('provisions a user: a typed outcome, and the user on the homeserver', async () => {
    const res = await om.users.provision(
      tenant,
      { slug: 'alice', displayName: 'Alice' },
      { requestId: 'client-test-1' },
    );
    expect(res.status).toBe('completed');
    if (res.status !== 'completed') return;
    expect(res).toMatchObject({
      workflowId: `user:${tenant}:alice`,
      userId: uid('alice'),
      created: true,
      tokenIssued: true,
      displayName: 'Alice',
    });
    expect(await adminFor(config).getUser(uid('alice'))).toEqual({
      userId: uid('alice'),
      displayName: 'Alice',
      deactivated: false,
    });

    const op = await om.operations.get(res.workflowId);
    expect(op).toMatchObject({
      workflowId: `user:${tenant}:alice`,
      kind: 'user',
      status: 'completed',
      state: { userId: uid('alice'), provisioned: true },
    });
  });

  it('creates a room and adds a member with a role; the room, its members and power levels are on the homeserver', async () => {
    const ref: RoomRef<'event'> = { tenant, kind: 'event', slug: 'launch' };
    const room = await om.rooms.ensure(ref, { name: 'Launch', topic: 'T minus 10' });
    if (room.status !== 'completed') throw new Error(`expected a completed outcome, got ${JSON.stringify(room)}`);
    expect(room.actions).toEqual([`created ${room.roomId} as #om_${tenant}_event_launch:localhost`]);

    const added = await om.members.set(ref, 'alice', { role: 'host' });
    if (added.status !== 'completed') throw new Error('expected a completed outcome');
    expect(added.actions).toEqual(
      expect.arrayContaining([`joined ${uid('alice')}`, `power level ${uid('alice')} 0→100`]),
    );
    expect(await bot.joined(room.roomId)).toEqual([BOT, uid('alice')].sort());
    expect((await bot.powerLevels(room.roomId))[uid('alice')]).toBe(100);

    const view = await om.rooms.get(ref);
    expect(view).toMatchObject({
      roomId: room.roomId,
      members: { alice: 'host' },
      settings: { name: 'Launch', topic: 'T minus 10' },
      archived: false,
    });

    // The same through a platform event, then a removal.
    const viaEvent = await om.events.send(tenant, {
      type: 'chat.event.member.add',
      data: { slug: 'launch', userSlug: 'bob', role: 'speaker' },
    });
    expect(viaEvent.status).toBe('completed');
    expect(await bot.joined(room.roomId)).toEqual([BOT, uid('alice'), uid('bob')].sort());
    await om.members.remove(ref, 'bob');
    expect(await bot.joined(room.roomId)).toEqual([BOT, uid('alice')].sort());
    const rec = await om.rooms.reconcile(ref);
    expect(rec).toMatchObject({ status: 'completed', roomId: room.roomId, actions: [] });
  });

  it('sends, reads history, types and marks read through messages.*; the message is on the homeserver once', async () => {
    const ref: RoomRef<'event'> = { tenant, kind: 'event', slug: 'launch' };
    const input = { txnId: 'client-msg-1', body: 'Hello from the client', userSlug: 'alice' };
    const first = await om.messages.send(ref, input);
    if (first.status !== 'sent') throw new Error(`expected a sent message, got ${JSON.stringify(first)}`);
    expect(first).toMatchObject({ txnId: 'client-msg-1', workflowId: `msg:${tenant}:alice:client-msg-1` });
    expect(await om.messages.send(ref, input)).toMatchObject({ status: 'sent', eventId: first.eventId });
    const onServer = (await roomMessages(config, first.roomId)).filter((m) => m.body === input.body);
    expect(onServer).toEqual([{ eventId: first.eventId, txnId: 'client-msg-1', body: input.body }]);

    const page = await om.messages.history(ref, { limit: 5, userSlug: 'alice' });
    expect(page.roomId).toBe(first.roomId);
    expect(page.events.map((e) => (e as unknown as { event_id: string }).event_id)).toContain(first.eventId);
    expect(await om.messages.typing(ref, { typing: true, userSlug: 'alice' })).toEqual({});
    expect(await om.messages.receipt(ref, { eventId: first.eventId, userSlug: 'alice' })).toEqual({});
    // Not joined: refused by the route, thrown by the client.
    await expect(om.messages.history(ref, { userSlug: 'zed' })).rejects.toMatchObject({ status: 403, errcode: 'M_FORBIDDEN' });
  });

  it('opens a DM, and archives a room', async () => {
    const dm = await om.dms.ensure(tenant, { users: ['carol', 'alice'] });
    if (dm.status !== 'completed') throw new Error('expected a completed outcome');
    expect(dm.workflowId).toBe(`room:${tenant}:dm:alice~carol`);
    expect(await bot.joined(dm.roomId)).toEqual([BOT, uid('alice'), uid('carol')].sort());

    const ref: RoomRef<'group'> = { tenant, kind: 'group', slug: 'old' };
    await om.members.set(ref, 'dan', { role: 'owner' });
    const archived = await om.rooms.archive(ref);
    if (archived.status !== 'completed') throw new Error('expected a completed outcome');
    expect(archived.actions).toEqual(expect.arrayContaining([`removed ${uid('dan')}`, 'archived']));
    expect(await bot.joined(archived.roomId)).toEqual([BOT]);
  });

  it('throws MatrixOrchestratorError carrying {status, errcode, error}', async () => {
    const cases: [() => Promise<unknown>, number, string, RegExp][] = [
      [
        () => om.rooms.get({ tenant, kind: 'event', slug: 'never-made' }),
        404,
        'M_NOT_FOUND',
        /no room for event never-made/,
      ],
      [
        () => om.users.provision('some-other-tenant', { slug: 'x', displayName: 'X' }),
        403,
        'M_FORBIDDEN',
        /may not act for tenant "some-other-tenant"/,
      ],
      [() => om.members.set({ tenant, kind: 'group', slug: 'old' }, 'erin'), 409, 'OM_ROOM_ARCHIVED', /archived/],
      [
        () => om.users.provision(tenant, { slug: 'bad slug', displayName: 'X' }),
        400,
        'M_INVALID_PARAM',
        /character " " is not allowed/,
      ],
    ];
    for (const [call, status, errcode, message] of cases) {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MatrixOrchestratorError);
      expect(err).toMatchObject({ status, errcode });
      expect((err as MatrixOrchestratorError).error).toMatch(message);
      expect((err as MatrixOrchestratorError).requestId).toBeTruthy();
    }
  });

  it('hands back the operation when the server stops waiting (202), and operations.wait follows it to the end', async () => {
    const { baseUrl } = await served({ API_WAIT_MS: '0' });
    const impatient = createClient({ baseUrl, token: await serviceToken(config) });
    const res = await impatient.users.provision(tenant, { slug: 'frank', displayName: 'Frank' });
    expect(res).toMatchObject({ status: 'running', workflowId: `user:${tenant}:frank`, userId: uid('frank') });
    expect(res.operation).toBe(`/v1/operations/${encodeURIComponent(`user:${tenant}:frank`)}`);
    const op = await impatient.operations.wait(res.workflowId, { timeoutMs: 60_000 });
    expect(op).toMatchObject({
      status: 'completed',
      state: { userId: uid('frank'), provisioned: true, displayName: 'Frank' },
    });
    expect((await adminFor(config).getUser(uid('frank')))?.displayName).toBe('Frank');
  });

  it('reads health, readiness and metrics without a token', async () => {
    expect(await om.health()).toEqual({ status: 'ok' });
    expect(await om.ready()).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok', homeserver: 'ok' } });
    expect(await om.metrics()).toMatch(
      /^http_requests_total\{method="POST",route="\/v1\/tenants\/:tenant\/users",status="200"\} [1-9]/m,
    );
  });

  it('renames a user: the same account under the new slug; the old slug throws OM_USER_RENAMED with newSlug', async () => {
    const launch: RoomRef<'event'> = { tenant, kind: 'event', slug: 'launch' };
    expect(await om.users.rename(tenant, 'alice', { newSlug: 'alicia' })).toEqual({
      slug: 'alicia',
      previousSlug: 'alice',
      userId: uid('alice'),
      renamed: true,
      rooms: ['event/launch'],
    });
    await expect(om.members.set(launch, 'alice', { role: 'host' })).rejects.toMatchObject({
      status: 409,
      errcode: 'OM_USER_RENAMED',
      newSlug: 'alicia',
    });
    expect((await om.rooms.get(launch)).members).toEqual({ alicia: 'host' });
    expect(await bot.joined((await om.rooms.get(launch)).roomId!)).toEqual([BOT, uid('alice')].sort());
  });
});
