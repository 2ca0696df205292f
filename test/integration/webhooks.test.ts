/**
 * Webhooks back to the platform (decision 0049) on the real stack: messages posted as users and a
 * member leaving as a plain Matrix client, while the receiver (a real HTTP server on loopback) is
 * down, all arrive once it is up — each signature checks, each room's deliveries in the order the
 * events happened, a repeat (an acknowledgement lost) recognisable by its id —; pending and
 * failing deliveries show in the route and in Temporal; the reconciler's drift fix is delivered
 * after the leave it repaired; a receiver answering 410 stops the subscription with the reason,
 * and subscribing again resumes what was left pending.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { verifyWebhookSignature } from '../../client/webhook-signature.js';
import { webhookStateQuery, webhookWorkflowId, type WebhookRoomState } from '../../vocabulary/webhooks.js';
import { reconcileWorkflowId } from '../../vocabulary/ids.js';
import { serviceFixture } from '../helpers/fixture.js';
import { eventually, stackEnv } from '../helpers/env.js';
import { asPlatformUser } from '../helpers/matrix.js';
import type { RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, startApi } from '../helpers/relay.js';
import { tenantCaller } from '../helpers/tenant-call.js';
import { WebhookReceiver, type Received } from '../helpers/webhook-receiver.js';

const fx = serviceFixture('webhooks');
const call = tenantCaller(fx);
const SECRET = `whsec-${randomUUID()}`;
let apiProcess: RunningProcess;
let receiver: WebhookReceiver;
const rooms: Record<string, string> = {};

interface Delivery {
  id: string;
  type: string;
  state: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  room: { slug: string; roomId: string } | null;
}

const deliveries = async (state?: string): Promise<Delivery[]> => {
  const r = await call('GET', `/webhook/deliveries${state ? `?state=${state}` : ''}`);
  expect(r.status).toBe(200);
  return r.body.deliveries as Delivery[];
};

async function say(slug: string, user: string, text: string): Promise<string> {
  const res = await fx.api.post(`/v1/tenants/${fx.tenant}/rooms/event/${slug}/messages`, {
    txnId: randomUUID(),
    body: text,
    userSlug: user,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { eventId: string }).eventId;
}

/** Leaves the room with the user's own credentials, as their Matrix client would. */
async function leaveAsPlainClient(user: string, roomId: string): Promise<string> {
  const auth = await asPlatformUser(fx.config, fx.db, fx.tenant, user);
  const q = new URLSearchParams(auth.query ?? {}).toString();
  const res = await fetch(
    `${fx.config.matrix.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave${q ? `?${q}` : ''}`,
    { method: 'POST', headers: { authorization: `Bearer ${auth.token}`, 'content-type': 'application/json' }, body: '{}' },
  );
  expect(res.status).toBe(200);
  return roomId;
}

/** The first arrival of each delivery id, in arrival order. */
const firstArrivals = (received: Received[]): Received[] => {
  const seen = new Set<string>();
  return received.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
};

beforeAll(async () => {
  // The API process the homeserver pushes its transactions to: it writes the event log and the deliveries.
  apiProcess = await startApi(Number(stackEnv().API_PORT), fx.taskQueue);
  receiver = await WebhookReceiver.create();
  rooms.one = await eventRoomWith(fx.api, fx.tenant, 'hooks-one', ['alice', 'bob', 'carol']);
  rooms.two = await eventRoomWith(fx.api, fx.tenant, 'hooks-two', ['alice', 'bob']);
}, 240_000);
afterAll(async () => {
  await receiver?.close();
  await apiProcess?.stop();
});

describe('the subscription route', () => {
  it('refuses bad input by name, answers 404 before a subscription, and never shows the secret', async () => {
    expect((await call('GET', '/webhook')).status).toBe(404);
    const noHttp = await call('PUT', '/webhook', { url: 'ftp://x.test/h', secret: SECRET });
    expect(noHttp).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    expect(noHttp.body.error).toContain('"url"');
    const short = await call('PUT', '/webhook', { url: receiver.url, secret: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error).toContain('"secret"');
    const badType = await call('PUT', '/webhook', { url: receiver.url, secret: SECRET, eventTypes: ['message.nope'] });
    expect(badType.status).toBe(400);
    expect(badType.body.error).toContain('message.nope');
    const put = await call('PUT', '/webhook', { url: receiver.url, secret: SECRET });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ url: receiver.url, state: 'active', stoppedReason: null });
    expect(put.body.eventTypes).toEqual(['message.posted', 'member.left', 'member.knocked', 'room.missing', 'drift.found']);
    expect(JSON.stringify(put.body)).not.toContain(SECRET);
    expect(JSON.stringify((await call('GET', '/webhook')).body)).not.toContain(SECRET);
    expect((await call('GET', '/webhook/deliveries?state=nope')).body.errcode).toBe('M_INVALID_PARAM');
  });
});

describe('deliveries', () => {
  it('are held while the receiver is down, then all arrive signed, in order per room, repeats by the same id', async () => {
    await receiver.set('down');
    const expected: Record<string, string[]> = { [rooms.one!]: [], [rooms.two!]: [] };
    expected[rooms.one!]!.push(await say('hooks-one', 'alice', 'one: first'));
    expected[rooms.two!]!.push(await say('hooks-two', 'bob', 'two: first'));
    expected[rooms.one!]!.push(await say('hooks-one', 'bob', 'one: second'));
    expected[rooms.one!]!.push(await leaveAsPlainClient('carol', rooms.one!) && 'carol-left');
    expected[rooms.two!]!.push(await say('hooks-two', 'alice', 'two: second'));
    expected[rooms.one!]!.push(await say('hooks-one', 'alice', 'one: third'));

    // Pending, attempted and failing, visible in the route and in Temporal, while nothing got through.
    const pending = await eventually(
      async () => {
        // The reconcile schedule (every quarter hour by default) may repair carol's leave meanwhile: a drift.found besides.
        const d = (await deliveries('pending')).filter((x) => x.type !== 'drift.found');
        return d.length === 6 && d.filter((x) => x.attempts >= 2).length >= 2 ? d : null;
      },
      90_000,
      'six pending deliveries, the heads of both rooms tried twice',
    );
    expect(pending.find((d) => d.attempts > 0)!.lastError).toMatch(/no answer/);
    expect(receiver.received).toEqual([]);
    const handle = fx.api.temporal.workflow.getHandle(webhookWorkflowId(fx.tenant, rooms.one!));
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const state = (await handle.query(webhookStateQuery)) as WebhookRoomState;
    expect(state.failing?.attempts).toBeGreaterThanOrEqual(2);
    expect(state.failing?.error).toMatch(/no answer/);
    // Found in the Temporal UI by the tenant's search attributes (visibility catches up within seconds).
    const query = `Tenant = "${fx.tenant}" AND EntityKind = "webhook" AND ExecutionStatus = "Running"`;
    await eventually(
      async () => {
        for await (const w of fx.api.temporal.workflow.list({ query })) if (w.workflowId === handle.workflowId) return true;
        return false;
      },
      30_000,
      'the running webhook workflow listed by its search attributes',
    );

    // Up, but the first acknowledgement is lost: that delivery comes again, with the same id.
    await receiver.set('lose-ack-once');
    await eventually(async () => (await deliveries('pending')).length === 0, 120_000, 'every delivery acknowledged');
    // The reconcile schedule may have run meanwhile and repaired carol's leave: a drift.found besides.
    const counts = (await call('GET', '/webhook')).body.deliveries as Record<string, number>;
    expect(counts).toMatchObject({ pending: 0, failed: 0 });
    expect(counts.delivered).toBe(firstArrivals(receiver.received).length);

    for (const r of receiver.received) {
      expect(verifyWebhookSignature(SECRET, r.raw, r.signature)).toMatchObject({ ok: true });
      expect(r.body.id).toBe(r.id);
      expect(r.body.tenant).toBe(fx.tenant);
    }
    const unique = firstArrivals(receiver.received).filter((r) => r.type !== 'drift.found');
    expect(unique).toHaveLength(6);
    const repeats = receiver.received.length - unique.length;
    expect(repeats).toBeGreaterThanOrEqual(1);
    const repeated = receiver.received.filter((r) => receiver.received.filter((s) => s.id === r.id).length > 1);
    expect(new Set(repeated.map((r) => r.raw)).size).toBe(new Set(repeated.map((r) => r.id)).size);

    for (const roomId of [rooms.one!, rooms.two!]) {
      const arrived = unique.filter((r) => (r.body.room as { roomId: string }).roomId === roomId);
      const got = arrived.map((r) => (r.type === 'member.left' ? 'carol-left' : (r.body.eventId as string)));
      expect(got).toEqual(expected[roomId]);
    }
    const left = unique.find((r) => r.type === 'member.left')!;
    expect(left.body).toMatchObject({ user: { slug: 'carol' }, by: { slug: 'carol' }, kicked: false });
    const first = unique.find((r) => r.body.eventId === expected[rooms.one!]![0])!;
    expect(first.body).toMatchObject({
      type: 'message.posted',
      body: 'one: first',
      sender: { slug: 'alice' },
      room: { kind: 'event', slug: 'hooks-one' },
    });
  }, 240_000);

  it("delivers the reconciler's drift fix (carol back in) after the leave it repaired", async () => {
    // Unless the schedule has run since the leave already.
    if (!receiver.received.some((r) => r.type === 'drift.found'))
      await fx.api.temporal.schedule.getHandle(reconcileWorkflowId(fx.tenant)).trigger();
    const drift = await eventually(
      async () => receiver.received.find((r) => r.type === 'drift.found'),
      120_000,
      'a drift.found delivery',
    );
    const arrivals = firstArrivals(receiver.received);
    expect(arrivals.indexOf(drift)).toBeGreaterThan(arrivals.findIndex((r) => r.type === 'member.left'));
    expect(drift.body).toMatchObject({ room: { slug: 'hooks-one', roomId: rooms.one } });
    expect(JSON.stringify(drift.body.actions)).toContain('carol');
    expect(verifyWebhookSignature(SECRET, drift.raw, drift.signature).ok).toBe(true);
  }, 180_000);

  it('a receiver answering 410 stops the subscription with the reason; subscribing again resumes', async () => {
    await receiver.set('gone');
    const eventId = await say('hooks-two', 'alice', 'two: after gone');
    const stopped = await eventually(
      async () => {
        const s = await call('GET', '/webhook');
        return s.body.state === 'stopped' ? s.body : null;
      },
      60_000,
      'the subscription stopped',
    );
    expect(stopped.stoppedReason).toMatch(/410 Gone/);
    const [left] = await deliveries('pending');
    expect(left).toMatchObject({ type: 'message.posted', lastStatus: 410, attempts: 1 });
    const handle = fx.api.temporal.workflow.getHandle(webhookWorkflowId(fx.tenant, rooms.two!));
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', 30_000, 'the room workflow ended');
    expect(((await handle.result()) as { stopped?: string }).stopped).toMatch(/410 Gone/);

    // Nothing more goes out while stopped.
    const count = receiver.received.length;
    await say('hooks-two', 'bob', 'two: while stopped');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(receiver.received.length).toBe(count);

    await receiver.set('up');
    expect((await call('PUT', '/webhook', { url: receiver.url, secret: SECRET })).body.state).toBe('active');
    const resumed = await eventually(
      async () => receiver.received.slice(count).find((r) => r.body.eventId === eventId && r.type === 'message.posted'),
      60_000,
      'the delivery left pending, delivered after resubscribing',
    );
    expect(verifyWebhookSignature(SECRET, resumed.raw, resumed.signature).ok).toBe(true);
    expect((await deliveries('pending')).length).toBe(0);
  }, 180_000);

  it('a room gone from the homeserver (here: the bot made to leave it) is delivered as room.missing by the reconciler', async () => {
    const roomId = await eventRoomWith(fx.api, fx.tenant, 'hooks-gone', ['alice']);
    const left = await fetch(`${fx.config.matrix.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fx.config.matrix.asToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(left.status).toBe(200);
    await fx.api.temporal.schedule.getHandle(reconcileWorkflowId(fx.tenant)).trigger();
    const missing = await eventually(
      async () => receiver.received.find((r) => r.type === 'room.missing'),
      120_000,
      'a room.missing delivery',
    );
    expect(missing.body).toMatchObject({ room: { kind: 'event', slug: 'hooks-gone', roomId } });
    expect(verifyWebhookSignature(SECRET, missing.raw, missing.signature).ok).toBe(true);
    // The bot's own leave is the service's doing, not news for the platform.
    expect(receiver.received.filter((r) => r.type === 'member.left' && (r.body.room as { roomId: string }).roomId === roomId)).toEqual([]);
  }, 180_000);
});
