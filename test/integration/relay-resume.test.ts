/**
 * Resume on the real stack: a client that reconnects with the last sequence it saw gets exactly
 * what it missed, in order, before live events; from before the retention horizon (or from a
 * position the log never had) it is told to refetch.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createEventLog } from '../../adapters/store/events.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, RelayClient, sayAsBob, startApi, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('resume');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('res');
const url = `http://127.0.0.1:${stackEnv().API_PORT}`;
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
let db: pg.Pool;
let roomId: string;
const open: RelayClient[] = [];

const say = (text: string): Promise<string> => sayAsBob(api, tenant, 'resume', text);

async function connect(since?: number): Promise<RelayClient> {
  const c = await RelayClient.connect(
    url,
    await userToken(config, tenant, 'alice'),
    since === undefined ? {} : { since },
  );
  open.push(c);
  return c;
}

/** Until every one of the event ids is in the event log (Synapse pushes asynchronously). */
const logged = (ids: string[]) =>
  eventually(
    async () =>
      (await db.query('SELECT count(*)::int AS n FROM relay_events WHERE event_id = ANY($1)', [ids])).rows[0].n ===
      ids.length,
    60_000,
    `${ids.length} events in the log`,
  );

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue);
  api = await createTestApi(config);
  db = new pg.Pool({ connectionString: config.databaseUrl });
  roomId = await eventRoomWith(api, tenant, 'resume', ['alice', 'bob']);
}, 240_000);
afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await api?.close();
  await db?.end();
  await apiProcess?.stop();
  await worker?.stop();
});

describe('resume', () => {
  it('kill the socket, send 50 messages, reconnect with the last sequence → exactly those 50, in order, then live', async () => {
    const first = await connect();
    const warmup = await say('warm-up');
    await first.waitFor((f) => f.event?.event_id === warmup);
    const last = first.lastSeq();
    first.ws.terminate();

    const sent: string[] = [];
    for (let i = 1; i <= 50; i++) sent.push(await say(`missed ${i}`));
    await logged(sent);

    const again = await connect(last);
    const live = await again.waitFor((f) => f.type === 'live');
    const hello = again.frames[0]!;
    expect(hello).toMatchObject({ type: 'hello', seq: last, tenant, user: 'alice' });
    const replayed = again.frames.slice(1, again.frames.indexOf(live));
    expect(replayed.map((f) => f.type)).toEqual(Array(50).fill('event'));
    expect(replayed.map((f) => f.event!.event_id)).toEqual(sent);
    expect(replayed.map((f) => f.event!.content!.body)).toEqual(sent.map((_, i) => `missed ${i + 1}`));
    const seqs = replayed.map((f) => f.seq!);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(live.seq).toBeGreaterThanOrEqual(seqs.at(-1)!);

    // Then live, without a duplicate of anything replayed.
    const after = await say('after the resume');
    await again.waitFor((f) => f.event?.event_id === after);
    expect(again.events(roomId).map((f) => f.event!.event_id)).toEqual([...sent, after]);
  });

  it('a client resuming from before the retention horizon is told to refetch, then goes live', async () => {
    const c = await connect();
    await c.waitFor((f) => f.type === 'live');
    const old = c.lastSeq();
    await c.close();
    const marker = await say('pushes the horizon past the old position');
    await logged([marker]);
    const { rows } = await db.query<{ seq: string }>('SELECT seq FROM relay_events WHERE event_id = $1', [marker]);
    await db.query("UPDATE relay_events SET received_at = now() - interval '30 days' WHERE seq <= $1", [rows[0]!.seq]);
    await createEventLog(db).prune(new Date(Date.now() - 24 * 3_600_000));

    const resumed = await connect(old);
    const live = await resumed.waitFor((f) => f.type === 'live');
    const resync = resumed.frames.find((f) => f.type === 'resync');
    expect(resync).toMatchObject({ reason: 'beyond_retention' });
    expect(resumed.frames.slice(0, resumed.frames.indexOf(live)).filter((f) => f.type === 'event')).toEqual([]);
    const now = await say('still live after the resync');
    await resumed.waitFor((f) => f.event?.event_id === now);
  });

  it('a client resuming from a position the log never had is told to refetch; a malformed one is refused', async () => {
    const head = Number(
      (await db.query<{ last_seq: string }>('SELECT last_seq FROM relay_log_head')).rows[0]!.last_seq,
    );
    const future = await connect(head + 1_000_000);
    await future.waitFor((f) => f.type === 'live');
    expect(future.frames.find((f) => f.type === 'resync')).toMatchObject({ reason: 'unknown_position' });

    const malformed = await RelayClient.connect(url, await userToken(config, tenant, 'alice'), { since: -1 });
    const closed = await malformed.closed;
    expect(closed.code).toBe(4400);
    expect(malformed.frames).toEqual([expect.objectContaining({ type: 'error', errcode: 'M_INVALID_PARAM' })]);
  });
});
