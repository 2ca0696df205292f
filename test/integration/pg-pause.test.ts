/**
 * PostgreSQL paused (SIGSTOP on the postmaster and every backend: connections stay open, nothing
 * answers — what a stalled disk, a frozen VM or a partition looks like from here). The API must
 * answer the homeserver's transactions with a 503 within its configured bounds, so Synapse retries,
 * keep answering /healthz, say on /readyz that the database is not answering, and recover by
 * itself once the database resumes: the retried transactions and new ones reach a relay socket
 * exactly once each.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { createDb, migrate } from '../../adapters/store/db.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import { eventually, sleep, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { pausePostgres, processState, type PausedPostgres } from '../helpers/pg-pause.js';
import type { RunningProcess } from '../helpers/processes.js';
import { stack } from '../helpers/stack.js';
import { freePort, pushedMessage, RelayClient, startApi, userToken } from '../helpers/relay.js';

/** Short bounds so the test measures them (the defaults are 5 s connect, 10 s statement, 12 s query). */
const BOUNDS = {
  DATABASE_CONNECT_TIMEOUT_MS: '1000',
  DATABASE_STATEMENT_TIMEOUT_MS: '1000',
  DATABASE_QUERY_TIMEOUT_MS: '1500',
  DATABASE_LOCK_TIMEOUT_MS: '500',
};
/** The longest a transaction may take to be refused: one query timeout (the pooled connection is dropped, no ROLLBACK waited for) plus scheduling slack on a shared machine. */
const REFUSED_WITHIN_MS = 1500 + 1000;
const config = testConfig(BOUNDS);
const tenant = uniqueTenant('pause');
const run = randomBytes(4).toString('hex');
const alice = matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, 'alice');
const roomId = `!${randomBytes(6).toString('hex')}:localhost`;
let db: pg.Pool;
let api: RunningProcess | undefined;
let url: string;
let paused: PausedPostgres | undefined;
let stopped = false;

const message = (body: string) => pushedMessage(roomId, body);
type Body = { events: object[] };

/** What Synapse does: PUT with the hs_token, giving up on an answer after `timeoutMs`. */
async function push(
  txnId: string,
  body: Body,
  timeoutMs = 15_000,
): Promise<{ status: number; ms: number; json: unknown }> {
  const started = Date.now();
  const res = await fetch(`${url}/_matrix/app/v1/transactions/${txnId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${config.matrix.hsToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, ms: Date.now() - started, json: await res.json() };
}

async function get(path: string): Promise<{ status: number; ms: number; json: Record<string, unknown> }> {
  const started = Date.now();
  const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, ms: Date.now() - started, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  db = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  // Its idle connections die when the restart test stops the server.
  db.on('error', () => undefined);
  await migrate(db);
  await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
  await db.query(`INSERT INTO rooms (tenant, kind, slug, alias, room_id) VALUES ($1, 'event', 'paused', $2, $3)`, [
    tenant,
    `#${tenant}-paused:localhost`,
    roomId,
  ]);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  api = await startApi(port, uniqueTaskQueue('pg-pause'), BOUNDS);
}, 120_000);
afterAll(async () => {
  // Whatever happened, the database runs again for the tests after this one.
  paused?.resume();
  if (stopped) await stack(['up', 'postgres']);
  await api?.stop();
  await db?.end();
});

it('a paused database: transactions refused with 503 within the bound, /healthz up, /readyz says so; after resuming, retried and new transactions reach the socket exactly once', async () => {
  const join = { type: 'm.room.member', event_id: `$${randomBytes(8).toString('hex')}`, room_id: roomId };
  const joined = { ...join, sender: alice, state_key: alice, content: { membership: 'join' } };
  expect((await push(`j${randomBytes(4).toString('hex')}`, { events: [joined] })).status).toBe(200);
  const socket = await RelayClient.connect(url, await userToken(config, tenant, 'alice'));
  try {
    await socket.waitFor((f) => f.type === 'live');
    const before = message('before');
    expect((await push(`t-${run}-before`, { events: [before] })).status).toBe(200);
    await socket.waitFor((f) => f.event?.event_id === before.event_id);

    // Paused long enough for the relay's LISTEN probe (every 5 s) to find its connection dead.
    const during = [message('during 1'), message('during 2'), message('during 3')];
    const refused: { status: number; ms: number; json: unknown }[] = [];
    paused = await pausePostgres(db);
    try {
      const postmaster = paused.pids[0]!;
      await eventually(async () => (await processState(postmaster)) === 'T', 2_000, 'the postmaster stopped');
      // First on pooled connections whose backend is stopped, then (those dropped) on new ones
      // that connect to a stopped postmaster: both bounded.
      for (const [i, e] of during.entries()) refused.push(await push(`t-${run}-during-${i}`, { events: [e] }));
      const healthz = await get('/healthz');
      const readyz = await get('/readyz');
      await sleep(4_000);
      const [alive, unready] = [await get('/healthz'), await get('/readyz')];

      expect(refused.map((r) => r.status)).toEqual([503, 503, 503]);
      for (const r of refused) {
        expect(r.json).toEqual({ errcode: 'OM_UNAVAILABLE', error: expect.stringMatching(/database/) });
        expect(r.ms).toBeLessThan(REFUSED_WITHIN_MS);
      }
      expect([healthz.status, alive.status]).toEqual([200, 200]);
      expect(Math.max(healthz.ms, alive.ms)).toBeLessThan(500);
      for (const r of [readyz, unready]) {
        expect(r.status).toBe(503);
        // Whichever bound ran out first: the check's own 2 s, or the pool's 1 s connect timeout.
        expect((r.json.checks as Record<string, string>).database).toMatch(
          /^error: (not answering: )?timed out after \d+ ms$/,
        );
        expect(r.ms).toBeLessThan(2000 + 1000);
      }
    } finally {
      paused.resume();
    }

    // Synapse retries the same transactions (same ids, same bodies), then sends new ones.
    for (const [i, e] of during.entries()) {
      await eventually(
        async () => (await push(`t-${run}-during-${i}`, { events: [e] })).status === 200,
        30_000,
        `retry ${i}`,
      );
    }
    const after = message('after');
    expect((await push(`t-${run}-after`, { events: [after] })).status).toBe(200);
    // A transaction delivered twice (its first answer lost) changes nothing.
    expect((await push(`t-${run}-during-0`, { events: [during[0]!] })).status).toBe(200);

    const expected = [before, ...during, after].map((e) => e.event_id);
    await socket.waitFor((f) => f.event?.event_id === after.event_id, 30_000);
    await sleep(1_000); // room for a duplicate to show up
    const seen = socket.events(roomId).map((f) => f.event!.event_id);
    expect(seen).toEqual(expected);
    const stored = await db.query<{ event_id: string }>(
      `SELECT event_id FROM relay_events WHERE room_id = $1 AND type = 'm.room.message' ORDER BY seq`,
      [roomId],
    );
    expect(stored.rows.map((r) => r.event_id)).toEqual(expected);

    const ready = await eventually(
      async () => {
        const r = await get('/readyz');
        return (r.json.checks as Record<string, string>).database === 'ok' ? r : null;
      },
      15_000,
      '/readyz to report the database answering again',
    );
    expect(ready.json.checks).toMatchObject({ database: 'ok' });
    // The relay noticed its LISTEN connection was dead and replaced it on its own.
    await eventually(
      async () => /relay: LISTEN connection lost; reconnecting/.test(api!.output()),
      10_000,
      'reconnect',
    );
  } finally {
    await socket.close();
  }
}, 120_000);

it('statement and lock timeouts are enforced by the server, before the client gives up; a client released mid-query or inside a transaction is ended, never handed on', async () => {
  const bounded = createDb(config.databaseUrl, 1, config.database);
  const other = createDb(config.databaseUrl, 1, config.database);
  try {
    const pid = async (): Promise<number> =>
      (await bounded.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const settings = await bounded.query<{ s: string; l: string; i: string }>(
      `SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l,
              current_setting('idle_in_transaction_session_timeout') AS i`,
    );
    expect(settings.rows[0]).toEqual({ s: '1s', l: '500ms', i: '1min' });

    // A slow statement is cancelled by the server (57014), before the client's own bound (1.5 s).
    let started = Date.now();
    await expect(bounded.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
    expect(Date.now() - started).toBeLessThan(1_400);

    // A lock wait is cut by lock_timeout (55P03).
    const holder = await other.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [tenant]);
      started = Date.now();
      await expect(bounded.query('UPDATE tenants SET id = id WHERE id = $1', [tenant])).rejects.toMatchObject({
        code: '55P03',
      });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }

    // Our own query timeout: pg stops waiting but the query still runs. Released without an error
    // (as a caller that swallowed it would), the client must not serve the next caller.
    const client = await bounded.connect();
    const busyPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const q: pg.QueryConfig & { query_timeout: number } = { text: 'SELECT pg_sleep(0.8)', query_timeout: 200 };
    await expect(client.query(q)).rejects.toThrow('Query read timeout');
    client.release();
    started = Date.now();
    expect(await pid()).not.toBe(busyPid);
    expect(Date.now() - started).toBeLessThan(500); // not queued behind the sleep

    // Released inside an open transaction: ended, and what it wrote never commits.
    const ghost = `${tenant}-ghost`;
    const inTxn = await bounded.connect();
    const txnPid = (await inTxn.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await inTxn.query('BEGIN');
    await inTxn.query('INSERT INTO tenants (id) VALUES ($1)', [ghost]);
    inTxn.release();
    expect(await pid()).not.toBe(txnPid);
    await eventually(
      async () => (await bounded.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [txnPid])).rowCount === 0,
      5_000,
      'the abandoned backend to end',
    );
    expect((await bounded.query('SELECT 1 FROM tenants WHERE id = $1', [ghost])).rowCount).toBe(0);
  } finally {
    await Promise.all([bounded.end(), other.end()]);
  }
}, 60_000);

it('migrations are exempt from the statement timeout, and the pooled connection gets its bounds back after them', async () => {
  const bounded = createDb(config.databaseUrl, 1, config.database);
  const dir = await mkdtemp(`${tmpdir()}/pg-pause-migrations-`);
  try {
    // Longer than the 1 s statement timeout: a long DDL migration stands for it.
    const version = `900_pg_pause_${run}`;
    await writeFile(`${dir}/${version}.sql`, 'SELECT pg_sleep(1.5);');
    expect(await migrate(bounded, `${dir}/`)).toEqual([version]);
    const after = await bounded.query<{ s: string; l: string }>(
      `SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l`,
    );
    expect(after.rows[0]).toEqual({ s: '1s', l: '500ms' });
  } finally {
    await rm(dir, { recursive: true, force: true });
    await db.query('DELETE FROM schema_migrations WHERE version LIKE $1', ['900_pg_pause_%']);
    await bounded.end();
  }
}, 30_000);

it('PostgreSQL stopped and started again: transactions refused with 503 at once while it is down, then the relay socket gets what follows exactly once', async () => {
  const socket = await RelayClient.connect(url, await userToken(config, tenant, 'alice'));
  try {
    await socket.waitFor((f) => f.type === 'live');
    const reconnectsBefore = (api!.output().match(/LISTEN connection re-established/g) ?? []).length;
    stopped = true;
    await stack(['stop', 'postgres']);
    const down = message('while down');
    const refused = await push(`t-${run}-down`, { events: [down] });
    expect(refused.status).toBe(503);
    expect(refused.json).toEqual({ errcode: 'OM_UNAVAILABLE', error: expect.stringMatching(/database/) });
    expect(refused.ms).toBeLessThan(REFUSED_WITHIN_MS);
    await stack(['up', 'postgres']);
    stopped = false;

    await eventually(async () => (await push(`t-${run}-down`, { events: [down] })).status === 200, 30_000, 'retry');
    const back = message('back');
    expect((await push(`t-${run}-back`, { events: [back] })).status).toBe(200);
    await socket.waitFor((f) => f.event?.event_id === back.event_id, 30_000);
    await sleep(1_000);
    expect(socket.events(roomId).map((f) => f.event!.event_id)).toEqual([down.event_id, back.event_id]);
    await eventually(
      async () => (api!.output().match(/LISTEN connection re-established/g) ?? []).length > reconnectsBefore,
      15_000,
      'the LISTEN connection re-established',
    );
  } finally {
    await socket.close();
  }
}, 120_000);
