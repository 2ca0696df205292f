/**
 * A fuzzer (fast-check) for the appservice transaction endpoint (PUT /_matrix/app/v1/transactions/
 * {txnId}) through the real app and PostgreSQL: 10,000 valid-shaped transactions (timeline events,
 * ephemeral ones under the stable or the unstable key) with one hostile mutation at any level —
 * event content nested up to 20,000 levels (the issue's 8,000-level event among them), huge numbers,
 * long strings, unicode, NUL and lone surrogates, prototype keys (legitimate in event content),
 * wrong types, fields left out or added — plus truncated and garbage bodies, hostile transaction
 * ids, and the right, a wrong or no hs_token. Properties: never a 5xx; every refusal is a 4xx
 * `{errcode, error}` with a bounded message; a refused transaction left no row in
 * appservice_transactions and none of its events in relay_events; a stored one has its row; after
 * each batch /healthz answers, nothing escaped (the process guard's counter on /metrics is 0, no
 * unhandled rejection). The seed is printed; FUZZ_SEED=<n> repeats a run, FUZZ_RUNS=<n> changes
 * its length.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { recordEscapedError } from '../../api/request-context.js';
import { createLogger } from '../../lib/log.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig } from '../helpers/env.js';
import { applyDamage, damage, mutate, mutation, nestedText } from '../helpers/hostile-json.js';

const SEED = process.env.FUZZ_SEED && /^-?\d+$/.test(process.env.FUZZ_SEED) ? Number(process.env.FUZZ_SEED) : 20261205;
const RUNS = process.env.FUZZ_RUNS && /^\d+$/.test(process.env.FUZZ_RUNS) ? Number(process.env.FUZZ_RUNS) : 10_000;
const BATCH = 500;

const config = testConfig();
// Never all digits: a numeric id would seed the gap watch of API processes started after this file.
const run = `fz${randomBytes(4).toString('hex')}`;
let api: TestApi;
const unhandled: unknown[] = [];
const silent = createLogger('fuzz-appservice', 'silent');
// The process guard of api/main.ts, as this process's: anything reaching it is counted (and fails the run).
const onUnhandled = (err: unknown): void => {
  unhandled.push(err);
  recordEscapedError(silent, 'unhandledRejection', err);
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  api = await createTestApi(config);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await api?.close();
});

// --- arbitraries -----------------------------------------------------------------------------------

const message = (i: number) => ({
  type: 'm.room.message',
  event_id: `@EVENT${i}@`,
  room_id: '@ROOM@',
  sender: '@someone:localhost',
  origin_server_ts: 1_700_000_000_000,
  content: { msgtype: 'm.text', body: 'hello', 'm.relates_to': { rel_type: 'm.thread', event_id: '$root' } },
  unsigned: { age: 5 },
});
const member = {
  type: 'm.room.member',
  event_id: '@EVENT9@',
  room_id: '@ROOM@',
  sender: '@someone:localhost',
  state_key: '@someone:localhost',
  content: { membership: 'join', displayname: 'Someone' },
};
const typing = { type: 'm.typing', room_id: '@ROOM@', content: { user_ids: ['@someone:localhost'] } };
const receipt = {
  type: 'm.receipt',
  room_id: '@ROOM@',
  content: { $e: { 'm.read': { '@someone:localhost': { ts: 1_700_000_000_000 } } } },
};
const baseTransaction = fc
  .record({
    events: fc.subarray([message(0), message(1), member, message(2)], { minLength: 0 }),
    ephemeral: fc.subarray([typing, receipt]),
    key: fc.constantFrom('ephemeral', 'de.sorunome.msc2409.ephemeral', null),
  })
  .map(({ events, ephemeral, key }) => ({ events, ...(key ? { [key]: ephemeral } : {}) }));

const txnIdCase = fc.oneof(
  { weight: 20, arbitrary: fc.constant('@TXN@') },
  fc.constantFrom('%00', 'a%00b', '%2e%2e', '%E0%A4%A', 'x'.repeat(256), `@TXN@${encodeURIComponent('\u202e😀')}`),
);
const caseArb = fc.record({
  base: baseTransaction,
  mutation: fc.option(mutation, { freq: 8 }),
  damage,
  txnId: txnIdCase,
  token: fc.oneof(
    { weight: 8, arbitrary: fc.constant('right' as const) },
    fc.constantFrom('wrong' as const, 'none' as const, 'query' as const),
  ),
  // The issue's transaction, as it was sent.
  issue: fc.oneof({ weight: 49, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

// --- running a case --------------------------------------------------------------------------------

const stats = { stored: 0, refused: 0, statuses: {} as Record<number, number> };
let n = 0;
/** Transactions answered with a refusal (txnId, its event ids), checked against the database per batch. */
let refused: { txnId: string; eventIds: string[] }[] = [];
let stored: string[] = [];

async function runCase(c: Case): Promise<void> {
  const k = n++;
  const txnId = `${run}-${k}`;
  const roomId = `!${run}-${k % 7}:localhost`;
  let text = c.issue
    ? `{"events":[{"type":"m.room.message","event_id":"@EVENT0@","room_id":"@ROOM@","sender":"@a:localhost","content":{"body":"x","deep":${nestedText(8_000)}}}]}`
    : applyDamage(c.mutation ? mutate(c.base, c.mutation) : JSON.stringify(c.base), c.damage);
  const eventIds = [0, 1, 2, 9].map((i) => `$${run}_${k}_${i}`);
  text = text.replaceAll('@ROOM@', roomId).replace(/@EVENT(\d)@/g, (_m, i: string) => `$${run}_${k}_${i}`);
  const pathTxn = c.txnId.replace('@TXN@', txnId);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  let query = '';
  if (c.token === 'right') headers.authorization = `Bearer ${config.matrix.hsToken}`;
  if (c.token === 'wrong') headers.authorization = `Bearer ${config.matrix.hsToken}x`;
  if (c.token === 'query') query = `?access_token=${encodeURIComponent(config.matrix.hsToken)}`;
  const res = await api.app.request(`/_matrix/app/v1/transactions/${pathTxn}${query}`, {
    method: 'PUT',
    headers,
    body: text,
  });
  const answer = await res.text();
  stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
  const ours = pathTxn === txnId; // a hostile id may repeat; only ours are unique per case
  const what = `transaction ${k} (${res.status}): ${text.slice(0, 200)}`;
  if (res.status >= 500) throw new Error(`${res.status} ${answer.slice(0, 300)} for ${what}`);
  if (res.status === 200) {
    stats.stored++;
    if (ours) stored.push(txnId);
    return;
  }
  stats.refused++;
  if (process.env.FUZZ_DEBUG) console.log(res.status, answer.slice(0, 200), text.slice(0, 200));
  const e = JSON.parse(answer) as { errcode?: unknown; error?: unknown };
  if (typeof e.errcode !== 'string' || typeof e.error !== 'string' || e.error.trim() === '' || e.error.length > 1_000)
    throw new Error(`not a bounded {errcode, error}: ${answer.slice(0, 300)} for ${what}`);
  if (c.issue && ours && c.token !== 'wrong' && c.token !== 'none')
    expect([res.status, e.errcode, e.error]).toEqual([
      400,
      'M_BAD_JSON',
      'transaction body is nested deeper than 2,048 levels',
    ]);
  if (ours) refused.push({ txnId, eventIds });
}

/** After each batch: nothing a refused transaction carried was stored; what was stored has its row; the app serves. */
async function afterBatch(): Promise<void> {
  const [r, s] = [refused, stored];
  refused = [];
  stored = [];
  const txnRows = await api.db.query<{ txn_id: string }>(
    'SELECT txn_id FROM appservice_transactions WHERE txn_id = ANY($1)',
    [[...r.map((x) => x.txnId), ...s]],
  );
  const found = new Set(txnRows.rows.map((x) => x.txn_id));
  expect(r.filter((x) => found.has(x.txnId)).map((x) => x.txnId)).toEqual([]);
  expect(s.filter((t) => !found.has(t))).toEqual([]);
  const events = await api.db.query<{ event_id: string }>(
    'SELECT event_id FROM relay_events WHERE event_id = ANY($1)',
    [r.flatMap((x) => x.eventIds)],
  );
  expect(events.rows.map((x) => x.event_id)).toEqual([]);
  const health = await api.app.request('/healthz');
  expect(health.status).toBe(200);
  const metrics = await (await api.app.request('/metrics')).text();
  expect(/^api_escaped_errors_total (\d+)$/m.exec(metrics)?.[1]).toBe('0');
  expect(unhandled).toEqual([]);
}

it(`${RUNS} hostile appservice transactions: never a 5xx; refusals are bounded 4xx that store nothing; after each batch the app serves and nothing escaped`, async () => {
  console.log(`[fuzz-appservice] seed ${SEED}, ${RUNS} runs (repeat with FUZZ_SEED=${SEED})`);
  const t0 = Date.now();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      await runCase(c);
      if (++runs % BATCH === 0) await afterBatch();
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  await afterBatch();
  console.log(`[fuzz-appservice] ${RUNS} transactions in ${Date.now() - t0} ms: ${JSON.stringify(stats)}`);
  expect(stats.stored).toBeGreaterThan(RUNS / 10);
}, 900_000);

it("answers the issue's transaction (an event nested 8,000 levels deep) 400 and stores nothing; the next transaction is stored", async () => {
  const txnId = `${run}-issue`;
  const put = (id: string, body: string) =>
    api.app.request(`/_matrix/app/v1/transactions/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${config.matrix.hsToken}` },
      body,
    });
  const deep = await put(
    txnId,
    `{"events":[{"type":"m.room.message","event_id":"$${run}-deep","room_id":"!${run}:localhost","content":{"x":${nestedText(8_000)}}}]}`,
  );
  expect([deep.status, await deep.json()]).toEqual([
    400,
    { errcode: 'M_BAD_JSON', error: 'transaction body is nested deeper than 2,048 levels' },
  ]);
  // As deep as Synapse can make an event (its JSON parser stops near 1,000 levels), and then some.
  const next = await put(
    `${txnId}-next`,
    `{"events":[{"type":"m.room.message","event_id":"$${run}-ok","room_id":"!${run}:localhost","content":{"__proto__":{"x":1},"x":${nestedText(1_500)},"s":"\\ud800\\u0000"}}]}`,
  );
  expect([next.status, await next.json()]).toEqual([200, {}]);
  const rows = await api.db.query<{ event_id: string; event: { content: Record<string, unknown> } }>(
    'SELECT event_id, event FROM relay_events WHERE event_id = ANY($1)',
    [[`$${run}-deep`, `$${run}-ok`]],
  );
  expect(rows.rows.map((x) => x.event_id)).toEqual([`$${run}-ok`]);
  expect(rows.rows[0]!.event.content.s).toBe('\ufffd\ufffd');
  expect(Object.hasOwn(rows.rows[0]!.event.content, '__proto__')).toBe(true);
  const txns = await api.db.query('SELECT txn_id FROM appservice_transactions WHERE txn_id = ANY($1)', [
    [txnId, `${txnId}-next`],
  ]);
  expect(txns.rows).toEqual([{ txn_id: `${txnId}-next` }]);
});
