/**
 * A fuzzer (fast-check): 10,000 hostile HTTP requests through the real app (`app.request`, real
 * Temporal with a worker on the app's task queue, real PostgreSQL and Synapse) — random methods,
 * paths built from the real route shapes with hostile segments (overlong, unicode, `..`, `%00`,
 * bad percent-escapes, control characters, SQL-ish strings), random headers with absent, malformed,
 * forged, expired and genuinely signed JWTs (so validation is reached), random and malformed JSON,
 * wrong content types, huge bodies and deep nesting — and structure-aware bodies: each route's
 * valid-shaped body with one hostile mutation at any level of it (test/helpers/hostile-json.ts:
 * deep nesting, huge numbers, long strings, unicode and NUL, `__proto__`/`constructor` keys, wrong
 * types, fields left out or added). Properties: never a 5xx; every 4xx is `{errcode, error}` with
 * a bounded message; no request hangs; after each batch /healthz answers, nothing escaped (the
 * process guard's counter is 0, no unhandled rejection), and the users, rooms and members stored
 * for the fuzzed tenants are only ones an accepted request named (a refused one stored nothing).
 * The seed is printed; FUZZ_SEED=<n> repeats a run, FUZZ_RUNS=<n> changes its length.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { recordEscapedError } from '../../api/request-context.js';
import { createLogger } from '../../lib/log.js';
import { createTestApi, serviceToken, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { applyDamage, damage, mutate, mutation } from '../helpers/hostile-json.js';
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
const BATCH = 500;

let api: TestApi;
let worker: RunningProcess;
const tokens: Record<string, string> = {};
const unhandled: unknown[] = [];
const silent = createLogger('fuzz-api', 'silent');
// The process guard of api/main.ts, as this process's: anything reaching it is counted (and fails the run).
const onUnhandled = (err: unknown): void => {
  unhandled.push(err);
  recordEscapedError(silent, 'unhandledRejection', err);
};

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
  fc.tuple(tenantSeg).map(([t]) => `/v1/tenants/${t}/users:batch`),
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

function plausibleBody(
  path: string,
  p: typeof plausible extends fc.Arbitrary<infer T> ? T : never,
): Record<string, unknown> {
  let o: Record<string, unknown>;
  if (/\/users:batch$/.test(path)) o = { users: [{ slug: p.slug, displayName: p.name }, { slug: 'bob', displayName: 'Bob' }] };
  else if (/\/users$/.test(path)) o = { slug: p.slug, displayName: p.name };
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
  if (p.extra) Object.defineProperty(o, p.extra[0], { value: p.extra[1], enumerable: true, writable: true });
  return o;
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
  // With a plausible body: one hostile mutation somewhere in it (most of the time), or damage to its text.
  mutation: fc.option(mutation, { freq: 4 }),
  damage,
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
  const text = r.plausible
    ? applyDamage(
        r.mutation
          ? mutate(plausibleBody(r.path, r.plausible), r.mutation)
          : JSON.stringify(plausibleBody(r.path, r.plausible)),
        r.damage,
      )
    : r.body;
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

// --- state: what refused requests must not have stored ------------------------------------------

/** Every string an accepted (2xx) request named, in its path or anywhere in its body. */
const named = new Set<string>();

/** A name, and (a DM's slug being its two users' slugs joined by "~") the users it names. */
const name = (s: string): void => {
  named.add(s);
  if (s.includes('~')) for (const part of s.split('~')) named.add(part);
};

function nameAll(url: string, body: string | undefined): void {
  for (const seg of url.split(/[/?&=]/)) name(decodeSafely(seg));
  if (body === undefined) return;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return;
  }
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') name(v);
    else if (v !== null && typeof v === 'object') stack.push(...Object.values(v));
  }
}

/**
 * The users, rooms and members stored for the fuzzed tenants are ones accepted requests named: a
 * refused request (4xx) stored nothing (workflows that accepted ones started may still be writing,
 * which only ever adds named rows).
 */
async function storedOnlyWhatWasAccepted(): Promise<void> {
  const tenants = [tenant, otherTenant];
  const users = await api.db.query<{ slug: string }>('SELECT slug FROM matrix_users WHERE tenant = ANY($1)', [tenants]);
  const rooms = await api.db.query<{ kind: string; slug: string }>(
    'SELECT kind, slug FROM rooms WHERE tenant = ANY($1)',
    [tenants],
  );
  const members = await api.db.query<{ user_slug: string }>(
    'SELECT user_slug FROM room_members WHERE tenant = ANY($1)',
    [tenants],
  );
  const unnamed = [
    ...users.rows.map((r) => r.slug),
    // A DM's slug is made of its two users' slugs (a DM is named by its two users, or by its slug).
    ...rooms.rows.flatMap((r) => (r.kind === 'dm' && !named.has(r.slug) ? r.slug.split('~') : [r.slug])),
    ...members.rows.map((r) => r.user_slug),
  ].filter((slug) => !named.has(slug));
  expect(unnamed).toEqual([]);
}

async function afterBatch(): Promise<void> {
  const health = await api.app.request('/healthz');
  expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
  const metrics = await (await api.app.request('/metrics')).text();
  expect(/^api_escaped_errors_total (\d+)$/m.exec(metrics)?.[1]).toBe('0');
  expect(worker.child.exitCode).toBeNull();
  expect(unhandled).toEqual([]);
  await storedOnlyWhatWasAccepted();
}

// --- the property ----------------------------------------------------------------------------------

it(`${RUNS} hostile requests: never a 5xx, every 4xx a bounded Matrix-style error, none hangs; after each batch the app serves, nothing escaped, and refused requests stored nothing`, async () => {
  console.log(`[fuzz] seed ${SEED}, ${RUNS} runs (repeat with FUZZ_SEED=${SEED})`);
  const statuses: Record<number, number> = {};
  let refusedByFetch = 0;
  const started = Date.now();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      if (++runs % BATCH === 0) await afterBatch();
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
      if (res.status < 300) nameAll(url, typeof init.body === 'string' ? init.body : undefined);
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
          e.error.trim() === '' ||
          e.error.length > 1_000
        ) {
          throw new Error(`${res.status} for ${r.method} ${url} is not {errcode, error}: ${text.slice(0, 200)}`);
        }
      }
    }),
    { seed: SEED, numRuns: RUNS, verbose: 1, endOnFailure: true },
  );
  await afterBatch();
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

// --- structure-aware bodies, route by route --------------------------------------------------------

/**
 * Each route that reads a JSON body: a valid path, the token it takes, and a valid body. Rooms whose
 * settings the bodies change (alpha, beta) are not the ones members are added to (gamma): a room
 * made public while a member is being added is a race of the room workflow, not of parsing.
 */
const bodyRoutes = (): { method: string; path: string; token: string; body: unknown }[] => {
  const room = `/v1/tenants/${tenant}/rooms`;
  // A room nobody created: the relay routes read the body, then find no room (nothing is sent).
  const nowhere = `${room}/event/fz-nowhere`;
  return [
    {
      method: 'POST',
      path: `/v1/tenants/${tenant}/users`,
      token: 'all',
      body: { slug: 'alice', displayName: 'Alice' },
    },
    {
      method: 'POST',
      path: `/v1/tenants/${tenant}/users:batch`,
      token: 'all',
      body: { users: [{ slug: 'alice', displayName: 'Alice' }, { slug: 'bob', displayName: 'Bob' }] },
    },
    {
      method: 'PUT',
      path: `${room}/event/alpha`,
      token: 'own',
      body: { name: 'Alpha', topic: 'A topic', visibility: 'private' },
    },
    { method: 'PUT', path: `${room}/dm/alice~bob`, token: 'all', body: { name: 'A DM', encrypted: false } },
    {
      method: 'PUT',
      path: `${room}/group/gamma/members/bob`,
      token: 'all',
      body: { role: 'member', displayName: 'Bob' },
    },
    {
      method: 'POST',
      path: `/v1/tenants/${tenant}/dms`,
      token: 'all',
      body: { users: ['alice', 'bob'], encrypted: false, name: 'DM' },
    },
    {
      method: 'POST',
      path: `/v1/tenants/${tenant}/events`,
      token: 'all',
      body: {
        type: 'chat.event.member.add',
        data: { slug: 'alpha', userSlug: 'bob', role: 'speaker', displayName: 'Bob' },
      },
    },
    {
      method: 'POST',
      path: `/v1/tenants/${tenant}/events`,
      token: 'own',
      body: { type: 'chat.group.created', data: { slug: 'beta', name: 'Beta', visibility: 'public' } },
    },
    {
      method: 'POST',
      path: `/v1/tenants/${tenant}/events`,
      token: 'all',
      body: { type: 'chat.dm.created', data: { users: ['alice', 'bob'] } },
    },
    {
      method: 'POST',
      path: `${nowhere}/messages`,
      token: 'user',
      body: { txnId: 'fz-body-1', body: 'hi\nthere', msgtype: 'm.text' },
    },
    {
      method: 'POST',
      path: `${nowhere}/messages`,
      token: 'all',
      body: { txnId: 'fz-body-2', body: 'hi', userSlug: 'alice' },
    },
    { method: 'PUT', path: `${nowhere}/typing`, token: 'user', body: { typing: true } },
    { method: 'POST', path: `${nowhere}/receipts`, token: 'all', body: { eventId: '$abc', userSlug: 'alice' } },
    {
      method: 'POST',
      path: '/codec/decode',
      token: 'none',
      body: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'e30=' }] },
    },
    {
      method: 'POST',
      path: '/codec/encode',
      token: 'none',
      body: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'e30=' }] },
    },
  ];
};
const bodyCase = fc.record({
  route: fc.nat(),
  mutation,
  damage,
  // Most with the right token; some with none or a wrong one (the body must not matter then).
  token: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, fc.constantFrom('none', 'expired', 'userOther')),
});

it(`${RUNS} valid-shaped bodies, one hostile mutation each, on every route that reads one: never a 5xx, every 4xx bounded; after each batch the app serves, nothing escaped, and refused requests stored nothing`, async () => {
  console.log(`[fuzz] bodies: seed ${SEED}, ${RUNS} runs (repeat with FUZZ_SEED=${SEED})`);
  const routes = bodyRoutes();
  const statuses: Record<number, number> = {};
  const started = Date.now();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(bodyCase, async (b) => {
      if (++runs % BATCH === 0) await afterBatch();
      const route = routes[b.route % routes.length]!;
      const text = applyDamage(mutate(route.body, b.mutation), b.damage);
      const tokenName = b.token ?? route.token;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (tokenName !== 'none') headers.authorization = `Bearer ${tokens[tokenName]}`;
      const res = await withTimeout(
        Promise.resolve(api.app.request(route.path, { method: route.method, headers, body: text })),
        REQUEST_TIMEOUT_MS,
        `${route.method} ${route.path}`,
      );
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const answer = await res.text();
      const what = `${res.status} for ${route.method} ${route.path} with ${text.slice(0, 200)}`;
      if (res.status >= 500) throw new Error(`${what}: ${answer.slice(0, 300)}`);
      if (res.status < 300) {
        nameAll(route.path, text);
        return;
      }
      const e = JSON.parse(answer) as { errcode?: unknown; error?: unknown };
      if (
        typeof e.errcode !== 'string' ||
        typeof e.error !== 'string' ||
        e.error.trim() === '' ||
        e.error.length > 1_000
      )
        throw new Error(`${what} is not a bounded {errcode, error}: ${answer.slice(0, 300)}`);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  await afterBatch();
  console.log(`[fuzz] ${RUNS} bodies in ${Date.now() - started} ms; statuses ${JSON.stringify(statuses)}`);
  expect(Object.keys(statuses).filter((st) => Number(st) >= 500)).toEqual([]);
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
