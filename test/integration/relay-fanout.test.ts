/**
 * Fan-out on the real stack: Synapse pushes to one API process, PostgreSQL NOTIFY wakes every
 * instance, and each delivers to its own sockets — only the rooms the socket's user is joined to
 * right now, and never another tenant's.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { freePort, RelayClient, startApi, userToken, type Frame } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('fanout');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('fan');
const other = uniqueTenant('fan2');
let worker: RunningProcess;
let apiA: RunningProcess;
let apiB: RunningProcess;
let urlA: string;
let urlB: string;
let api: TestApi;
const sockets: RelayClient[] = [];
const roomIds: Record<string, string> = {};

async function ensureMember(t: string, slug: string, user: string): Promise<string> {
  const res = await api.app.request(`/v1/tenants/${t}/rooms/event/${slug}/members/${user}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await res.json()) as { roomId: string };
  expect(res.status).toBe(200);
  return body.roomId;
}

/** Sends as `user` through the HTTP API and waits until the homeserver has the event. */
async function say(t: string, slug: string, user: string, text: string): Promise<string> {
  const res = await api.post(`/v1/tenants/${t}/rooms/event/${slug}/messages`, {
    txnId: randomUUID(),
    body: text,
    userSlug: user,
  });
  const body = (await res.json()) as { status: string; eventId: string };
  expect([res.status, body.status]).toEqual([200, 'sent']);
  return body.eventId;
}

const connect = async (url: string, t: string, user: string): Promise<RelayClient> => {
  const client = await RelayClient.connect(url, await userToken(config, t, user));
  sockets.push(client);
  await client.waitFor((f) => f.type === 'live');
  return client;
};
const hasEvent = (eventId: string) => (f: Frame) => f.type === 'event' && f.event?.event_id === eventId;

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  [apiA, apiB] = await Promise.all([
    startApi(Number(stackEnv().API_PORT), taskQueue),
    freePort().then((p) => startApi(p, taskQueue)),
  ]);
  urlA = `http://127.0.0.1:${stackEnv().API_PORT}`;
  urlB = /"url":"(http:[^"]+)"/.exec(apiB.output())![1]!;
  for (const u of ['alice', 'bob']) roomIds.hall = await ensureMember(tenant, 'hall', u);
  roomIds.marker = await ensureMember(tenant, 'marker', 'alice');
  await ensureMember(tenant, 'marker', 'bob');
  roomIds.secret = await ensureMember(tenant, 'secret', 'bob');
  roomIds.elsewhere = await ensureMember(other, 'hall', 'alice');
}, 240_000);
afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
  await api?.close();
  await Promise.all([apiA?.stop(), apiB?.stop()]);
  await worker?.stop();
});

describe('fan-out across API instances', () => {
  it('a message sent into a room reaches sockets on both instances (only one of which Synapse pushes to)', async () => {
    const [onA, onB] = [await connect(urlA, tenant, 'alice'), await connect(urlB, tenant, 'alice')];
    const eventId = await say(tenant, 'hall', 'bob', 'hello both');
    const [a, b] = await Promise.all([onA.waitFor(hasEvent(eventId)), onB.waitFor(hasEvent(eventId))]);
    expect(a.event).toMatchObject({
      type: 'm.room.message',
      sender: `@om_${tenant}_bob:localhost`,
      content: { body: 'hello both' },
    });
    expect(a.room).toEqual({ id: roomIds.hall, kind: 'event', slug: 'hall' });
    expect(b.seq).toBe(a.seq);
    expect(b.event).toEqual(a.event);
  });
});

describe('isolation', () => {
  it("never delivers a room the user is not in, nor another tenant's room, nor a room right after the user is removed", async () => {
    const sockets = [await connect(urlA, tenant, 'alice'), await connect(urlB, tenant, 'alice')];
    const start = sockets.map((s) => s.frames.length);
    const hello = sockets[0]!.frames.find((f) => f.type === 'hello') as Frame & { rooms: { roomId: string }[] };
    expect(hello.rooms.map((r) => r.roomId).sort()).toEqual([roomIds.hall, roomIds.marker].sort());

    await say(tenant, 'secret', 'bob', 'not for alice');
    await say(other, 'hall', 'alice', 'the other tenant’s alice');
    // Removal: the room workflow kicks alice; bob speaks in the hall right after.
    const removed = await api.app.request(`/v1/tenants/${tenant}/rooms/event/hall/members/alice`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(removed.status).toBe(200);
    const afterRemoval = await say(tenant, 'hall', 'bob', 'alice has left');
    const marker = await say(tenant, 'marker', 'bob', 'marker');

    for (const [i, s] of sockets.entries()) {
      await s.waitFor(hasEvent(marker));
      const seen = s.frames.slice(start[i]).filter((f) => f.type === 'event' || f.type === 'ephemeral');
      // Delivered in order, the marker last: everything before it has been decided.
      const rooms = new Set(seen.map((f) => f.room!.id));
      expect(rooms.has(roomIds.secret!)).toBe(false);
      expect(rooms.has(roomIds.elsewhere!)).toBe(false);
      const kick = seen.find(
        (f) => f.event?.type === 'm.room.member' && f.event.state_key === `@om_${tenant}_alice:localhost`,
      );
      expect(kick?.event?.content).toMatchObject({ membership: 'leave' });
      expect(seen.filter((f) => f.room!.id === roomIds.hall && f.seq! > kick!.seq!)).toEqual([]);
      expect(seen.some((f) => f.event?.event_id === afterRemoval)).toBe(false);
    }
  });

  it('a room the user joins while connected is delivered from the join on', async () => {
    const s = await connect(urlB, tenant, 'alice');
    const roomId = await ensureMember(tenant, 'late', 'bob');
    await say(tenant, 'late', 'bob', 'before alice');
    await ensureMember(tenant, 'late', 'alice');
    const eventId = await say(tenant, 'late', 'bob', 'welcome alice');
    await s.waitFor(hasEvent(eventId));
    const late = s.events(roomId);
    expect(late.map((f) => f.event?.content?.body ?? f.event?.content?.membership)).toEqual([
      'invite',
      'join',
      'welcome alice',
    ]);
  });
});
