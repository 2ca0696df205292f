/**
 * A fuzzer (fast-check) for the realtime socket, over a real WebSocket against a real API process
 * (dist/api/main.js) with a worker: 10,000 cases of valid-shaped frames (ping, send, typing, read)
 * with one hostile mutation at any level (deep nesting up to 20,000 levels — the 6,000-level
 * ping among them — huge numbers, long strings, unicode and NUL, prototype keys, wrong types, fields
 * left out or added), truncated and garbage text, binary and invalid UTF-8 frames, frames over the
 * size limit, and handshakes with valid and invalid tokens and hostile `since`. Properties: every
 * answer is a well-formed, bounded frame and never M_UNKNOWN; only the size limit (1009) and bad
 * UTF-8 (1007) close a socket; after each batch the process is alive, /healthz answers,
 * api_escaped_errors_total is 0, and no refused send started a workflow (and, at the end, every
 * queued send has its workflow and no refused one has). Per-socket rate limits are raised so the
 * fuzzer's pace is not what is refused. The seed is printed;
 * FUZZ_SEED=<n> repeats a run, FUZZ_RUNS=<n> changes its length.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { WorkflowNotFoundError } from '@temporalio/client';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { createTestApi, serviceToken, type TestApi } from '../helpers/api.js';
import { stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { applyDamage, damage, mutate, mutation } from '../helpers/hostile-json.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, RelayClient, startApi, userToken, type Frame } from '../helpers/relay.js';
import { messageWorkflowId } from '../../vocabulary/ids.js';

const SEED = process.env.FUZZ_SEED && /^-?\d+$/.test(process.env.FUZZ_SEED) ? Number(process.env.FUZZ_SEED) : 20261205;
const RUNS = process.env.FUZZ_RUNS && /^\d+$/.test(process.env.FUZZ_RUNS) ? Number(process.env.FUZZ_RUNS) : 10_000;
const BATCH = 500;

const taskQueue = uniqueTaskQueue('fuzz-socket');
// Limits high enough that the fuzzer's own pace is not what is refused (the limits have tests of their own).
const limits = { RELAY_RATE_PER_SECOND: '1000', RELAY_RATE_BURST: '10000', RELAY_MAX_MESSAGE_BYTES: '65536' };
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, ...limits });
const tenant = uniqueTenant('fzw');
const otherTenant = uniqueTenant('fzx');
const url = `http://127.0.0.1:${stackEnv().API_PORT}`;

let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
let roomId = '';
const tokens: Record<string, string | null> = {};
let socket: RelayClient | null = null;
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown): void => void unhandled.push(err);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue, limits);
  api = await createTestApi(config);
  roomId = await eventRoomWith(api, tenant, 'fz-room', ['alice']);
  Object.assign(tokens, {
    alice: await userToken(config, tenant, 'alice'),
    bob: await userToken(config, tenant, 'bob'),
    other: await userToken(config, otherTenant, 'mallory'),
    expired: await userToken(config, tenant, 'alice', { expiresIn: -60 }),
    wrongAudience: await userToken(config, tenant, 'alice', { audience: 'evil' }),
    wrongSecret: await userToken(config, tenant, 'alice', { secret: new TextEncoder().encode('n'.repeat(48)) }),
    noTenant: await userToken(config, tenant, 'alice', { claims: { tenant: undefined } }),
    badSlug: await userToken(config, tenant, '../../etc/passwd'),
    hugeClaim: await userToken(config, tenant, 'alice', { claims: { x: '['.repeat(5_000) } }),
    service: await serviceToken(config),
    none: null,
    garbage: 'a.b.c',
    long: 'x'.repeat(8_000),
  });
}, 240_000);
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await socket?.close().catch(() => undefined);
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

// --- arbitraries -----------------------------------------------------------------------------------

const slug = fc.oneof(
  { weight: 1, arbitrary: fc.constant('fz-room') },
  { weight: 3, arbitrary: fc.constantFrom('fz-nope', 'a~b') },
);
const id = fc.constant('@ID@');
const baseFrame = fc.oneof(
  fc.record({ type: fc.constant('ping'), id, v: fc.constant(1) }),
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('send'),
      id,
      kind: fc.constant('event'),
      slug,
      txnId: fc.constant('@TXN@'),
      body: fc.constantFrom('hello', 'two\nlines', 'tab\there'),
      msgtype: fc.constantFrom('m.text', 'm.emote', 'm.notice'),
    }),
  },
  fc.record({
    type: fc.constant('send'),
    id,
    roomId: fc.constantFrom('@ROOM@', '!nope:localhost'),
    txnId: fc.constant('@TXN@'),
    body: fc.constant('by id'),
  }),
  fc.record({
    type: fc.constant('typing'),
    id,
    kind: fc.constantFrom('event', 'group', 'dm'),
    slug,
    typing: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('read'),
    id,
    roomId: fc.constantFrom('@ROOM@', '!nope:localhost'),
    eventId: fc.constant('$abc'),
  }),
);
const frameCase = fc.record({
  kind: fc.constant('frame' as const),
  base: baseFrame,
  mutation: fc.option(mutation, { freq: 8 }),
  damage,
  transport: fc.oneof(
    { weight: 30, arbitrary: fc.constant('text' as const) },
    { weight: 1, arbitrary: fc.constant('binary' as const) },
    { weight: 1, arbitrary: fc.constant('invalid-utf8' as const) },
  ),
});
const handshakeCase = fc.record({
  kind: fc.constant('handshake' as const),
  token: fc.constantFrom(
    'alice',
    'bob',
    'other',
    'expired',
    'wrongAudience',
    'wrongSecret',
    'noTenant',
    'badSlug',
    'hugeClaim',
    'service',
    'none',
    'garbage',
    'long',
  ),
  via: fc.constantFrom('protocol' as const, 'header' as const, 'query' as const),
  since: fc.option(fc.constantFrom('-1', '0', 'abc', '1e3', '99999999999999999999', '%00', '[]', ''), { freq: 3 }),
});
const wsCase = fc.oneof({ weight: 40, arbitrary: frameCase }, { weight: 1, arbitrary: handshakeCase });
type WsCase = typeof wsCase extends fc.Arbitrary<infer T> ? T : never;

// --- running a case --------------------------------------------------------------------------------

const CLOSES_FOR_BAD_TRANSPORT = new Set([1007, 1009]);
const stats = {
  frames: 0,
  handshakes: 0,
  refusedSends: 0,
  queued: 0,
  errors: {} as Record<string, number>,
  closes: {} as Record<number, number>,
};
let n = 0;
/** Every send case: its txnId and id, and whether parsing refused it at once (an error before the next pong). */
let sends: {
  txnId: string;
  id: string;
  from: number;
  client: RelayClient;
  verdict: 'refused' | 'unknown' | 'pending';
}[] = [];
let unanswered = 0;
const queuedTxnIds = new Set<string>();
const allRefused = new Set<string>();

/** Every socket the frames went to, and how many of its frames were checked. */
const sockets: { client: RelayClient; checked: number }[] = [];

/** Checks every frame not checked yet, on every socket (answers to sends may come any time later). */
function checkNewFrames(what: string): void {
  for (const s of sockets) {
    const fresh = s.client.frames.slice(s.checked);
    s.checked += fresh.length;
    checkFrames(fresh, what);
  }
}

function checkFrames(frames: readonly Frame[], what: string): void {
  for (const f of frames) {
    if (f.type === 'queued' && typeof f.txnId === 'string') queuedTxnIds.add(f.txnId);
    if (f.type !== 'error') continue;
    const errcode = String(f.errcode);
    stats.errors[errcode] = (stats.errors[errcode] ?? 0) + 1;
    if (errcode === 'M_UNKNOWN') throw new Error(`M_UNKNOWN for ${what}: ${JSON.stringify(f).slice(0, 300)}`);
    if (!/^[A-Z][A-Z0-9_]+$/.test(errcode) || typeof f.error !== 'string' || f.error.trim() === '')
      throw new Error(`malformed error frame for ${what}: ${JSON.stringify(f).slice(0, 300)}`);
    if (f.error.length > 1_000)
      throw new Error(`an unbounded error message (${f.error.length} characters) for ${what}`);
  }
}

/** The user every frame case is sent as (its message workflows are `msg:{tenant}:alice:{txnId}`). */
const SENDER = 'alice';

async function liveSocket(): Promise<RelayClient> {
  if (socket && socket.ws.readyState === socket.ws.OPEN) return socket;
  socket = await RelayClient.connect(url, tokens[SENDER]!);
  sockets.push({ client: socket, checked: 0 });
  await socket.waitFor((f) => f.type === 'live', 30_000);
  return socket;
}

/** Sends a ping after the case's frame and waits for its pong (frames are answered in order) or the close. */
async function sync(client: RelayClient, tag: string, from: number): Promise<'pong' | 'closed'> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if (client.ws.readyState !== client.ws.OPEN) return 'closed';
    const start = client.frames.length;
    client.ws.send(JSON.stringify({ type: 'ping', id: tag }));
    try {
      const answer = await client.waitFor(
        (f) => (f.type === 'pong' && f.id === tag) || f.errcode === 'M_LIMIT_EXCEEDED',
        15_000,
        Math.max(start, from),
      );
      if (answer.type === 'pong') return 'pong';
      await new Promise((r) => setTimeout(r, Number(answer.retryAfterMs ?? 100)));
    } catch (err) {
      if (client.ws.readyState !== client.ws.OPEN) return 'closed';
      throw err;
    }
  }
  throw new Error(`no pong for ${tag}`);
}

async function runFrameCase(c: Extract<WsCase, { kind: 'frame' }>): Promise<void> {
  const k = n++;
  const tag = `c${k}`;
  const txnId = `fz${k}`;
  let text = applyDamage(c.mutation ? mutate(c.base, c.mutation) : JSON.stringify(c.base), c.damage);
  text = text.replaceAll('@ID@', tag).replaceAll('@TXN@', txnId).replaceAll('@ROOM@', roomId);
  const client = await liveSocket();
  const from = client.frames.length;
  if (c.transport === 'binary') client.ws.send(Buffer.from(text), { binary: true });
  else if (c.transport === 'invalid-utf8')
    client.ws.send(Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.from([0xc3, 0x28, 0xff])]), { binary: false });
  else client.ws.send(text);
  stats.frames++;
  const outcome = await sync(client, `s${k}`, from);
  if (c.base.type === 'send') {
    // Answered before the pong: refused while parsing. By its id, it is this frame's refusal; without
    // one (the mutation broke the id) it may be another frame's late answer, so it is not judged alone.
    const errors = client.frames.slice(from).filter((f) => f.type === 'error' && f.errcode !== 'M_LIMIT_EXCEEDED');
    const verdict = errors.some((f) => f.id === tag)
      ? 'refused'
      : errors.some((f) => f.id === undefined && f.txnId === undefined)
        ? 'unknown'
        : 'pending';
    sends.push({ txnId, id: tag, from, client, verdict });
  }
  checkNewFrames(`frame ${k} (${text.slice(0, 120)}…)`);
  if (outcome === 'closed') {
    const { code } = await client.closed;
    stats.closes[code] = (stats.closes[code] ?? 0) + 1;
    if (!CLOSES_FOR_BAD_TRANSPORT.has(code))
      throw new Error(`socket closed with ${code} after frame ${k}: ${text.slice(0, 200)}`);
    const oversized = Buffer.byteLength(text) > Number(limits.RELAY_MAX_MESSAGE_BYTES);
    if (code === 1009 && !oversized) throw new Error(`1009 for a frame of ${Buffer.byteLength(text)} bytes`);
    if (code === 1007 && c.transport !== 'invalid-utf8') throw new Error(`1007 for valid UTF-8: ${text.slice(0, 200)}`);
    socket = null;
  }
}

/** One handshake on a fresh socket: its frames, how it closed, or the HTTP status that refused it. */
function handshake(
  query: string,
  token: string | null,
  via: 'protocol' | 'header' | 'query',
): Promise<{ frames: Frame[]; code: number | null; status: number | null }> {
  const target = new URL(`/v1/realtime${query}`, url.replace(/^http/, 'ws'));
  if (token && via === 'query') target.searchParams.set('access_token', token);
  const protocols = ['om-relay.v1', ...(token && via === 'protocol' ? [`bearer.${token}`] : [])];
  const ws = new WebSocket(target, protocols, {
    headers: token && via === 'header' ? { authorization: `Bearer ${token}` } : {},
  });
  const frames: Frame[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`handshake: no answer within 30 s; frames ${JSON.stringify(frames).slice(0, 300)}`));
    }, 30_000);
    const done = (code: number | null, status: number | null): void => {
      clearTimeout(timer);
      resolve({ frames, code, status });
    };
    ws.on('unexpected-response', (_req, res) => {
      ws.terminate();
      done(null, res.statusCode ?? 0);
    });
    ws.on('message', (data) => {
      frames.push(JSON.parse(String(data)) as Frame);
      if (frames[0]!.type === 'hello') ws.close(1000, 'fuzz: enough');
    });
    ws.on('close', (code) => done(code, null));
    ws.on('error', () => undefined);
  });
}

async function runHandshakeCase(c: Extract<WsCase, { kind: 'handshake' }>): Promise<void> {
  stats.handshakes++;
  const valid = ['alice', 'bob', 'other', 'hugeClaim'].includes(c.token);
  const what = `handshake with ${c.token} via ${c.via}, since ${c.since}`;
  const { frames, code, status } = await handshake(
    c.since === null ? '' : `?since=${c.since}`,
    tokens[c.token] ?? null,
    c.via,
  );
  checkFrames(frames, what);
  if (status !== null) {
    // Refused before the upgrade (a header or URL too long for the HTTP server): a 4xx, never a 5xx.
    stats.closes[status] = (stats.closes[status] ?? 0) + 1;
    if (status >= 500 || status < 400) throw new Error(`${what}: HTTP ${status}`);
    return;
  }
  stats.closes[code!] = (stats.closes[code!] ?? 0) + 1;
  const saidHello = frames[0]?.type === 'hello';
  const plainSince = c.since === null || /^\d{1,15}$/.test(c.since);
  if (valid && plainSince && !saidHello)
    throw new Error(`${what}: no hello but ${JSON.stringify(frames).slice(0, 300)}`);
  if (!valid && saidHello) throw new Error(`${what}: an invalid token was let in`);
  if (code === 1011 || code === 1006) throw new Error(`${what}: closed with ${code}`);
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

/** After each batch: the process serves, nothing escaped, and no refused send started a workflow. */
async function afterBatch(): Promise<void> {
  expect(apiProcess.child.exitCode).toBeNull();
  const health = await fetch(`${url}/healthz`);
  expect(health.status).toBe(200);
  expect(await metric('api_escaped_errors_total')).toBe(0);
  // Each send is answered (queued or error, by its id or txnId) before it is judged.
  const batch = sends;
  sends = [];
  const refused: string[] = [];
  for (const s of batch) {
    if (s.verdict === 'refused') refused.push(s.txnId);
    if (s.verdict !== 'pending') continue;
    const answer = await s.client
      .waitFor(
        (f) => (f.type === 'queued' || f.type === 'error') && (f.id === s.id || f.txnId === s.txnId),
        10_000,
        s.from,
      )
      .catch(() => null);
    if (answer === null) unanswered++;
    if (answer?.type === 'error' && !queuedTxnIds.has(s.txnId)) refused.push(s.txnId);
  }
  stats.refusedSends += refused.length;
  for (const t of refused) allRefused.add(t);
  checkNewFrames('late answers');
  await Promise.all(
    refused.map(async (txnId) => {
      const described = await api.temporal.workflow
        .getHandle(messageWorkflowId(tenant, SENDER, txnId))
        .describe()
        .then(() => 'exists')
        .catch((err: unknown) => (err instanceof WorkflowNotFoundError ? 'none' : err));
      if (described !== 'none') throw new Error(`refused send ${txnId} started a workflow (${String(described)})`);
      if (await accepted(txnId)) throw new Error(`refused send ${txnId} was recorded in the outbox`);
    }),
  );
  expect(unhandled).toEqual([]);
}

/** Whether the send was accepted: its row in the outbox (decision 0036). */
async function accepted(txnId: string): Promise<boolean> {
  const r = await api.db.query('SELECT 1 FROM message_outbox WHERE tenant = $1 AND user_slug = $2 AND txn_id = $3', [
    tenant,
    SENDER,
    txnId,
  ]);
  return r.rowCount === 1;
}

it(`${RUNS} hostile socket frames and handshakes: never M_UNKNOWN, only bad transport closes a socket; after each batch the API serves, nothing escaped, and refused sends started nothing`, async () => {
  console.log(`[fuzz-socket] seed ${SEED}, ${RUNS} runs (repeat with FUZZ_SEED=${SEED})`);
  const t0 = Date.now();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(wsCase, async (c) => {
      if (c.kind === 'frame') await runFrameCase(c);
      else await runHandshakeCase(c);
      if (++runs % BATCH === 0) await afterBatch();
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  await afterBatch();
  // The tenant's accepted messages (the outbox, decision 0036): every send that was queued, and
  // none that was refused. (A send queued on a socket that the next frame closed (1009) was
  // accepted without the client hearing so.)
  const queued = [...queuedTxnIds];
  stats.queued = queued.length;
  const rows = await api.db.query<{ txn_id: string }>(
    'SELECT txn_id FROM message_outbox WHERE tenant = $1 AND user_slug = $2',
    [tenant, SENDER],
  );
  const started = rows.rows.map((r) => r.txn_id);
  expect(queued.filter((t) => !started.includes(t))).toEqual([]);
  expect(started.filter((t) => allRefused.has(t))).toEqual([]);
  console.log(
    `[fuzz-socket] ${RUNS} cases in ${Date.now() - t0} ms (${unanswered} sends without a matching answer): ${JSON.stringify(stats)}`,
  );
  expect(stats.frames + stats.handshakes).toBe(RUNS);
}, 900_000);

it("answers the issue's frame (a ping nested 6,000 levels deep) with an error frame, and the socket and process keep serving", async () => {
  const client = await liveSocket();
  const from = client.frames.length;
  client.ws.send(`{"type":"ping","v":${'['.repeat(6_000)}${']'.repeat(6_000)}}`);
  client.send({ type: 'ping', id: 'after' });
  await client.waitFor((f) => f.type === 'pong' && f.id === 'after', 10_000, from);
  // The socket is the fuzz test's: pushes it earned there (unread counts, events, a late answer to one of
  // its queued sends, which names its id) may still arrive, so only frames answering these two compare.
  const answers = client.frames
    .slice(from)
    .filter((f) => f.type === 'pong' || (f.type === 'error' && f.id === undefined && f.txnId === undefined));
  expect(answers.map((f) => [f.type, f.errcode, f.error])).toEqual([
    ['error', 'M_BAD_JSON', 'frame is nested deeper than 16 levels'],
    ['pong', undefined, undefined],
  ]);
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  expect(await metric('api_escaped_errors_total')).toBe(0);
});
