/**
 * The operator CLI, compiled and spawned as an operator would run it, against the real stack: a
 * room with members, drift caused by hand on the homeserver, the CLI showing it and repairing it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import pg from 'pg';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { ROOT, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { botView } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('cli');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('cli');
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
const BOT = '@openmeet-bot:localhost';
const bot = botView(config);
let api: TestApi;
let worker: RunningProcess;
let db: pg.Pool;
let roomId: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs dist/scripts/cli.js with the stack's environment (and this file's task queue). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${ROOT}dist/scripts/cli.js`, ...args],
      { cwd: ROOT, env: { ...stackEnv(), TEMPORAL_TASK_QUEUE: taskQueue, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

async function put(path: string, body: unknown): Promise<{ http: number; roomId: string }> {
  const res = await api.app.request(`/v1/tenants/${tenant}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { http: res.status, roomId: ((await res.json()) as { roomId: string }).roomId };
}

const userToken = async (slug: string): Promise<string> =>
  (await createUserStore(db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId)).getToken(tenant, slug))!;

interface InspectJson {
  drift: string[];
  members: {
    slug: string | null;
    userId: string;
    role: string | null;
    wantLevel: number | null;
    membership: string | null;
    level: number;
    who: string;
    drift: string[];
  }[];
}

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  db = new pg.Pool({ connectionString: config.databaseUrl });
  expect((await put('/rooms/event/meetup', { name: 'Meetup' })).http).toBe(200);
  for (const [slug, role] of [
    ['olga', 'host'],
    ['adam', 'member'],
    ['mia', 'speaker'],
  ]) {
    const r = await put(`/rooms/event/meetup/members/${slug}`, { role });
    expect(r.http).toBe(200);
    roomId = r.roomId;
  }
});
afterAll(async () => {
  // The tenant's reconciliation schedule (created with its first room) would outlive this file.
  await api?.temporal.schedule
    .getHandle(`reconcile:${tenant}`)
    .delete()
    .catch(() => undefined);
  await api?.close();
  await worker?.stop();
  await db?.end();
});

describe('npm run cli -- room inspect / room reconcile', () => {
  it('shows desired members and roles beside the actual membership and power levels, in sync (exit 0)', async () => {
    const run = await cli(['room', 'inspect', 'event/meetup', '--tenant', tenant, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as InspectJson;
    expect(out.drift).toEqual([]);
    const bySlug = Object.fromEntries(out.members.filter((m) => m.slug).map((m) => [m.slug, m]));
    expect(bySlug.olga).toMatchObject({
      userId: uid('olga'),
      role: 'host',
      wantLevel: 100,
      membership: 'join',
      level: 100,
      drift: [],
    });
    expect(bySlug.mia).toMatchObject({ role: 'speaker', wantLevel: 25, membership: 'join', level: 25 });
    expect(bySlug.adam).toMatchObject({ role: 'member', wantLevel: 0, membership: 'join', level: 0 });
    expect(out.members.find((m) => m.userId === BOT)).toMatchObject({ who: 'bot', membership: 'join', drift: [] });
  });

  it('marks drift caused on the homeserver (exit 4), and reconcile repairs it and says what it fixed', async () => {
    // Drift by hand: the host gives adam moderator rights, and mia leaves.
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`;
    const olga = await userToken('olga');
    const pl = await matrixRequest<Record<string, unknown> & { users: Record<string, number> }>(
      config.matrix.homeserverUrl,
      { method: 'GET', path, token: olga },
    );
    await matrixRequest(config.matrix.homeserverUrl, {
      method: 'PUT',
      path,
      token: olga,
      body: { ...pl, users: { ...pl.users, [uid('adam')]: 50 } },
    });
    await matrixRequest(config.matrix.homeserverUrl, {
      method: 'POST',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`,
      token: await userToken('mia'),
      body: {},
    });

    const json = await cli(['room', 'inspect', 'event/meetup', '--tenant', tenant, '--json']);
    expect(json.code).toBe(4);
    const out = JSON.parse(json.stdout) as InspectJson;
    expect(out.drift.sort()).toEqual(
      [`${uid('adam')}: power level 50, want 0`, `${uid('mia')}: not joined (leave)`].sort(),
    );

    const text = await cli(['room', 'inspect', 'event/meetup', '--tenant', tenant]);
    expect(text.code).toBe(4);
    expect(text.stdout).toContain(`Room event/meetup of tenant ${tenant}: ✗ 2 drifts`);
    expect(text.stdout).toMatch(
      new RegExp(`^✗\\s+adam\\s+${uid('adam')}\\s+member\\s+0\\s+join\\s+50\\s+power level 50, want 0$`, 'm'),
    );
    expect(text.stdout).toMatch(
      new RegExp(`^✗\\s+mia\\s+${uid('mia')}\\s+speaker\\s+25\\s+leave\\s+25\\s+not joined \\(leave\\)$`, 'm'),
    );
    expect(text.stdout).toMatch(new RegExp(`^\\s+olga\\s+${uid('olga')}\\s+host\\s+100\\s+join\\s+100$`, 'm'));
    expect(text.stdout).toContain(`Repair: npm run cli -- room reconcile event/meetup --tenant ${tenant}`);

    const fix = await cli(['room', 'reconcile', 'event/meetup', '--tenant', tenant]);
    expect(fix.stderr).toBe('');
    expect(fix.code).toBe(0);
    expect(fix.stdout).toContain(`fixed: power level ${uid('adam')} 50→0`);
    expect(fix.stdout).toContain(`fixed: joined ${uid('mia')}`);
    expect(fix.stdout).toContain('The room now matches its desired state.');

    // The homeserver itself says so.
    expect(await bot.joined(roomId)).toEqual([BOT, uid('adam'), uid('mia'), uid('olga')].sort());
    const levels = await bot.powerLevels(roomId);
    expect([levels[uid('olga')], levels[uid('adam')], levels[uid('mia')]]).toEqual([100, undefined, 25]);
    expect((await cli(['room', 'inspect', 'event/meetup', '--tenant', tenant])).code).toBe(0);

    const again = await cli(['room', 'reconcile', 'event/meetup', '--tenant', tenant, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      workflowId: `room:${tenant}:event:meetup`,
      roomId,
      actions: [],
      driftAfter: [],
    });
  });
});

describe('npm run cli -- user inspect', () => {
  it('shows the stored user and token metadata beside the Admin API, never the token', async () => {
    const run = await cli(['user', 'inspect', 'olga', '--tenant', tenant, '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      userId: uid('olga'),
      workflowId: `user:${tenant}:olga`,
      stored: { userId: uid('olga'), displayName: 'olga', token: { present: true, keyId: 'k1' } },
      homeserver: { displayName: 'olga', deactivated: false, joinedRooms: 1 },
      tokenWorks: true,
      problems: [],
    });
    expect((out.stored as { token: { generation: number } }).token.generation).toBeGreaterThanOrEqual(1);
    const text = await cli(['user', 'inspect', 'olga', '--tenant', tenant]);
    expect(text.stdout).toMatch(/token\s+stored, generation \d+, key k1, issued .*; works/);
    const token = await userToken('olga');
    expect(run.stdout + text.stdout + text.stderr).not.toContain(token);
  });
});

describe('bad input', () => {
  it('answers with a message and exit code 2 for bad arguments or configuration', async () => {
    const kind = await cli(['room', 'inspect', 'party/x', '--tenant', tenant]);
    expect(kind).toMatchObject({ code: 2, stdout: '' });
    expect(kind.stderr).toContain('room kind must be event, group or dm, not "party"');
    const noTenant = await cli(['room', 'inspect', 'event/meetup']);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain('--tenant <tenant> is required');
    const badTenant = await cli(['user', 'inspect', 'olga', '--tenant', 'Not_A_Tenant']);
    expect(badTenant.code).toBe(2);
    expect(badTenant.stderr).toContain('tenant must be');
    const unknown = await cli(['room', 'frobnicate', 'event/meetup', '--tenant', tenant]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "room frobnicate"');
    const config = await cli(['room', 'inspect', 'event/meetup', '--tenant', tenant], { DATABASE_URL: '' });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('DATABASE_URL is required');
  });

  it('answers exit code 3 for a room or user it does not know, and never creates a room to reconcile', async () => {
    const room = await cli(['room', 'inspect', 'group/nowhere', '--tenant', tenant]);
    expect(room.code).toBe(3);
    expect(room.stderr).toContain(`no group room "nowhere" for tenant ${tenant}`);
    const rec = await cli(['room', 'reconcile', 'group/nowhere', '--tenant', tenant]);
    expect(rec.code).toBe(3);
    expect(await bot.resolveAlias(`#om_${tenant}_group_nowhere:localhost`)).toBeNull();
    const rows = await db.query('SELECT 1 FROM rooms WHERE tenant = $1 AND slug = $2', [tenant, 'nowhere']);
    expect(rows.rowCount).toBe(0);
    const user = await cli(['user', 'inspect', 'nobody', '--tenant', tenant, '--json']);
    expect(user.code).toBe(3);
    expect(JSON.parse(user.stdout)).toMatchObject({ stored: null, homeserver: null });
    expect(user.stderr).toContain(`no user "nobody" for tenant ${tenant}`);
  });
});
