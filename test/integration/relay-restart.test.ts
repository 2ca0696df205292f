/**
 * The API process Synapse pushes to is killed while messages keep being sent; Synapse keeps the
 * unacknowledged transactions and sends them again once the API is back. Nothing is lost from the
 * event log, nothing is stored twice, and a client resuming from before the crash gets it all.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, RelayClient, sayAsBob, startApi, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('restart');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('rst');
const port = Number(stackEnv().API_PORT);
const url = `http://127.0.0.1:${port}`;
let worker: RunningProcess;
let apiProcess: RunningProcess | undefined;
let api: TestApi;
let db: pg.Pool;
let roomId: string;
const open: RelayClient[] = [];

const say = (text: string): Promise<string> => sayAsBob(api, tenant, 'crash', text);

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(port, taskQueue);
  api = await createTestApi(config);
  db = new pg.Pool({ connectionString: config.databaseUrl });
  roomId = await eventRoomWith(api, tenant, 'crash', ['alice', 'bob']);
}, 240_000);
afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await api?.close();
  await db?.end();
  await apiProcess?.stop();
  await worker?.stop();
});

it('stop the API while Synapse keeps sending, restart it → no event lost from the log, none twice, and a resume gets them all', async () => {
  const token = await userToken(config, tenant, 'alice');
  const before = await RelayClient.connect(url, token);
  open.push(before);
  const sent: string[] = [];
  for (let i = 1; i <= 10; i++) sent.push(await say(`before ${i}`));
  await before.waitFor((f) => f.event?.event_id === sent.at(-1));
  const position = before.lastSeq();

  await apiProcess!.stop('SIGKILL');
  apiProcess = undefined;
  await before.closed;
  for (let i = 1; i <= 20; i++) sent.push(await say(`while down ${i}`));
  // Nothing was acknowledged meanwhile: none of these is in the log yet.
  const missing = sent.slice(10);
  expect(
    (await db.query('SELECT count(*)::int AS n FROM relay_events WHERE event_id = ANY($1)', [missing])).rows[0].n,
  ).toBe(0);

  apiProcess = await startApi(port, taskQueue);
  for (let i = 1; i <= 10; i++) sent.push(await say(`after ${i}`));
  await eventually(
    async () =>
      (await db.query('SELECT count(*)::int AS n FROM relay_events WHERE event_id = ANY($1)', [sent])).rows[0].n ===
      sent.length,
    90_000,
    'every sent event in the log',
  );
  const rows = await db.query<{ event_id: string; n: number }>(
    'SELECT event_id, count(*)::int AS n FROM relay_events WHERE room_id = $1 AND type = $2 GROUP BY event_id',
    [roomId, 'm.room.message'],
  );
  expect(rows.rows.map((r) => r.event_id).sort()).toEqual([...sent].sort());
  expect(rows.rows.every((r) => r.n === 1)).toBe(true);

  const after = await RelayClient.connect(url, token, { since: position });
  open.push(after);
  await after.waitFor((f) => f.event?.event_id === sent.at(-1));
  expect(after.events(roomId).map((f) => f.event!.event_id)).toEqual(sent.slice(10));
}, 180_000);
