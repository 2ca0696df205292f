/**
 * The relay's limits against real API processes (decision 0023): sockets per user (and other
 * users' pushes keep their latency meanwhile), sockets and handshakes per client address,
 * handshakes per instance, a client that floods frames and reads nothing cut off with the API's
 * memory bounded. The HTTP routes' limit per user: messages-rate-limit.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { sleep, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, freePort, RelayClient, startApi, userToken, type Frame } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('limits');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue });
const tenant = uniqueTenant('lim');
const pushedUrl = `http://127.0.0.1:${stackEnv().API_PORT}`;
/** The API Synapse pushes to: default sockets per user (10); no address or handshake limits in the way. */
const MAIN_ENV = {
  RELAY_MAX_SOCKETS_PER_ADDRESS: '0',
  RELAY_ADDRESS_HANDSHAKES_PER_SECOND: '0',
  RELAY_HANDSHAKES_PER_SECOND: '10000',
};
/** A second API with small limits per address and per instance; it reads the same event log. */
const SMALL_ENV = {
  RELAY_MAX_SOCKETS_PER_ADDRESS: '3',
  RELAY_ADDRESS_HANDSHAKES_PER_SECOND: '5',
  RELAY_HANDSHAKES_PER_SECOND: '10',
  RELAY_MAX_BUFFERED_BYTES: '65536',
};
let worker: RunningProcess;
let main: RunningProcess;
let small: RunningProcess;
let smallUrl: string;
let api: TestApi;
let roomId: string;
const open: RelayClient[] = [];

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  main = await startApi(Number(stackEnv().API_PORT), taskQueue, MAIN_ENV);
  const port = await freePort();
  small = await startApi(port, taskQueue, SMALL_ENV);
  smallUrl = `http://127.0.0.1:${port}`;
  api = await createTestApi(config);
  roomId = await eventRoomWith(api, tenant, 'chat', ['alice', 'bob']);
}, 240_000);
afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await api?.close();
  await small?.stop();
  await main?.stop();
  await worker?.stop();
});

/** Connects `slug` from a given loopback address (127.0.0.x all reach the API on 127.0.0.1). */
async function connect(url: string, slug: string, from = '127.0.0.1', token?: string): Promise<RelayClient> {
  const client = await RelayClient.connect(url, token ?? (await userToken(config, tenant, slug)), { from });
  open.push(client);
  return client;
}
const settle = async (c: RelayClient): Promise<'live' | { code: number; reason: string }> =>
  Promise.race([c.waitFor((f) => f.type === 'live', 20_000).then(() => 'live' as const), c.closed]);

/** Pushes one message the way Synapse does (a transaction to the appservice endpoint); its body. */
async function push(url: string): Promise<string> {
  const body = `ping ${randomUUID()}`;
  const res = await fetch(`${url}/_matrix/app/v1/transactions/lim-${randomUUID()}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${config.matrix.hsToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      events: [
        {
          type: 'm.room.message',
          event_id: `$${randomUUID()}`,
          room_id: roomId,
          sender: `@om_${tenant}_carol:localhost`,
          origin_server_ts: Date.now(),
          content: { msgtype: 'm.text', body },
        },
      ],
    }),
  });
  if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
  return body;
}
/** Milliseconds from a push to its delivery on `c`. */
async function latency(c: RelayClient): Promise<number> {
  const started = performance.now();
  const body = await push(pushedUrl);
  await c.waitFor((f: Frame) => f.event?.content?.body === body, 10_000);
  return performance.now() - started;
}
const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1]!;
const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(line.exec(text)?.[1] ?? NaN);
}

describe('sockets per user', () => {
  it("caps one user's sockets at RELAY_MAX_SOCKETS_PER_USER (4429 with a reason) while another user's pushes keep their latency", async () => {
    const bob = await connect(pushedUrl, 'bob');
    await bob.waitFor((f) => f.type === 'live');
    for (let i = 0; i < 5; i++) await latency(bob); // warm up
    const before: number[] = [];
    for (let i = 0; i < 20; i++) before.push(await latency(bob));

    // The flood: 200 sockets for alice, opened as fast as the handshakes go, while bob's pushes are timed.
    let flooding = true;
    const during: number[] = [];
    const alice: RelayClient[] = [];
    const outcomes: Promise<'live' | { code: number; reason: string }>[] = [];
    const flood = (async () => {
      // At least 200 sockets, and on until bob's latency has been sampled 20 times meanwhile.
      for (let wave = 0; wave < 50 && (wave < 10 || during.length < 20); wave++) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => connect(pushedUrl, 'alice')));
        alice.push(...batch);
        outcomes.push(...batch.map(settle));
      }
      await Promise.all(outcomes);
      flooding = false;
    })();
    while (flooding) during.push(await latency(bob));
    expect(during.length).toBeGreaterThanOrEqual(20);
    await flood;
    const results = await Promise.all(outcomes);
    const live = results.filter((r) => r === 'live');
    const refused = results.filter((r) => r !== 'live');
    expect(live).toHaveLength(10);
    expect(refused.length).toBe(results.length - 10);
    for (const r of refused) expect(r).toEqual({ code: 4429, reason: expect.stringMatching(/at most 10 per user/) });
    const refusedClient = alice.find((c) => c.frames[0]?.type === 'error');
    expect(refusedClient?.frames).toEqual([
      expect.objectContaining({ type: 'error', errcode: 'M_LIMIT_EXCEEDED', retryAfterMs: expect.any(Number) }),
    ]);

    const figures = {
      before: { p50: percentile(before, 50), p95: percentile(before, 95) },
      during: { p50: percentile(during, 50), p95: percentile(during, 95) },
    };
    console.log(`push→delivery ms, ${results.length} sockets tried for alice:`, JSON.stringify(figures));
    // The refusals cost the instance little (no session, no database work): bob's messages still
    // arrive in well under a perceptible delay. The floors allow for this test process, which runs
    // the flood too, and for two cores shared with the whole stack.
    expect(figures.during.p50).toBeLessThan(Math.max(100, figures.before.p50 * 5));
    expect(figures.during.p95).toBeLessThan(Math.max(500, figures.before.p95 * 5));

    expect(await metric(pushedUrl, /^relay_limit_refusals_total\{limit="sockets_per_user"\} (\d+)/m)).toBe(
      refused.length,
    );
    expect(await metric(pushedUrl, /^relay_socket_users_at_limit (\d+)/m)).toBe(1);
    // A socket closed gives its place to the next.
    await alice.find((c) => c.ws.readyState === WebSocket.OPEN)!.close();
    await sleep(200);
    expect(await settle(await connect(pushedUrl, 'alice'))).toBe('live');
  }, 120_000);
});

describe('client address and handshakes', () => {
  it('caps sockets per client address (4429 naming the address limit); another address is still served', async () => {
    await sleep(1_100); // a fresh handshake window
    const three = await Promise.all(['u1', 'u2', 'u3'].map((u) => connect(smallUrl, u, '127.0.0.2')));
    expect(await Promise.all(three.map(settle))).toEqual(['live', 'live', 'live']);
    const fourth = await connect(smallUrl, 'u4', '127.0.0.2');
    expect(await fourth.closed).toEqual({
      code: 4429,
      reason: expect.stringMatching(/sockets from your address: at most 3/),
    });
    expect(await settle(await connect(smallUrl, 'u4', '127.0.0.3'))).toBe('live');
    expect(await metric(smallUrl, /^relay_socket_addresses_at_limit (\d+)/m)).toBe(1);
  });

  it('cuts a refused client that never answers the close within a second or two, not after 30 s', async () => {
    // A raw client: it performs the handshake, reads, and never sends anything back.
    const token = await userToken(config, tenant, 'u5');
    const raw = connectTcp({ host: '127.0.0.1', port: Number(new URL(smallUrl).port), localAddress: '127.0.0.2' });
    let received = '';
    raw.on('data', (d: Buffer) => (received += d.toString('latin1')));
    raw.on('error', () => undefined);
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    const started = Date.now();
    raw.write(
      `GET /v1/realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
        `Sec-WebSocket-Protocol: om-relay.v1, bearer.${token}\r\n\r\n`,
    );
    await new Promise<void>((resolve) => raw.once('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1.1 101/);
    expect(received).toMatch(/sockets from your address: at most 3/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses handshakes over the rate per address before reading the token, then admits again a second later', async () => {
    await sleep(1_100);
    // Bad tokens: what is under the rate is refused for the token (4401), what is over it for the rate.
    const tries = await Promise.all(Array.from({ length: 8 }, () => connect(smallUrl, 'x', '127.0.0.4', 'not-a-jwt')));
    const codes = (await Promise.all(tries.map((c) => c.closed))).map((c) => c.code).sort();
    expect(codes).toEqual([4401, 4401, 4401, 4401, 4401, 4429, 4429, 4429]);
    const limited = tries.find((c) => c.frames[0]?.errcode === 'M_LIMIT_EXCEEDED')!;
    expect(limited.frames[0]).toMatchObject({
      error: expect.stringMatching(/at most 5 per second/),
      retryAfterMs: expect.any(Number),
    });
    await sleep(Number(limited.frames[0]!.retryAfterMs) + 50);
    expect((await (await connect(smallUrl, 'x', '127.0.0.4', 'not-a-jwt')).closed).code).toBe(4401);
  });

  it('refuses handshakes over the instance rate, from however many addresses they come', async () => {
    await sleep(1_100);
    const from = Array.from({ length: 10 }, (_, i) => `127.0.0.${10 + i}`);
    const tries = await Promise.all([...from, ...from].map((a) => connect(smallUrl, 'x', a, 'not-a-jwt')));
    const closed = await Promise.all(tries.map((c) => c.closed));
    expect(closed.filter((c) => c.code === 4401)).toHaveLength(10);
    const refused = closed.filter((c) => c.code === 4429);
    expect(refused).toHaveLength(10);
    expect(refused[0]!.reason).toMatch(/accepting at most 10 connections per second/);
    expect(await metric(smallUrl, /^relay_limit_refusals_total\{limit="handshakes"\} (\d+)/m)).toBeGreaterThanOrEqual(
      10,
    );
  });
});

describe('a client that floods frames and reads nothing', () => {
  it("is cut off (4408) while it is still starting or replaying, and the API's memory stays bounded", async () => {
    await sleep(1_100);
    // Something to replay: the socket is still replaying when its answers pile up.
    const since = (await settle(await connect(smallUrl, 'bob', '127.0.0.5'))) === 'live' ? open.at(-1)!.lastSeq() : 0;
    await open.at(-1)!.close();
    for (let i = 0; i < 3; i++) await push(pushedUrl);
    const pid = small.child.pid!;
    const rssBefore = rssKb(pid);
    const token = await userToken(config, tenant, 'bob');
    const ws = new WebSocket(
      `${smallUrl.replace(/^http/, 'ws')}/v1/realtime?since=${since}`,
      ['om-relay.v1', `bearer.${token}`],
      {
        localAddress: '127.0.0.6',
      },
    );
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // Reads nothing from here on (the TCP socket is paused), and floods: every frame is answered.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const frame = JSON.stringify({ type: 'ping' });
    for (let i = 0; i < 300_000; i++) ws.send(frame);
    let rssPeak = rssBefore;
    for (let i = 0; i < 40; i++) {
      rssPeak = Math.max(rssPeak, rssKb(pid));
      await sleep(100);
    }
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const outcome = await Promise.race([closed, sleep(30_000).then(() => null)]);
    await sleep(500);
    const rssAfter = rssKb(pid);
    console.log(
      `API RSS (MB) before ${(rssBefore / 1024).toFixed(1)}, peak during the flood ${(rssPeak / 1024).toFixed(1)}, after ${(rssAfter / 1024).toFixed(1)}`,
    );
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    expect(outcome).toEqual({ code: 4408, reason: expect.stringMatching(/slow consumer/) });
    // 300,000 answers held in memory would be well over 100 MB; the limit is 64 KiB.
    expect(rssPeak - rssBefore).toBeLessThan(40 * 1024);
    expect(await metric(smallUrl, /^relay_limit_refusals_total\{limit="buffered_bytes"\} (\d+)/m)).toBe(1);
  }, 90_000);
});
