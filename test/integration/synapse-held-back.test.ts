/**
 * Synapse can hold a transaction back for good: one created in the moment a recovery ends is
 * stored but never sent, until the next recovery (decision 0020). The state that race leaves is
 * built here exactly — a transaction queued while the API was down, the appservice marked "up" —
 * and the API must notice the gap when the next transaction arrives and have Synapse send the
 * held-back one first. Restarts Synapse, so it runs among the last files (test/sequencer.cjs).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, ROOT, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, sayAsBob, startApi } from '../helpers/relay.js';
import { stack } from '../helpers/stack.js';

const run = promisify(execFile);
const taskQueue = uniqueTaskQueue('heldback');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('hb');
const port = Number(stackEnv().API_PORT);
let worker: RunningProcess;
let apiProcess: RunningProcess | undefined;
let api: TestApi;
let db: pg.Pool;

/** Reads or changes Synapse's SQLite database (only while it is stopped, for changes). */
async function synapseDb(sql: string): Promise<unknown[][]> {
  const script = [
    'import json, sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1])',
    'rows = c.execute(sys.argv[2]).fetchall()',
    'c.commit()',
    'print(json.dumps(rows))',
  ].join('\n');
  const { stdout } = await run(`${ROOT}.stack/venv/bin/python`, [
    '-c',
    script,
    `${stackEnv().STACK_DIR}/synapse/homeserver.db`,
    sql,
  ]);
  return JSON.parse(stdout) as unknown[][];
}

const say = (text: string): Promise<string> => sayAsBob(api, tenant, 'held', text);

const logged = (eventIds: string[]) =>
  db.query<{ event_id: string; seq: string }>(
    'SELECT event_id, seq FROM relay_events WHERE event_id = ANY($1) ORDER BY seq',
    [eventIds],
  );

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(port, taskQueue);
  api = await createTestApi(config);
  db = new pg.Pool({ connectionString: config.databaseUrl });
  await eventRoomWith(api, tenant, 'held', ['alice', 'bob']);
}, 240_000);
afterAll(async () => {
  await stack(['up', 'synapse']); // whatever happened, leave Synapse running for the next file
  await api?.close();
  await db?.end();
  await apiProcess?.stop();
  await worker?.stop();
});

it('a transaction Synapse holds back after a recovery is noticed by the gap it leaves and sent before the next one', async () => {
  const first = await say('first');
  await eventually(async () => (await logged([first])).rowCount === 1, 60_000, 'the first message in the log');

  // The API goes away; the next message waits in Synapse as an unsent transaction.
  await apiProcess!.stop('SIGKILL');
  apiProcess = undefined;
  const heldBack = await say('held back');
  const pending = await eventually(
    async () => {
      const rows = (await synapseDb('SELECT txn_id, event_ids FROM application_services_txns')) as [number, string][];
      return rows.find(([, ids]) => ids.includes(heldBack)) ?? null;
    },
    60_000,
    'the held-back message queued in Synapse',
  );

  // What the race leaves behind: the transaction unsent, the appservice "up", no recovery running.
  await stack(['stop', 'synapse']);
  await synapseDb("UPDATE application_services_state SET state = 'up'");
  await stack(['up', 'synapse']);
  expect(await synapseDb('SELECT state FROM application_services_state')).toEqual([['up']]);
  expect((await synapseDb('SELECT txn_id FROM application_services_txns')).map(([id]) => id)).toContain(pending[0]);

  apiProcess = await startApi(port, taskQueue);
  const next = await say('next');
  await eventually(async () => (await logged([heldBack, next])).rowCount === 2, 60_000, 'both messages in the log');
  // Once each, and in Synapse's order: the held-back one first.
  const rows = (await logged([first, heldBack, next])).rows;
  expect(rows.map((r) => r.event_id)).toEqual([first, heldBack, next]);
  expect(apiProcess.output()).toContain('relay: the homeserver had held back transactions');
  // What an operator's dashboard shows.
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(metrics).toMatch(/^relay_transaction_gap_sweeps_total 1$/m);
  expect(metrics).toMatch(/^relay_held_back_transactions_total 1$/m);
  expect(await synapseDb('SELECT txn_id FROM application_services_txns')).toEqual([]);
});
