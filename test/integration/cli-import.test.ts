/**
 * `npm run cli -- import`, compiled and spawned as an operator would run it, against the real API
 * served over HTTP (with a worker on the real stack behind it): a CSV and a JSON file of entities
 * with mixed roles and 30 users in all, each applied and checked on the homeserver (joined members,
 * power levels, names), imported again with nothing changed (not one state event more), then an
 * edited file applied exactly. The JSON file goes through an API that never waits (API_WAIT_MS=0),
 * so every answer is a 202 the command follows.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { serve, type ServerType } from '@hono/node-server';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matrixRequest } from '../../adapters/matrix/http.js';
import type { ImportSummary } from '../../scripts/cli/import-run.js';
import { powerLevelFor } from '../../vocabulary/roles.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, ROOT, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { botView } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('cli-import');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('imp');
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
const BOT = '@openmeet-bot:localhost';
const bot = botView(config);
const dir = mkdtempSync(join(tmpdir(), 'cli-import-'));
let worker: RunningProcess;
const apis: TestApi[] = [];
const servers: ServerType[] = [];
/** The API answering when the work is done (waits 60 s), and one answering 202 at once. */
let waiting: string;
let immediate: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${ROOT}dist/scripts/cli.js`, ...args],
      { cwd: ROOT, env: stackEnv(), timeout: 170_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}
const importJson = async (file: string, api: string): Promise<{ run: Run; summary: ImportSummary }> => {
  const run = await cli(['import', file, '--tenant', tenant, '--api', api, '--json']);
  return { run, summary: JSON.parse(run.stdout) as ImportSummary };
};

async function served(waitMs: string): Promise<string> {
  const api = await createTestApi(testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: waitMs }));
  apis.push(api);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const bot_ = <T>(path: string) => matrixRequest<T>(config.matrix.homeserverUrl, { method: 'GET', path, token: config.matrix.asToken });
const e = encodeURIComponent;

async function roomIdOf(kind: string, slug: string): Promise<string> {
  const id = await bot.resolveAlias(`#om_${tenant}_${kind}_${slug}:localhost`);
  if (!id) throw new Error(`no room ${kind}/${slug} on the homeserver`);
  return id;
}

/** The room on the homeserver has exactly these members joined, at their roles' power levels. */
async function expectRoom(kind: 'event' | 'group', slug: string, members: Record<string, string>, gone: string[] = []) {
  const roomId = await roomIdOf(kind, slug);
  expect(await bot.joined(roomId)).toEqual([BOT, ...Object.keys(members).map(uid)].sort());
  const levels = await bot.powerLevels(roomId);
  const actual = Object.fromEntries(Object.keys(members).map((s) => [s, levels[uid(s)] ?? 0]));
  const wanted = Object.fromEntries(Object.entries(members).map(([s, r]) => [s, powerLevelFor(config.rooms.powerLevels, kind, r)]));
  expect(actual).toEqual(wanted);
  for (const s of gone) expect(levels[uid(s)] ?? 0).toBe(0);
  return roomId;
}

/** Every state event id of the room: a change of any membership, level or name shows here. */
async function stateIds(roomId: string): Promise<string[]> {
  return (await bot_<{ event_id: string }[]>(`/_matrix/client/v3/rooms/${e(roomId)}/state`)).map((ev) => ev.event_id).sort();
}

const u = (n: number): string => `u${String(n).padStart(2, '0')}`;
const range = (a: number, b: number): string[] => Array.from({ length: b - a + 1 }, (_, i) => u(a + i));

// The CSV: event/meetup (14 members, six roles), group/hikers (11), group/quiet (no members).
const meetup: Record<string, string> = {
  [u(1)]: 'host',
  [u(2)]: 'moderator',
  [u(3)]: 'speaker',
  ...Object.fromEntries(range(4, 12).map((s) => [s, 'member'])),
  [u(13)]: 'participant',
  [u(14)]: 'guest',
};
const hikers: Record<string, string> = {
  [u(1)]: 'owner',
  [u(15)]: 'admin',
  [u(16)]: 'moderator',
  ...Object.fromEntries(range(17, 22).map((s) => [s, 'member'])),
  [u(23)]: 'guest',
  [u(5)]: 'member',
};
const csvOf = (rooms: { kind: string; slug: string; name?: string; members: Record<string, string> }[]): string =>
  '\uFEFFkind,slug,userSlug,role,displayName,name\r\n' +
  rooms
    .flatMap((r) => {
      const rows = Object.entries(r.members).map(
        ([s, role], i) => `${r.kind},${r.slug},${s},${role === 'member' && i % 2 ? '' : role},${s === u(1) ? '"Kowalski, Olga"' : ''},${i === 0 && r.name ? r.name : ''}`,
      );
      return rows.length ? rows : [`${r.kind},${r.slug},,,,${r.name ?? ''}`];
    })
    .join('\r\n') +
  '\r\n\r\n';

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  waiting = await served('60000');
  immediate = await served('0');
});
afterAll(async () => {
  await apis[0]?.temporal.schedule
    .getHandle(`reconcile:${tenant}`)
    .delete()
    .catch(() => undefined);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await Promise.all(apis.map((a) => a.close()));
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run cli -- import', () => {
  const rooms = [
    { kind: 'event', slug: 'meetup', name: 'Summer meetup', members: meetup },
    { kind: 'group', slug: 'hikers', members: hikers },
    { kind: 'group', slug: 'quiet', name: 'Quiet', members: {} },
  ];
  const csv = write('members.csv', csvOf(rooms));

  it('imports a CSV: users first, then each room with its complete list, checked on the homeserver', async () => {
    const { run, summary } = await importJson(csv, waiting);
    expect(run.stderr).toBe(''); // --json: nothing on stderr but errors
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({
      file: csv,
      tenant,
      users: { total: 23, created: 23, updated: 0, unchanged: 0, failed: 0 },
      entities: { total: 3, done: 3, failed: 0 },
      members: { added: 25, removed: 0, roleChanged: 0, unchanged: 0, failed: 0 },
      failures: [],
    });
    const meetupId = await expectRoom('event', 'meetup', meetup);
    await expectRoom('group', 'hikers', hikers);
    await expectRoom('group', 'quiet', {});
    // A group's room is linked to the group's space just after its list is answered (decision 0051):
    // that link is this import's too, so the next test compares states once it is there.
    const hikersId = await roomIdOf('group', 'hikers');
    await eventually(
      async () => (await bot_<{ type: string }[]>(`/_matrix/client/v3/rooms/${e(hikersId)}/state`)).some((ev) => ev.type === 'm.space.parent'),
      30_000,
      'hikers linked to its space',
    );
    const name = await bot_<{ name: string }>(`/_matrix/client/v3/rooms/${e(meetupId)}/state/m.room.name/`);
    expect(name.name).toBe('Summer meetup');
    const profile = await bot_<{ displayname: string }>(`/_matrix/client/v3/profile/${e(uid(u(1)))}/displayname`);
    expect(profile.displayname).toBe('Kowalski, Olga');
    const plain = await bot_<{ displayname: string }>(`/_matrix/client/v3/profile/${e(uid(u(7)))}/displayname`);
    expect(plain.displayname).toBe(u(7));
  });

  it('imports the same CSV again: nothing changes, on the homeserver either, and the text summary says so', async () => {
    const ids = await Promise.all(['meetup', 'hikers'].map(async (s) => stateIds(await roomIdOf(s === 'meetup' ? 'event' : 'group', s))));
    const run = await cli(['import', csv, '--tenant', tenant, '--api', waiting]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Imported ${csv} into tenant ${tenant} in `);
    expect(run.stdout).toContain(': everything applied');
    expect(run.stdout).toContain('  users     23: 0 created, 0 updated, 23 unchanged, 0 failed');
    expect(run.stdout).toContain('  entities  3: 3 done, 0 failed');
    expect(run.stdout).toContain('  members   0 added, 0 removed, 0 role changed, 25 unchanged, 0 failed');
    // Not a terminal: progress as lines, the last one when it ends.
    expect(run.stderr).toMatch(/^users 23\/23 · entities 3\/3 · \d+ s$/m);
    const after = await Promise.all(['meetup', 'hikers'].map(async (s) => stateIds(await roomIdOf(s === 'meetup' ? 'event' : 'group', s))));
    expect(after).toEqual(ids);
  });

  it('applies an edited CSV exactly: members removed, roles changed', async () => {
    const meetup2 = { ...meetup, [u(3)]: 'moderator', [u(4)]: 'host' };
    for (const s of range(10, 12)) delete meetup2[s];
    const hikers2 = { ...hikers, [u(5)]: 'admin' };
    delete hikers2[u(23)];
    const edited = write('edited.csv', csvOf([{ ...rooms[0]!, members: meetup2 }, { ...rooms[1]!, members: hikers2 }, rooms[2]!]));
    const { run, summary } = await importJson(edited, waiting);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({
      users: { total: 19, created: 0, updated: 0, unchanged: 19, failed: 0 },
      entities: { total: 3, done: 3, failed: 0 },
      members: { added: 0, removed: 4, roleChanged: 3, unchanged: 18, failed: 0 },
      failures: [],
    });
    await expectRoom('event', 'meetup', meetup2, range(10, 12));
    await expectRoom('group', 'hikers', hikers2, [u(23)]);
  });

  it('imports a JSON file through an API that answers 202 at once, following each operation', async () => {
    const doc = {
      entities: [
        {
          kind: 'event',
          slug: 'launch',
          name: 'Launch',
          topic: 'Rockets',
          visibility: 'public',
          members: [
            { userSlug: u(24), role: 'host', displayName: 'Pat' },
            ...range(25, 28).map((s, i) => ({ userSlug: s, ...(i % 2 ? { role: 'speaker' } : {}) })),
            { userSlug: u(1), role: 'moderator', displayName: 'Kowalski, Olga' },
          ],
        },
        {
          kind: 'group',
          slug: 'readers',
          members: [
            { userSlug: u(29), role: 'owner' },
            { userSlug: u(30), role: 'admin' },
            { userSlug: u(2) },
            { userSlug: u(24), role: 'moderator' },
          ],
        },
      ],
    };
    const launch = { [u(24)]: 'host', [u(25)]: 'member', [u(26)]: 'speaker', [u(27)]: 'member', [u(28)]: 'speaker', [u(1)]: 'moderator' };
    const readers = { [u(29)]: 'owner', [u(30)]: 'admin', [u(2)]: 'member', [u(24)]: 'moderator' };
    const file = write('members.json', JSON.stringify(doc, null, 2));
    const { run, summary } = await importJson(file, immediate);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({
      users: { total: 9, created: 7, updated: 0, unchanged: 2, failed: 0 },
      entities: { total: 2, done: 2, failed: 0 },
      members: { added: 10, removed: 0, roleChanged: 0, unchanged: 0, failed: 0 },
      failures: [],
    });
    const launchId = await expectRoom('event', 'launch', launch);
    await expectRoom('group', 'readers', readers);
    const topic = await bot_<{ topic: string }>(`/_matrix/client/v3/rooms/${e(launchId)}/state/m.room.topic/`);
    expect(topic.topic).toBe('Rockets');
    const rules = await bot_<{ join_rule: string }>(`/_matrix/client/v3/rooms/${e(launchId)}/state/m.room.join_rules/`);
    expect(rules.join_rule).toBe('public');
    const profile = await bot_<{ displayname: string }>(`/_matrix/client/v3/profile/${e(uid(u(24)))}/displayname`);
    expect(profile.displayname).toBe('Pat');

    const before = await stateIds(launchId);
    const again = await importJson(file, immediate);
    expect(again.run.code).toBe(0);
    expect(again.summary).toMatchObject({
      users: { total: 9, created: 0, unchanged: 9, failed: 0 },
      members: { added: 0, removed: 0, roleChanged: 0, unchanged: 10, failed: 0 },
      failures: [],
    });
    expect(await stateIds(launchId)).toEqual(before);
    // That API did answer 202 (the command followed the operations): the same list straight to it.
    const direct = await fetch(`${immediate}/v1/tenants/${tenant}/rooms/group/readers/members`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${apis[1]!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ members: doc.entities[1]!.members }),
    });
    expect(direct.status).toBe(202);
  });

  it('names what failed (exit 1) and applies the rest', async () => {
    const archived = await apis[0]!.app.request(`/v1/tenants/${tenant}/rooms/group/quiet`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${apis[0]!.token}` },
    });
    expect(archived.status).toBe(200);
    const file = write(
      'partly.csv',
      ['kind,slug,userSlug,role', 'group,quiet,u01,owner', `event,fresh,${u(31)},host`, `event,fresh,${u(2)},speaker`].join('\n'),
    );
    const { run, summary } = await importJson(file, waiting);
    expect(run.code).toBe(1);
    expect(summary).toMatchObject({
      entities: { total: 2, done: 1, failed: 1 },
      members: { added: 2, failed: 0 },
      failures: [{ target: 'group/quiet', errcode: 'OM_ROOM_ARCHIVED', message: expect.any(String) }],
    });
    await expectRoom('event', 'fresh', { [u(31)]: 'host', [u(2)]: 'speaker' });
  });

  it('refuses a bad file before sending anything (exit 2), naming the file and the lines', async () => {
    const file = write(
      'bad.csv',
      ['kind,slug,userSlug,role', `event,never,${u(40)},host`, 'party,x,olga,host', `group,never2,${u(41)},host`].join('\n'),
    );
    const run = await cli(['import', file, '--tenant', tenant, '--api', waiting]);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain(`cli: ${file}: 2 problems, nothing was sent:`);
    expect(run.stderr).toContain('line 3: kind "party" is unknown: use event or group');
    expect(run.stderr).toContain('line 4: role "host" is not one of owner, admin, moderator, member, guest for group rooms');
    expect(await bot.resolveAlias(`#om_${tenant}_event_never:localhost`)).toBeNull();
    const twice = write('twice.json', JSON.stringify({ entities: [{ kind: 'event', slug: 'a', members: [] }, { kind: 'event', slug: 'a', members: [] }] }));
    const json = await cli(['import', twice, '--tenant', tenant, '--api', waiting, '--json']);
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('entities[1]: event/a is listed twice (first at entities[0])');
  });

  it('stops with exit 1 and says so when the API cannot be reached', async () => {
    // A port nothing listens on: taken from the system, then let go.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as AddressInfo;
        s.close(() => resolve(p));
      });
    });
    const file = write('one.csv', `kind,slug,userSlug\nevent,x,${u(1)}\n`);
    const run = await cli(['import', file, '--tenant', tenant, '--api', `http://127.0.0.1:${port}`, '--json']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`cli: cannot reach the API at http://127.0.0.1:${port}: fetch failed (connect ECONNREFUSED`);
  });
});
