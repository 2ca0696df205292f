/**
 * The WebSocket protocol against a real API process: authentication (and how a refusal is told),
 * bad frames, limits, keepalive, sends from the socket, and other users' typing and receipts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { serviceToken } from '../helpers/api.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { RelayClient, startApi, userToken, type Frame } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('socket');
const limits = {
  RELAY_RATE_PER_SECOND: '5',
  RELAY_RATE_BURST: '20',
  RELAY_MAX_MESSAGE_BYTES: '4096',
  RELAY_PING_INTERVAL_MS: '1000',
};
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000', ...limits });
const tenant = uniqueTenant('sock');
const url = `http://127.0.0.1:${stackEnv().API_PORT}`;
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
const rooms: Record<string, string> = {};
const open: RelayClient[] = [];

async function connect(
  slug: string,
  opts: Parameters<typeof RelayClient.connect>[2] = {},
  token?: string,
): Promise<RelayClient> {
  const c = await RelayClient.connect(url, token ?? (await userToken(config, tenant, slug)), opts);
  open.push(c);
  return c;
}
const live = async (slug: string): Promise<RelayClient> => {
  const c = await connect(slug);
  await c.waitFor((f) => f.type === 'live');
  return c;
};

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue, limits);
  api = await createTestApi(config);
  for (const [slug, u] of [
    ['chat', 'alice'],
    ['chat', 'bob'],
    ['closed', 'bob'],
  ]) {
    const res = await api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}/members/${u}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    rooms[slug!] = ((await res.json()) as { roomId: string }).roomId;
  }
}, 240_000);
afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

describe('authentication', () => {
  it.each(['protocol', 'header', 'query'] as const)(
    'accepts the user JWT as %s, and echoes only the om-relay.v1 subprotocol',
    async (via) => {
      const c = await connect('alice', { via });
      const hello = await c.waitFor((f) => f.type === 'hello');
      expect(hello).toMatchObject({ v: 1, protocol: 'om-relay.v1', tenant, user: 'alice', userId: uid('alice') });
      expect(c.ws.protocol).toBe('om-relay.v1');
    },
  );

  const refused: Record<string, () => Promise<string | null>> = {
    'no token': async () => null,
    'an expired token': () => userToken(config, tenant, 'alice', { expiresIn: -10 }),
    'a service token': () => serviceToken(config),
    'a token for another audience': () => userToken(config, tenant, 'alice', { audience: config.serviceJwt.audience }),
    'a token signed with another key': () =>
      userToken(config, tenant, 'alice', { secret: new TextEncoder().encode('x'.repeat(40)) }),
    'a token without a tenant': () => userToken(config, tenant, 'alice', { claims: { tenant: undefined } }),
  };
  it.each([
    ['no token', 'M_MISSING_TOKEN', /missing user JWT/],
    ['an expired token', 'M_UNKNOWN_TOKEN', /token has expired/],
    ['a service token', 'M_UNKNOWN_TOKEN', /signature does not verify/],
    ['a token for another audience', 'M_UNKNOWN_TOKEN', /claim "aud" is invalid/],
    ['a token signed with another key', 'M_UNKNOWN_TOKEN', /signature does not verify/],
    ['a token without a tenant', 'M_UNKNOWN_TOKEN', /claim "tenant"/],
  ])('refuses %s: an error frame naming the problem, then close 4401', async (what, errcode, message) => {
    const c = await RelayClient.connect(url, await refused[what]!());
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
    expect(c.frames).toHaveLength(1);
    expect(c.frames[0]).toMatchObject({ type: 'error', errcode });
    expect(String(c.frames[0]!.error)).toMatch(message);
  });

  it('answers a plain GET (no upgrade) with 426 naming the problem', async () => {
    const res = await fetch(`${url}/v1/realtime`);
    expect(res.status).toBe(426);
    expect(await res.json()).toMatchObject({ errcode: 'OM_UPGRADE_REQUIRED' });
  });

  it('refuses an upgrade anywhere but /v1/realtime with a 404 naming where the socket is', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${url}/v1/healthz`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': randomBytes(16).toString('base64'),
        },
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({
      errcode: 'M_UNRECOGNIZED',
      error: 'no WebSocket at "/v1/healthz": the realtime socket is GET /v1/realtime',
    });
  });

  it('counts its open sockets in /metrics (relay_sockets_open)', async () => {
    const gauge = async (): Promise<number> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(/^relay_sockets_open (\d+)$/m.exec(text)?.[1]);
    };
    const before = await gauge();
    expect(before).toBeGreaterThanOrEqual(0);
    const c = await live('alice');
    expect(await gauge()).toBe(before + 1);
    await c.close();
    const deadline = Date.now() + 5_000;
    while ((await gauge()) !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await gauge()).toBe(before);
  });

  it('closes the socket when its token expires (4401): the client reconnects with a new one', async () => {
    const c = await connect('alice', {}, await userToken(config, tenant, 'alice', { expiresIn: 2 }));
    await c.waitFor((f) => f.type === 'live');
    expect(await c.closed).toEqual({ code: 4401, reason: expect.stringMatching(/token expired/) });
  });
});

describe('frames and limits', () => {
  it('answers bad frames with an error naming the problem and keeps the socket open', async () => {
    const c = await live('alice');
    const start = c.frames.length;
    c.send({ type: 'send', id: 'a', kind: 'event', slug: 'chat', body: 'x' });
    c.ws.send('{not json');
    c.send({ type: 'shout', id: 'b' });
    c.send({ type: 'typing', id: 'c', kind: 'event', slug: 'chat', typing: 'yes' });
    c.send({ type: 'ping', id: 'd' });
    await c.waitFor((f) => f.type === 'pong', 10_000, start);
    // Pushes (an unread count from an earlier test's message) may interleave; the answers are compared.
    const answers = c.frames.slice(start).filter((f) => f.type === 'error' || f.type === 'pong');
    expect(answers.map((f) => [f.type, f.id, f.errcode])).toEqual([
      ['error', 'a', 'M_BAD_JSON'],
      ['error', undefined, 'M_NOT_JSON'],
      ['error', 'b', 'M_UNRECOGNIZED'],
      ['error', 'c', 'M_BAD_JSON'],
      ['pong', 'd', undefined],
    ]);
    expect(answers[0]!.error).toBe('missing field "txnId"');
  });

  it('limits the rate of frames per socket: beyond the burst, M_LIMIT_EXCEEDED with retryAfterMs', async () => {
    const c = await live('alice');
    const start = c.frames.length;
    for (let i = 0; i < 60; i++) c.send({ type: 'ping', id: `p${i}` });
    await c.waitFor(() => c.frames.length - start >= 60, 10_000);
    const answers = c.frames.slice(start);
    const pongs = answers.filter((f) => f.type === 'pong').length;
    const limited = answers.filter((f) => f.errcode === 'M_LIMIT_EXCEEDED');
    expect(pongs).toBeGreaterThanOrEqual(20);
    expect(pongs).toBeLessThan(30);
    expect(limited.length).toBe(60 - pongs);
    expect(limited[0]!.retryAfterMs).toEqual(expect.any(Number));
  });

  it('closes a socket that sends a frame over the size limit (1009)', async () => {
    const c = await live('alice');
    c.send({ type: 'ping', id: 'x'.repeat(5000) });
    expect((await c.closed).code).toBe(1009);
  });

  it('terminates a socket that stops answering pings; one that answers stays', async () => {
    const silent = await connect('alice', { autoPong: false });
    const polite = await connect('alice');
    await silent.waitFor((f) => f.type === 'live');
    expect((await silent.closed).code).toBe(1006);
    expect(polite.ws.readyState).toBe(polite.ws.OPEN);
  });
});

describe('acting from the socket', () => {
  it('send: queued, then sent with the event id; the message reaches both members; a repeat is the same message', async () => {
    const [alice, bob] = [await live('alice'), await live('bob')];
    const txnId = randomUUID();
    alice.send({ type: 'send', id: 's1', kind: 'event', slug: 'chat', txnId, body: 'from the socket' });
    const queued = await alice.waitFor((f) => f.type === 'queued' && f.id === 's1');
    expect(queued).toMatchObject({ txnId, workflowId: `msg:${tenant}:alice:${txnId}` });
    const sent = await alice.waitFor((f) => f.type === 'sent' && f.id === 's1');
    const echo = await bob.waitFor((f) => f.event?.event_id === sent.eventId);
    expect(echo.event).toMatchObject({
      sender: uid('alice'),
      content: { body: 'from the socket', msgtype: 'm.text', 'org.openmeet.txn_id': txnId },
    });
    alice.send({ type: 'send', id: 's2', roomId: rooms.chat, txnId, body: 'from the socket' });
    expect(await alice.waitFor((f) => f.type === 'sent' && f.id === 's2')).toMatchObject({ eventId: sent.eventId });
  });

  it('refuses to send into a room the user is not in, or one that does not exist', async () => {
    const alice = await live('alice');
    alice.send({ type: 'send', id: 'n1', kind: 'event', slug: 'closed', txnId: randomUUID(), body: 'let me in' });
    alice.send({ type: 'send', id: 'n2', kind: 'group', slug: 'nowhere', txnId: randomUUID(), body: 'hello?' });
    expect(await alice.waitFor((f) => f.id === 'n1')).toMatchObject({
      type: 'error',
      errcode: 'M_FORBIDDEN',
      error: 'you are not joined to event closed',
    });
    expect(await alice.waitFor((f) => f.id === 'n2')).toMatchObject({ type: 'error', errcode: 'M_NOT_FOUND' });
  });

  it("relays other users' typing (and its end) and read receipts", async () => {
    const [alice, bob] = [await live('alice'), await live('bob')];
    const typing = (who: string) => (f: Frame) =>
      f.type === 'ephemeral' &&
      f.event?.type === 'm.typing' &&
      f.room?.id === rooms.chat &&
      ((f.event.content?.user_ids as string[]) ?? []).includes(who);
    bob.send({ type: 'typing', kind: 'event', slug: 'chat', typing: true });
    const on = await alice.waitFor(typing(uid('bob')));
    bob.send({ type: 'typing', kind: 'event', slug: 'chat', typing: false });
    await alice.waitFor(
      (f) => f.type === 'ephemeral' && f.event?.type === 'm.typing' && f.seq! > on.seq! && !typing(uid('bob'))(f),
    );

    bob.send({ type: 'send', id: 'r', kind: 'event', slug: 'chat', txnId: randomUUID(), body: 'read me' });
    const { eventId } = (await bob.waitFor((f) => f.type === 'sent' && f.id === 'r')) as Frame & { eventId: string };
    alice.send({ type: 'read', kind: 'event', slug: 'chat', eventId });
    const receipt = await bob.waitFor((f) => f.type === 'ephemeral' && f.event?.type === 'm.receipt');
    expect(receipt.event!.content).toMatchObject({
      [eventId]: { 'm.read': { [uid('alice')]: { ts: expect.any(Number) } } },
    });
  });

  it('makes at most one typing call per user and room per 15 s, however often asked, plus the "stopped typing" call', async () => {
    const put = (typing: boolean) =>
      api.app.request(`/v1/tenants/${tenant}/rooms/event/chat/typing`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ typing, userSlug: 'alice' }),
      });
    const bob = await live('bob');
    for (let i = 0; i < 5; i++) expect((await put(true)).status).toBe(202);
    await bob.waitFor(
      (f) => f.event?.type === 'm.typing' && ((f.event.content?.user_ids as string[]) ?? []).includes(uid('alice')),
    );
    const handle = api.temporal.workflow.getHandle(`ephemeral:${tenant}:alice:event:chat`);
    const typingCalls = async (): Promise<number> =>
      ((await handle.fetchHistory()).events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'setTypingAsUser',
      ).length;
    expect(await typingCalls()).toBe(1);
    expect((await put(false)).status).toBe(202);
    await bob.waitFor(
      (f) => f.event?.type === 'm.typing' && !((f.event.content?.user_ids as string[]) ?? []).includes(uid('alice')),
    );
    expect(await typingCalls()).toBe(2);
  });
});

describe('shutdown', () => {
  it('on SIGTERM, open sockets are closed with 1001 (reconnect and resume elsewhere) and the API exits 0', async () => {
    const c = await live('alice');
    const code = await apiProcess.stop('SIGTERM');
    expect(await c.closed).toEqual({ code: 1001, reason: expect.stringMatching(/reconnect with since/) });
    expect(code).toBe(0);
  });
});
