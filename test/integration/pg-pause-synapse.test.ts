/**
 * The same pause with the real homeserver pushing: messages are sent through Synapse while our
 * PostgreSQL is stopped (Synapse's own database is elsewhere), Synapse's pushes are refused with a
 * 503 within the bound, and once the database resumes the API has Synapse resend at once (not
 * after its back-off): every message reaches the socket exactly once, in order.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { matrixUserId } from '../../vocabulary/ids.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, sleep, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { pausePostgres, processState, type PausedPostgres } from '../helpers/pg-pause.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, RelayClient, sayAsBob, startApi, userToken } from '../helpers/relay.js';

const BOUNDS = {
  DATABASE_CONNECT_TIMEOUT_MS: '1000',
  DATABASE_STATEMENT_TIMEOUT_MS: '1000',
  DATABASE_QUERY_TIMEOUT_MS: '1500',
  DATABASE_LOCK_TIMEOUT_MS: '500',
};
const taskQueue = uniqueTaskQueue('pg-pause-hs');
const config = testConfig({ ...BOUNDS, TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('pausehs');
// Synapse pushes to the stack's API port: the API under test listens there.
const port = Number(stackEnv().API_PORT);
const url = `http://127.0.0.1:${port}`;
let worker: RunningProcess | undefined;
let apiProcess: RunningProcess | undefined;
let api: TestApi;
let db: pg.Pool;
let roomId: string;
let paused: PausedPostgres | undefined;

/** Sent as bob straight to Synapse (appservice masquerade): needs nothing of ours, so works during the pause. */
async function sayThroughSynapse(text: string): Promise<string> {
  const bob = matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, 'bob');
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${randomUUID()}`;
  const res = await fetch(`${config.matrix.homeserverUrl}${path}?user_id=${encodeURIComponent(bob)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${config.matrix.asToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ msgtype: 'm.text', body: text }),
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status !== 200) throw new Error(`sending "${text}": ${res.status} ${await res.text()}`);
  return ((await res.json()) as { event_id: string }).event_id;
}

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(port, taskQueue, BOUNDS);
  api = await createTestApi(config);
  db = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  roomId = await eventRoomWith(api, tenant, 'paused', ['alice', 'bob']);
}, 240_000);
afterAll(async () => {
  paused?.resume();
  await api?.close();
  await db?.end();
  await apiProcess?.stop();
  await worker?.stop();
});

it('Synapse pushing while PostgreSQL is paused: its pushes refused (503), then everything on the socket exactly once, soon after resuming', async () => {
  const socket = await RelayClient.connect(url, await userToken(config, tenant, 'alice'));
  try {
    await socket.waitFor((f) => f.type === 'live');
    const sent = [await sayAsBob(api, tenant, 'paused', 'before')];
    await socket.waitFor((f) => f.event?.event_id === sent[0]);
    const refusedBefore = (apiProcess!.output().match(/"database unavailable"/g) ?? []).length;

    paused = await pausePostgres(db);
    try {
      const postmaster = paused.pids[0]!;
      await eventually(async () => (await processState(postmaster)) === 'T', 2_000, 'the postmaster stopped');
      for (let i = 1; i <= 3; i++) sent.push(await sayThroughSynapse(`during ${i}`));
      // Synapse pushed and was refused (503): the API logs each refusal.
      await eventually(
        async () => (apiProcess!.output().match(/"database unavailable"/g) ?? []).length > refusedBefore,
        10_000,
        'a push refused while paused',
      );
      await sleep(7_000); // long enough for the relay to find its LISTEN connection dead
    } finally {
      paused.resume();
    }
    const resumedAt = Date.now();
    sent.push(await sayThroughSynapse('after'));

    await socket.waitFor((f) => f.event?.event_id === sent.at(-1), 60_000);
    const deliveredMs = Date.now() - resumedAt;
    await sleep(1_000); // room for a duplicate to show up
    expect(
      socket
        .events(roomId)
        .filter((f) => f.event?.type === 'm.room.message')
        .map((f) => f.event!.event_id),
    ).toEqual(sent);
    const stored = await db.query<{ event_id: string; n: number }>(
      `SELECT event_id, count(*)::int AS n FROM relay_events WHERE room_id = $1 AND type = 'm.room.message'
       GROUP BY event_id`,
      [roomId],
    );
    expect(stored.rows.map((r) => r.event_id).sort()).toEqual([...sent].sort());
    expect(stored.rows.every((r) => r.n === 1)).toBe(true);
    expect(deliveredMs).toBeLessThan(15_000);
    // The relay's LISTEN connection comes back by itself (its reconnect backs off: 0.5, 1, 2, 4 s), and
    // then the API asks Synapse to resend at once. Delivery may come first (Synapse's own retry, the
    // feed's poll), so the reconnection is waited for, not assumed to have happened already (a CI run
    // under load delivered before the third reconnect attempt).
    await eventually(
      async () => /relay: LISTEN connection re-established/.test(apiProcess!.output()),
      15_000,
      'the relay LISTEN connection re-established',
    );
  } finally {
    await socket.close();
  }
}, 180_000);
