/**
 * A fuzzer (fast-check): 10,000 hostile HTTP requests through the real app (`app.request`, real
 * Temporal with a worker on the app's task queue, real PostgreSQL and Synapse) — random methods,
 * paths built from the real route shapes with hostile segments (overlong, unicode, `..`, `%00`,
 * bad percent-escapes, control characters, SQL-ish strings), random headers with absent, malformed,
 * forged, expired and genuinely signed JWTs (so validation is reached), random and malformed JSON,
 * wrong content types, huge bodies and deep nesting. Properties: never a 5xx; every 4xx is
 * `{errcode, error}` with a message; no request hangs; /healthz answers afterwards. The seed is
 * printed; FUZZ_SEED=<n> repeats a run, FUZZ_RUNS=<n> changes its length.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { createTestApi, serviceToken, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('fuzz');
// Short waits: requests that pass validation answer 202 quickly instead of waiting for Matrix.
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '50', API_ACCEPT_TIMEOUT_MS: '5000' });
const tenant = uniqueTenant('fz');
// Unique too: a workflow id left running by an earlier run sits on that run's task queue, with no worker.
const otherTenant = uniqueTenant('fzo');
const SEED = process.env.FUZZ_SEED && /^-?\d+$/.test(process.env.FUZZ_SEED) ? Number(process.env.FUZZ_SEED) : 20261126;
const RUNS = process.env.FUZZ_RUNS && /^\d+$/.test(process.env.FUZZ_RUNS) ? Number(process.env.FUZZ_RUNS) : 10_000;
const REQUEST_TIMEOUT_MS = 15_000;

let api: TestApi;
let worker: RunningProcess;
const tokens: Record<string, string> = {};
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown): void => void unhandled.push(err);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  const wrongSecret = new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret');
  Object.assign(tokens, {
    all: await serviceToken(config),
    own: await serviceToken(config, { tenants: [tenant] }),
    other: await serviceToken(config, { tenants: [otherTenant] }),
    expired: await serviceToken(config, { tenants: ['*'] }, { expiresIn: -60 }),
    wrongAudience: await serviceToken(config, { tenants: ['*'] }, { audience: 'evil' }),
    wrongSecret: await serviceToken(config, { tenants: ['*'] }, { secret: wrongSecret }),
    badTenantsClaim: await serviceToken(config, { tenants: 'acme' }),
    numericTenants: await serviceToken(config, { tenants: [1, 2] }),
    emptyTenants: await serviceToken(config, { tenants: [] }),
    noExp: await new SignJWT({ tenants: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(config.serviceJwt.issuer)
      .setAudience(config.serviceJwt.audience)
      .sign(config.serviceJwt.secret!),
    hs512: await new SignJWT({ tenants: ['*'] })
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuer(config.serviceJwt.issuer)
      .setAudience(config.serviceJwt.audience)
      .setExpirationTime('1h')
      .sign(config.serviceJwt.secret!),
    // alg "none": a forged token with no signature at all.
    none: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({
        tenants: ['*'],
        iss: config.serviceJwt.issuer,
        aud: config.serviceJwt.audience,
        exp: 9999999999,
      }),
    ).toString('base64url')}.`,
    user: await userToken(config, tenant, 'alice'),
    userOther: await userToken(config, otherTenant, 'mallory'),
    userBadSub: await userToken(config, tenant, '../../etc/passwd'),
    hsToken: config.matrix.hsToken,
  });
}, 120_000);
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await api?.close();
  await worker?.stop();
});

// --- arbitraries -----------------------------------------------------------------------------------

const hostileSegment = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E%2E%2F',
    '%00',
    'a%00b',
    '%',
    '%zz',
    '%C0%AF',
    '%E0%A4%A',
    '%F0%9F%98',
    "' OR 1=1--",
    "'; DROP TABLE rooms;--",
    '" OR ""="',
    '%27%3B%20DROP%20TABLE%20matrix_users%3B--',
    '<script>alert(1)</script>',
    '${jndi:ldap://x}',
    '__proto__',
    'constructor',
    '%0d%0aSet-Cookie:%20x=1',
    '%09',
    '%7f',
    'ｅｖｅｎｔ',
    encodeURIComponent('ç‰¹æ®Š'),
    encodeURIComponent('👩‍👩‍👧'),
    encodeURIComponent('\u202e\u0000\uffff'),
    '~',
    '-',
    '_',
    'UPPER',
    'a'.repeat(101),
    'x'.repeat(5000),
    '9'.repeat(40),
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '?'))),
  // Overlong but otherwise valid: random *valid* slugs would each start a workflow and a Matrix account.
  fc.stringMatching(/^[A-Za-z0-9._~-]{101,140}$/),
);

const tenantSeg = fc.oneof({ weight: 8, arbitrary: fc.constant(tenant) }, fc.constant(otherTenant), hostileSegment);
const kindSeg = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('event', 'group', 'dm') }, hostileSegment);
const slugSeg = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('alpha', 'beta', 'alice~bob', 'alice') },
  hostileSegment,
);

const routePath = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(tenantSeg).map(([t]) => `/v1/tenants/${t}/users`) },
  fc.tuple(tenantSeg, kindSeg, slugSeg).map(([t, k, s]) => `/v1/tenants/${t}/rooms/${k}/${s}`),
  fc.tuple(tenantSeg, kindSeg, slugSeg, slugSeg).map(([t, k, s, u]) => `/v1/tenants/${t}/rooms/${k}/${s}/members/${u}`),
  fc
    .tuple(tenantSeg, kindSeg, slugSeg, fc.constantFrom('reconcile', 'messages', 'typing', 'receipts'))
    .map(([t, k, s, tail]) => `/v1/tenants/${t}/rooms/${k}/${s}/${tail}`),
  fc.tuple(tenantSeg, fc.constantFrom('dms', 'events')).map(([t, tail]) => `/v1/tenants/${t}/${tail}`),
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(
          `user:${tenant}:alice`,
          `room:${tenant}:event:alpha`,
          `msg:${tenant}:x`,
          `msg:${tenant}:alice:x`,
          `ephemeral:${tenant}:alice:event:alpha`,
          'user:::',
        ),
        hostileSegment,
      ),
    )
    .map(([w]) => `/v1/operations/${w}`),
  fc.constantFrom(
    '/v1/realtime',
    '/v1/realtime?since=-1',
    '/v1/realtime?since=99999999999999999999',
    '/codec/encode',
    '/codec/decode',
  ),
  fc.tuple(hostileSegment).map(([x]) => `/_matrix/app/v1/transactions/${x}`),
  fc.tuple(hostileSegment).map(([x]) => `/_matrix/app/v1/users/${x}`),
  fc.tuple(hostileSegment).map(([x]) => `/_matrix/app/v1/rooms/${x}`),
  fc.constantFrom(
    '/_matrix/app/v1/ping',
    '/healthz',
    '/readyz',
    '/metrics',
    '/demo/',
    '/demo',
    '/',
    '/v1',
    '/v1/tenants',
    '//v1//tenants//',
  ),
  fc.array(hostileSegment, { minLength: 1, maxLength: 6 }).map((segs) => `/${segs.join('/')}`),
  fc.array(hostileSegment, { minLength: 1, maxLength: 4 }).map((segs) => `/v1/tenants/${segs.join('/')}`),
);

const query = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  fc
    .array(
      fc.tuple(
        fc.constantFrom('before', 'limit', 'since', 'userSlug', 'access_token', 'x', '__proto__'),
        fc.oneof(hostileSegment, fc.integer().map(String), fc.constantFrom('', '0', '100', '101', '-1', '1e3', 'NaN')),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((kv) => `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`),
);

const authorization = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .constantFrom('all', 'all', 'all', 'all', 'all', 'all', 'own', 'user', 'hsToken')
      .map((k) => `Bearer @${k}`),
  },
  fc
    .constantFrom(
      'other',
      'expired',
      'wrongAudience',
      'wrongSecret',
      'badTenantsClaim',
      'numericTenants',
      'emptyTenants',
      'noExp',
      'hs512',
      'none',
      'userOther',
      'userBadSub',
      'hsToken',
    )
    .map((k) => `Bearer @${k}`),
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    'bearer   x',
    'Basic dXNlcjpwYXNz',
    'Bearer a.b.c',
    'Bearer eyJhbGciOiJIUzI1NiJ9.e30.',
    'Bearer @all extra',
  ),
  fc.string({ maxLength: 60 }).map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, '')}`),
);

const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    undefined,
    'text/plain',
    'application/json; charset=utf-16',
    'application/jsonx',
    'APPLICATION/JSON',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    '*/*',
    'application/json; charset="><script>',
  ),
);

const fieldNames = [
  'slug',
  'displayName',
  'name',
  'topic',
  'visibility',
  'encrypted',
  'role',
  'users',
  'type',
  'data',
  'txnId',
  'body',
  'msgtype',
  'userSlug',
  'typing',
  'eventId',
  'payloads',
  'events',
  'ephemeral',
  '__proto__',
  'constructor',
];
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    'alice',
    'alpha',
    'Alice',
    'host',
    'member',
    'owner',
    'public',
    'private',
    'chat.event.created',
    'chat.dm.created',
    'chat.event.member.add',
    'm.text',
    '$abc',
    'x'.repeat(17_000),
    '\u0000',
    'a\u0000b',
    '\ud800',
    '',
    ' ',
    "' OR 1=1--",
  ),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.array(fc.constantFrom('alice', 'bob', '', '..', 'alice'), { maxLength: 4 }),
  fc.boolean(),
  fc.integer(),
  fc.double(),
);
const structuredBody = fc.dictionary(fc.constantFrom(...fieldNames), hostileValue, { maxKeys: 5 });
const eventBody = fc.record({
  type: fc.oneof(
    fc.constantFrom(
      'chat.event.created',
      'chat.event.updated',
      'chat.event.member.add',
      'chat.event.member.remove',
      'chat.event.member.role',
      'chat.event.deleted',
      'chat.group.created',
      'chat.dm.created',
      'chat.nope',
    ),
    fc.string({ maxLength: 20 }),
  ),
  data: fc.oneof(fc.dictionary(fc.constantFrom(...fieldNames), hostileValue, { maxKeys: 4 }), hostileValue),
});
const transactionBody = fc.record({
  events: fc.oneof(
    fc.array(
      fc.record({
        type: fc.constantFrom('m.room.message', 'm.room.member', 'm.typing', '\u0000', ''),
        room_id: fc.oneof(fc.constantFrom('!a:localhost', '\u0000', ''), fc.string({ unit: 'binary', maxLength: 10 })),
        event_id: fc.oneof(fc.constantFrom('$e', '\u0000'), fc.string({ maxLength: 10 })),
        sender: fc.oneof(fc.constant('@om_x_y:localhost'), fc.string({ unit: 'binary', maxLength: 10 })),
        content: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ body: 'a\u0000b' })),
        state_key: fc.option(fc.string({ maxLength: 8 })),
        origin_server_ts: fc.oneof(fc.integer(), fc.double(), fc.constant('now')),
      }),
      { maxLength: 3 },
    ),
    hostileValue,
  ),
  'de.sorunome.msc2409.ephemeral': fc.option(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 })),
});
const rawBody = fc.oneof(
  fc.constantFrom(
    '',
    '{',
    '{"a":',
    '[]',
    'null',
    'true',
    '"string"',
    '12',
    '{"slug":"alice","displayName":"A",}',
    '\u0000',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"slug":"a","slug":"b"}',
    '\ufeff{"slug":"alice","displayName":"Alice"}',
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.integer({ min: 1, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 1, max: 5_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.integer({ min: 60_000, max: 300_000 }).map((n) => JSON.stringify({ slug: 'alice', displayName: 'x'.repeat(n) })),
  fc.constant(`{"payloads":[${Array.from({ length: 2000 }, () => '{"metadata":{},"data":"AAAA"}').join(',')}]}`),
);
const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: structuredBody.map((o) => JSON.stringify(o)) },
  eventBody.map((o) => JSON.stringify(o)),
  transactionBody.map((o) => JSON.stringify(o)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  rawBody,
);

/** Fields that fit the route, so requests get past JSON parsing to validation and into workflows. */
const plausible = fc.record({
  slug: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('alice', 'bob') }, hostileSegment.map(decodeSafely)),
  name: fc.oneof(
    fc.constantFrom('Alice', 'A room'),
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
  ),
  role: fc.constantFrom('host', 'moderator', 'speaker', 'member', 'owner', 'admin', 'god', ''),
  txnId: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,12}$/), hostileSegment.map(decodeSafely)),
  type: fc.constantFrom(
    'chat.event.created',
    'chat.event.member.add',
    'chat.group.member.role',
    'chat.dm.created',
    'chat.event.deleted',
    'nope',
  ),
  extra: fc.option(fc.tuple(fc.constantFrom(...fieldNames, 'unknown'), hostileValue), { freq: 3 }),
});

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function plausibleBody(path: string, p: typeof plausible extends fc.Arbitrary<infer T> ? T : never): string {
  let o: Record<string, unknown>;
  if (/\/users$/.test(path)) o = { slug: p.slug, displayName: p.name };
  else if (/\/members\/[^/]+$/.test(path)) o = { role: p.role, displayName: p.name };
  else if (/\/messages$/.test(path)) o = { txnId: p.txnId, body: p.name, userSlug: p.slug };
  else if (/\/typing$/.test(path)) o = { typing: p.name.length % 2 === 0, userSlug: p.slug };
  else if (/\/receipts$/.test(path)) o = { eventId: `$${p.txnId}`, userSlug: p.slug };
  else if (/\/dms$/.test(path)) o = { users: [p.slug, 'bob'] };
  else if (/\/events$/.test(path))
    o = { type: p.type, data: { slug: 'alpha', userSlug: p.slug, role: p.role, name: p.name, users: [p.slug, 'bob'] } };
  else if (/^\/codec\//.test(path)) o = { payloads: [] };
  else if (/\/transactions\//.test(path)) o = { events: [] };
  else o = { name: p.name, visibility: p.name.length % 3 === 0 ? 'public' : 'private' };
  if (p.extra) o[p.extra[0]] = p.extra[1];
  return JSON.stringify(o);
}

const request = fc.record({
  method: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE') },
    fc.constantFrom('PATCH', 'HEAD', 'OPTIONS'),
  ),
  path: routePath,
  query,
  authorization: fc.option(authorization, { freq: 6 }),
  contentType,
  body,
  plausible: fc.option(plausible, { freq: 2 }),
  requestId: fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.constant('a'.repeat(65))), { freq: 4 }),
  origin: fc.option(fc.constantFrom('http://evil.example', 'null', 'http://127.0.0.1:1'), { freq: 8 }),
});

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function toInit(r: FuzzRequest): { url: string; init: RequestInit } {
  const headers: Record<string, string> = {};
  if (r.authorization !== null) {
    headers.authorization = r.authorization.replace(/@([A-Za-z0-9]+)/, (m, k: string) => tokens[k] ?? m);
  }
  if (r.contentType) headers['content-type'] = r.contentType;
  if (r.requestId !== null) headers['x-request-id'] = r.requestId.replace(/[^\x20-\x7e]/g, '');
  if (r.origin !== null) headers.origin = r.origin;
  const text = r.plausible ? plausibleBody(r.path, r.plausible) : r.body;
  const hasBody = text !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
  return { url: `${r.path}${r.query}`, init: { method: r.method, headers, ...(hasBody ? { body: text } : {}) } };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

// --- the property ----------------------------------------------------------------------------------

it(`${RUNS} hostile requests: never a 5xx, every 4xx a Matrix-style error with a message, none hangs; the app still answers /healthz`, async () => {
  console.log(`[fuzz] seed ${SEED}, ${RUNS} runs (repeat with FUZZ_SEED=${SEED})`);
  const statuses: Record<number, number> = {};
  let refusedByFetch = 0;
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const { url, init } = toInit(r);
      let req: Request;
      try {
        req = new Request(`http://localhost${url}`, init);
      } catch {
        // A URL or header the Fetch API itself refuses never reaches a server: not the app's problem.
        refusedByFetch++;
        return;
      }
      const res = await withTimeout(Promise.resolve(api.app.request(req)), REQUEST_TIMEOUT_MS, `${r.method} ${url}`);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const text =
        r.method === 'HEAD' ? '' : await withTimeout(res.text(), REQUEST_TIMEOUT_MS, `body of ${r.method} ${url}`);
      if (res.status >= 500) throw new Error(`${res.status} for ${r.method} ${url}: ${text.slice(0, 300)}`);
      if (res.status >= 400 && r.method !== 'HEAD') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new Error(`${res.status} for ${r.method} ${url} is not JSON: ${text.slice(0, 200)}`);
        }
        const e = parsed as { errcode?: unknown; error?: unknown };
        if (
          typeof e.errcode !== 'string' ||
          !/^[A-Z][A-Z0-9_]+$/.test(e.errcode) ||
          typeof e.error !== 'string' ||
          e.error.trim() === ''
        ) {
          throw new Error(`${res.status} for ${r.method} ${url} is not {errcode, error}: ${text.slice(0, 200)}`);
        }
      }
    }),
    { seed: SEED, numRuns: RUNS, verbose: 1 },
  );
  console.log(
    `[fuzz] ${RUNS} requests in ${Date.now() - started} ms (${refusedByFetch} refused by the Fetch API itself); statuses ${JSON.stringify(statuses)}`,
  );
  expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(RUNS * 0.95);
  expect(Object.keys(statuses).filter((s) => Number(s) >= 500)).toEqual([]);

  const health = await api.app.request('/healthz');
  expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
  expect(worker.child.exitCode).toBeNull();
  expect(unhandled).toEqual([]);
}, 900_000);

// Regressions the fuzzer found: a NUL in what the appservice routes store or look up in PostgreSQL
// (text columns refuse it) answered 500 — and Synapse retries a refused transaction forever.
it('appservice routes answer NUL in ids as bad input or unknown, and store a transaction whose event ids hold NUL without them', async () => {
  const hs = { authorization: `Bearer ${config.matrix.hsToken}`, 'content-type': 'application/json' };
  const txn = await api.app.request('/_matrix/app/v1/transactions/%00', {
    method: 'PUT',
    headers: hs,
    body: '{"events":[]}',
  });
  expect([txn.status, await txn.json()]).toEqual([
    400,
    { errcode: 'M_INVALID_PARAM', error: 'transaction id must not contain NUL' },
  ]);
  for (const path of ['/_matrix/app/v1/users/%00', '/_matrix/app/v1/rooms/%23a%00b']) {
    const res = await api.app.request(path, { headers: hs });
    expect([res.status, ((await res.json()) as { errcode: string }).errcode]).toEqual([404, 'M_NOT_FOUND']);
  }
  const poisoned = {
    events: [
      {
        type: 'm.room.message',
        room_id: '!fuzz:localhost',
        event_id: '$a\u0000b',
        sender: '@x:localhost',
        content: { body: 'hi' },
      },
    ],
  };
  const stored = await api.app.request(`/_matrix/app/v1/transactions/fuzz-${tenant}`, {
    method: 'PUT',
    headers: hs,
    body: JSON.stringify(poisoned),
  });
  expect([stored.status, await stored.json()]).toEqual([200, {}]);
  const rows = await api.db.query("SELECT count(*)::int AS n FROM relay_events WHERE room_id = '!fuzz:localhost'");
  expect(rows.rows[0].n).toBe(0);
});
