/**
 * The drift report (issue #21 part 3, decision 0059) on the real stack: members and power levels
 * changed behind the service's back, as the bot directly on Synapse, show in the route and in the
 * CLI (spawned as an operator runs it, through a real API process); reading changes nothing; after
 * reconciliation (the tenant's schedule triggered) they are gone and the report names what it did.
 * Runs in both identity modes (jest.appservice.config.js).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { enc, matrixRequest } from '../../adapters/matrix/http.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { ROOT, eventually, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { botView } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { startApi } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('drift');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('drf');
const uid = (slug: string): string => matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);
const hs = config.matrix.homeserverUrl;
const bot = botView(config);
const ROOM = `/v1/tenants/${tenant}/rooms/group/crew`;
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
let roomId = '';

type Json = Record<string, unknown>;
interface Drift {
  kind: string;
  slug: string;
  state: string;
  membersMissing: { userSlug: string; userId: string }[];
  membersExtra: { userId: string }[];
  powerLevels: string[];
  settings: { setting: string; want: string; have: string | null }[];
  reconciliation: { lastRun: { actions: string[]; finishedAt: string } | null; lastFix: { actions: string[] } | null };
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${ROOT}dist/scripts/cli.js`, ...args],
      { cwd: ROOT, env: { ...stackEnv(), TEMPORAL_TASK_QUEUE: taskQueue }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}
const call = async (method: string, path: string, body?: Json): Promise<{ status: number; body: Json }> => {
  const res = await api.app.request(path, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Json };
};
const asBot = (method: 'GET' | 'PUT' | 'POST', path: string, body?: Json, query?: Record<string, string>) =>
  matrixRequest<Json>(hs, { method, path, token: config.matrix.asToken, ...(body ? { body } : {}), ...(query ? { query } : {}) });
const roomDrift = async (): Promise<Drift> => {
  const r = await call('GET', `${ROOM}/drift`);
  expect(r.status).toBe(200);
  return r.body as unknown as Drift;
};

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue);
  api = await createTestApi(config);
  const created = await call('PUT', ROOM, { name: 'Crew', topic: 'Sailing' });
  expect(created.status).toBe(200);
  roomId = created.body.roomId as string;
  for (const [u, role] of [
    ['olga', 'owner'],
    ['adam', 'member'],
    ['mia', 'member'],
  ])
    expect((await call('PUT', `${ROOM}/members/${u}`, { role })).status).toBe(200);
  // zed: an account of the tenant, never a member of this room.
  expect((await call('POST', `/v1/tenants/${tenant}/users`, { slug: 'zed', displayName: 'Zed' })).status).toBe(200);
  // The tenant's reconcile schedule fires on the clock (every 15 minutes by default, weekly in the suite):
  // paused, so that only this file's own trigger (a paused schedule still takes one) repairs the drift it
  // makes and then reads.
  await api.temporal.schedule.getHandle(`reconcile:${tenant}`).pause('drift.test: reconciliation only when triggered');
}, 240_000);
afterAll(async () => {
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

describe('the drift report', () => {
  it('is in sync for a room the service just set up', async () => {
    const d = await roomDrift();
    expect({ state: d.state, missing: d.membersMissing, extra: d.membersExtra, levels: d.powerLevels, settings: d.settings }).toEqual({
      state: 'in_sync',
      missing: [],
      extra: [],
      levels: [],
      settings: [],
    });
  });

  it('shows members and power levels changed behind the service\'s back, in the route and the CLI, without repairing them', async () => {
    // As the bot, straight on Synapse: adam kicked, mia raised to 50, zed brought in, the topic changed.
    const e = enc(roomId);
    await asBot('POST', `/_matrix/client/v3/rooms/${e}/kick`, { user_id: uid('adam'), reason: 'behind the back' });
    const levels = await asBot('GET', `/_matrix/client/v3/rooms/${e}/state/m.room.power_levels/`);
    await asBot('PUT', `/_matrix/client/v3/rooms/${e}/state/m.room.power_levels/`, {
      ...levels,
      users: { ...(levels.users as Json), [uid('mia')]: 50 },
    });
    await asBot('POST', `/_matrix/client/v3/rooms/${e}/invite`, { user_id: uid('zed') });
    await asBot('POST', `/_matrix/client/v3/join/${e}`, {}, { user_id: uid('zed') });
    await asBot('PUT', `/_matrix/client/v3/rooms/${e}/state/m.room.topic/`, { topic: 'Rowing' });

    const d = await roomDrift();
    expect(d.state).toBe('drift');
    expect(d.membersMissing.map((m) => [m.userSlug, m.userId])).toEqual([['adam', uid('adam')]]);
    expect(d.membersExtra.map((m) => m.userId)).toEqual([uid('zed')]);
    expect(d.powerLevels).toEqual([`power level ${uid('mia')} 50→0`]);
    expect(d.settings).toEqual([{ setting: 'topic', want: 'Sailing', have: 'Rowing' }]);

    const page = await call('GET', `/v1/tenants/${tenant}/drift?limit=10`);
    expect(page.status).toBe(200);
    const listed = (page.body.rooms as Drift[]).find((r) => r.kind === 'group' && r.slug === 'crew')!;
    expect(listed.state).toBe('drift');
    expect(listed.powerLevels).toEqual(d.powerLevels);
    expect(page.body.next).toBeNull();

    const text = await cli(['drift', '--tenant', tenant]);
    expect(text.code).toBe(4);
    expect(text.stdout).toContain(`group/crew ${roomId}: drift`);
    expect(text.stdout).toContain(`member missing: adam ${uid('adam')} (leave)`);
    expect(text.stdout).toContain(`not a desired member: ${uid('zed')} (join)`);
    expect(text.stdout).toContain(`would set power level ${uid('mia')} 50→0`);
    const json = await cli(['drift', 'group/crew', '--tenant', tenant, '--json']);
    expect(json.code).toBe(4);
    expect((JSON.parse(json.stdout) as { rooms: Drift[] }).rooms[0]!.membersMissing[0]!.userSlug).toBe('adam');

    // Reading repaired nothing.
    expect((await bot.powerLevels(roomId))[uid('mia')]).toBe(50);
    expect(await bot.joined(roomId)).not.toContain(uid('adam'));
  });

  it('is in sync again after reconciliation, and names what the run did and when', async () => {
    const schedule = api.temporal.schedule.getHandle(`reconcile:${tenant}`);
    const before = new Set<string>();
    for await (const wf of api.temporal.workflow.list({ query: `WorkflowType = "reconcileTenantWorkflow" AND Tenant = "${tenant}"` }))
      before.add(wf.runId);
    await schedule.trigger();
    await eventually(
      async () => {
        for await (const wf of api.temporal.workflow.list({ query: `WorkflowType = "reconcileTenantWorkflow" AND Tenant = "${tenant}"` }))
          if (!before.has(wf.runId) && wf.status.name === 'COMPLETED') return wf;
        return null;
      },
      120_000,
      'the triggered reconciliation run to complete',
    );
    const d = await roomDrift();
    expect({ state: d.state, missing: d.membersMissing, extra: d.membersExtra, levels: d.powerLevels, settings: d.settings }).toEqual({
      state: 'in_sync',
      missing: [],
      extra: [],
      levels: [],
      settings: [],
    });
    const run = d.reconciliation.lastRun!;
    expect(run.actions).toEqual(expect.arrayContaining([`power level ${uid('mia')} 50→0`, `joined ${uid('adam')}`]));
    expect(Date.parse(run.finishedAt)).toBeGreaterThan(Date.now() - 300_000);
    expect(d.reconciliation.lastFix!.actions).toEqual(run.actions);

    const text = await cli(['drift', '--tenant', tenant]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`group/crew ${roomId}: in sync`);
    expect(text.stdout).toContain(`power level ${uid('mia')} 50→0`);
  });

  it('refuses a bad page bound and an unknown room with a message naming it', async () => {
    const bad = await call('GET', `/v1/tenants/${tenant}/drift?limit=500`);
    expect([bad.status, bad.body.errcode]).toEqual([400, 'M_INVALID_PARAM']);
    expect(bad.body.error).toContain('"limit"');
    const none = await call('GET', `/v1/tenants/${tenant}/rooms/group/nowhere/drift`);
    expect([none.status, none.body.errcode]).toEqual([404, 'M_NOT_FOUND']);
  });
});
