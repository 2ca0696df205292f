/**
 * The realtime relay for adopted and renamed users (issue #17): a socket's user is their binding,
 * not the id their slug derives, so an adopted account sees the adopted room (history from before
 * the relay included) and its live events, and sends as itself; one the service cannot act as is
 * refused sends on the socket; a renamed user's old slug is told the new one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { accountWithPassword, type OwnClient } from '../helpers/prior-platform.js';
import { RelayClient, startApi, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('relay-adopted');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('rad');
const port = Number(stackEnv().API_PORT);
const url = `http://127.0.0.1:${port}`;
const pre = `rad${randomBytes(3).toString('hex')}`;
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
let alice: OwnClient;
let bob: OwnClient;
let roomId: string;
const open: RelayClient[] = [];

async function call(
  method: 'PUT' | 'POST',
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await api.app.request(`/v1/tenants/${tenant}${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function connect(slug: string): Promise<RelayClient> {
  const client = await RelayClient.connect(url, await userToken(config, tenant, slug));
  open.push(client);
  return client;
}

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(port, taskQueue);
  api = await createTestApi(config);
  alice = await accountWithPassword(config, `${pre}_alice`, 'alice');
  bob = await accountWithPassword(config, `${pre}_bob`, 'bob');
  roomId = await alice.createRoom({ preset: 'private_chat', name: 'Party' });
  await alice.invite(roomId, bob.userId);
  await bob.join(roomId);
  await bob.send(roomId, 'b0', 'from before the service');
  for (const [slug, c] of [
    ['alice', alice],
    ['bob', bob],
  ] as const) {
    const r = await call('POST', '/users', { slug, displayName: slug, matrixUserId: c.userId });
    if (r.status !== 200) throw new Error(`adopting ${slug}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  expect((await call('PUT', '/rooms/event/party', { adopt: { roomId } })).status).toBe(200);
  expect((await call('PUT', '/rooms/event/party/members/alice', { role: 'host' })).status).toBe(200);
  expect((await call('PUT', '/rooms/event/party/members/bob', { role: 'member' })).status).toBe(200);
  expect(
    (await call('POST', '/users', { slug: 'rob', displayName: 'Rob', matrixUserId: `@rob:${pre}.example` })).status,
  ).toBe(200);
}, 240_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

describe('an adopted user on the socket', () => {
  it('is their own account, sees the adopted room, its live events from other clients, and sends as themself', async () => {
    const socket = await connect('alice');
    const hello = await socket.waitFor((f) => f.type === 'hello');
    expect(hello).toMatchObject({ user: 'alice', userId: alice.userId });
    // With the homeserver's count for them and the last message (decision 0045).
    expect(hello.rooms).toEqual([
      {
        roomId,
        kind: 'event',
        slug: 'party',
        name: 'Party',
        unread: expect.any(Number),
        highlights: expect.any(Number),
        unreadCapped: false,
        lastMessage: expect.anything(),
      },
    ]);
    await socket.waitFor((f) => f.type === 'live');

    const fromBob = await bob.send(roomId, 'b1', 'bob, from his own client');
    await socket.waitFor((f) => f.type === 'event' && f.event?.event_id === fromBob);

    socket.send({ type: 'send', id: 's1', txnId: 'a1', body: 'alice, through the relay', roomId });
    const sent = await socket.waitFor((f) => f.type === 'sent' && f.id === 's1');
    const echo = await socket.waitFor((f) => f.type === 'event' && f.event?.event_id === sent.eventId);
    expect(echo.event).toMatchObject({ sender: alice.userId, content: { body: 'alice, through the relay' } });
  });

  it('of an account the service cannot act as is refused sends on the socket: OM_USER_NOT_MANAGED', async () => {
    const socket = await connect('rob');
    expect(await socket.waitFor((f) => f.type === 'hello')).toMatchObject({ userId: `@rob:${pre}.example`, rooms: [] });
    socket.send({ type: 'send', id: 's1', txnId: 'r1', body: 'hi', roomId });
    expect(await socket.waitFor((f) => f.type === 'error' && f.id === 's1')).toMatchObject({
      errcode: 'OM_USER_NOT_MANAGED',
      txnId: 'r1',
    });
  });

  it('renamed: the old slug is told the new one (4401), the new slug is the same account with the same rooms', async () => {
    expect((await call('POST', '/users/alice/rename', { newSlug: 'alicia' })).status).toBe(200);
    const old = await connect('alice');
    expect(await old.waitFor((f) => f.type === 'error')).toMatchObject({
      errcode: 'OM_USER_RENAMED',
      newSlug: 'alicia',
    });
    expect((await old.closed).code).toBe(4401);
    const renamed = await connect('alicia');
    expect(await renamed.waitFor((f) => f.type === 'hello')).toMatchObject({
      user: 'alicia',
      userId: alice.userId,
      rooms: [{ roomId, kind: 'event', slug: 'party', name: 'Party' }],
    });
  });
});
