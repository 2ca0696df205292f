/**
 * Rooms and membership on the real stack: exactly one room per entity, every member in, every
 * role right, drift repaired, and a vanished room reported rather than replaced.
 *
 * Runs in both identity modes (scripts/test.sh). Where a check needs the Admin API (searching
 * rooms, purging one behind the service's back), the appservice run, whose homeserver has no
 * admin, uses what the appservice can do instead.
 */
import { describe, expect, it } from '@jest/globals';
import { authorized, matrixRequest } from '../../adapters/matrix/http.js';
import { DEFAULT_POWER_LEVELS } from '../../vocabulary/roles.js';
import { eventually, sleep } from '../helpers/env.js';
import { adminRoomSearch, adminToken, asPlatformUser, botView, joinAs } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';

const fx = serviceFixture('rooms', { API_WAIT_MS: '60000' }, 'rooms');
const { config, tenant } = fx;
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
const BOT = '@openmeet-bot:localhost';
const bot = botView(config);
const appservice = config.matrix.identityMode === 'appservice';

interface ChangeBody {
  status: string;
  roomId: string;
  alias: string;
  actions: string[];
  errcode?: string;
  error?: string;
}

async function send(
  method: 'PUT' | 'DELETE' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: ChangeBody }> {
  const res = await fx.api.app.request(`/v1/tenants/${tenant}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${fx.api.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as ChangeBody };
}

describe('one room per entity', () => {
  it('50 concurrent "ensure room" requests for one event → exactly one Matrix room and one alias', async () => {
    const slug = 'launch-party';
    const roomsBefore = await bot.joinedRooms();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => send('PUT', `/rooms/event/${slug}`, { name: 'Launch party' })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const roomIds = new Set(results.map((r) => r.body.roomId));
    expect(roomIds.size).toBe(1);
    const [roomId] = [...roomIds];
    expect(results.filter((r) => r.body.actions.some((a) => a.startsWith('created'))).length).toBe(1);

    // The bot is in every room the service makes: exactly one more.
    expect((await bot.joinedRooms()).filter((r) => !roomsBefore.includes(r))).toEqual([roomId]);
    if (!appservice) {
      const onServer = await adminRoomSearch(config, await adminToken(config), `om_${tenant}_event_${slug}`);
      expect(onServer.map((r) => r.room_id)).toEqual([roomId]);
    }
    expect(await bot.resolveAlias(`#om_${tenant}_event_${slug}:localhost`)).toBe(roomId);
  });

  it('a platform event (chat.group.created) creates the group room, named, through the event intake', async () => {
    const res = await fx.api.post(`/v1/tenants/${tenant}/events`, {
      type: 'chat.group.created',
      data: { slug: 'hikers', name: 'Hikers', topic: 'Trails' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ChangeBody;
    expect(body.alias).toBe(`#om_${tenant}_group_hikers:localhost`);
    const again = await fx.api.post(`/v1/tenants/${tenant}/events`, {
      type: 'chat.group.created',
      data: { slug: 'hikers', name: 'Hikers', topic: 'Trails' },
    });
    expect(((await again.json()) as ChangeBody).roomId).toBe(body.roomId);
  });
});

describe('membership and roles', () => {
  it('a member added before they were provisioned ends up joined, with their role', async () => {
    const { status, body } = await send('PUT', '/rooms/event/meetup-1/members/newcomer', {
      role: 'speaker',
      displayName: 'New Comer',
    });
    expect(status).toBe(200);
    expect(body.actions).toEqual(
      expect.arrayContaining([`provisioned ${uid('newcomer')}`, `joined ${uid('newcomer')}`]),
    );
    expect(await bot.joined(body.roomId)).toEqual([BOT, uid('newcomer')].sort());
    expect((await bot.powerLevels(body.roomId))[uid('newcomer')]).toBe(DEFAULT_POWER_LEVELS.event.speaker);
  });

  it('a member change on a known room is one activity, and re-adding a joined member with a new role only changes the role', async () => {
    const slug = 'lean';
    const { body: created } = await send('PUT', `/rooms/event/${slug}`, { name: 'Lean' });
    const handle = fx.api.temporal.workflow.getHandle(`room:${tenant}:event:${slug}`);
    // The homeserver work; each change's audit entry (recordAudit, decision 0060) is written after its answer.
    const scheduled = async (): Promise<string[]> =>
      ((await handle.fetchHistory()).events ?? [])
        .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
        .filter((n): n is string => Boolean(n) && n !== 'recordAudit');
    const afterCreate = await scheduled();

    const first = await send('PUT', `/rooms/event/${slug}/members/lena`, { role: 'member' });
    expect(first.status).toBe(200);
    expect(first.body.actions).toEqual([
      `provisioned ${uid('lena')}`,
      `invited ${uid('lena')}`,
      `joined ${uid('lena')}`,
    ]);
    const afterJoin = await scheduled();
    expect(afterJoin.slice(afterCreate.length)).toEqual(['applyMembers']);

    // Already joined: the invite is refused (403), her membership is read, and only the level moves.
    const again = await send('PUT', `/rooms/event/${slug}/members/lena`, { role: 'host' });
    expect(again.status).toBe(200);
    expect(again.body.actions).toEqual([`power level ${uid('lena')} 0→${DEFAULT_POWER_LEVELS.event.host}`]);
    expect((await scheduled()).slice(afterJoin.length)).toEqual(['applyMembers']);
    expect(await bot.joined(created.roomId)).toEqual([BOT, uid('lena')].sort());
    expect((await bot.powerLevels(created.roomId))[uid('lena')]).toBe(DEFAULT_POWER_LEVELS.event.host);
  });

  it('200 concurrent add/remove/role changes, in a known order per user → Matrix membership and power levels exactly as expected', async () => {
    const slug = 'big-event';
    const { body: created } = await send('PUT', `/rooms/event/${slug}`, { name: 'Big event' });
    const users = Array.from({ length: 20 }, (_, i) => `member${i}`);
    // A fixed pseudo-random plan: each user gets 10 changes, applied in order; users run concurrently.
    let seed = 42;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const ops = ['host', 'moderator', 'speaker', 'member', 'remove'] as const;
    const plan = new Map(users.map((u) => [u, Array.from({ length: 10 }, () => ops[rand(ops.length)]!)]));
    const statuses: number[] = [];
    await Promise.all(
      users.map(async (u) => {
        for (const op of plan.get(u)!) {
          const r =
            op === 'remove'
              ? await send('DELETE', `/rooms/event/${slug}/members/${u}`)
              : await send('PUT', `/rooms/event/${slug}/members/${u}`, { role: op });
          statuses.push(r.status);
        }
      }),
    );
    expect(statuses).toHaveLength(200);
    expect(statuses.every((s) => s === 200)).toBe(true);

    const expectedMembers = users.filter((u) => plan.get(u)!.at(-1) !== 'remove');
    const expectedLevels: Record<string, number> = {};
    for (const u of expectedMembers) {
      const level = DEFAULT_POWER_LEVELS.event[plan.get(u)!.at(-1)!]!;
      if (level !== 0) expectedLevels[uid(u)] = level;
    }
    expect(await bot.joined(created.roomId)).toEqual([BOT, ...expectedMembers.map(uid)].sort());
    const levels = await bot.powerLevels(created.roomId);
    const managed = Object.fromEntries(Object.entries(levels).filter(([id]) => id.startsWith(`@om_${tenant}_`)));
    expect(managed).toEqual(expectedLevels);
    const rows = await fx.db.query(
      'SELECT user_slug, role FROM room_members WHERE tenant = $1 AND kind = $2 AND slug = $3 ORDER BY user_slug',
      [tenant, 'event', slug],
    );
    expect(Object.fromEntries(rows.rows.map((r) => [r.user_slug, r.role]))).toEqual(
      Object.fromEntries(expectedMembers.map((u) => [u, plan.get(u)!.at(-1)])),
    );
  });

  it('a DM is between exactly its two users, both at power level 50', async () => {
    const res = await fx.api.post(`/v1/tenants/${tenant}/dms`, { users: ['zoe', 'yan'] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ChangeBody;
    expect(await bot.joined(body.roomId)).toEqual([BOT, uid('yan'), uid('zoe')].sort());
    const levels = await bot.powerLevels(body.roomId);
    expect([levels[uid('yan')], levels[uid('zoe')]]).toEqual([50, 50]);
    const add = await send('PUT', `/rooms/dm/yan~zoe/members/third`, {});
    expect(add.status).toBe(400);
  });

  it('rejects unknown roles and kinds with a 400 naming the problem', async () => {
    const r1 = await send('PUT', '/rooms/event/meetup-1/members/alice', { role: 'owner' });
    expect(r1).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    expect(r1.body.error).toMatch(/role "owner" is not one of host, moderator, speaker, member/);
    const r2 = await send('PUT', '/rooms/party/x', {});
    expect(r2).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
  });
});

describe('drift and loss', () => {
  it('repairs a hand-edited power level and a member who left on the next reconciliation run', async () => {
    const slug = 'drifters';
    await send('PUT', `/rooms/group/${slug}`, { name: 'Drifters' });
    await send('PUT', `/rooms/group/${slug}/members/olga`, { role: 'owner' });
    await send('PUT', `/rooms/group/${slug}/members/adam`, { role: 'admin' });
    const { body } = await send('PUT', `/rooms/group/${slug}/members/mia`, { role: 'member' });
    const roomId = body.roomId;

    // Drift: the owner hands mia moderator rights by hand, and adam leaves.
    const olga = await asPlatformUser(config, fx.db, tenant, 'olga');
    const pl = await matrixRequest<Record<string, unknown> & { users: Record<string, number> }>(
      config.matrix.homeserverUrl,
      authorized(olga, {
        method: 'GET',
        path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`,
      }),
    );
    await matrixRequest(
      config.matrix.homeserverUrl,
      authorized(olga, {
        method: 'PUT',
        path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`,
        body: { ...pl, users: { ...pl.users, [uid('mia')]: 50 } },
      }),
    );
    await matrixRequest(
      config.matrix.homeserverUrl,
      authorized(await asPlatformUser(config, fx.db, tenant, 'adam'), {
        method: 'POST',
        path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`,
        body: {},
      }),
    );
    expect((await bot.powerLevels(roomId))[uid('mia')]).toBe(50);
    expect(await bot.joined(roomId)).not.toContain(uid('adam'));

    // The tenant's schedule exists (created with its first room); run it now instead of waiting.
    const schedule = fx.api.temporal.schedule.getHandle(`reconcile:${tenant}`);
    const before = new Set<string>();
    for await (const wf of fx.api.temporal.workflow.list({
      query: `WorkflowType = "reconcileTenantWorkflow" AND Tenant = "${tenant}"`,
    }))
      before.add(wf.runId);
    await schedule.trigger();
    const run = await eventually(
      async () => {
        for await (const wf of fx.api.temporal.workflow.list({
          query: `WorkflowType = "reconcileTenantWorkflow" AND Tenant = "${tenant}"`,
        })) {
          if (!before.has(wf.runId) && wf.status.name === 'COMPLETED') return wf;
        }
        return null;
      },
      120_000,
      'the triggered reconciliation run to complete',
    );
    const result = (await fx.api.temporal.workflow.getHandle(run.workflowId, run.runId).result()) as {
      fixes: { room: string; actions: string[] }[];
      failures: unknown[];
    };
    expect(result.failures).toEqual([]);
    const fixed = result.fixes.find((f) => f.room === `group/${slug}`)!.actions;
    expect(fixed).toEqual(expect.arrayContaining([`power level ${uid('mia')} 50→0`, `joined ${uid('adam')}`]));

    expect(await bot.joined(roomId)).toEqual([BOT, uid('adam'), uid('mia'), uid('olga')].sort());
    const levels = await bot.powerLevels(roomId);
    expect([levels[uid('olga')], levels[uid('adam')], levels[uid('mia')]]).toEqual([100, 75, undefined]);
    const recorded = await fx.db.query('SELECT fixes FROM reconcile_runs WHERE tenant = $1 ORDER BY id DESC LIMIT 1', [
      tenant,
    ]);
    expect(JSON.stringify(recorded.rows[0].fixes)).toContain(`joined ${uid('adam')}`);
  });

  /**
   * The room is lost behind the service's back: purged through the Admin API (admin mode), or, on
   * the appservice mode's homeserver, which has no admin, the bot made to leave it.
   */
  async function loseRoom(roomId: string): Promise<void> {
    if (appservice) {
      await matrixRequest(config.matrix.homeserverUrl, {
        method: 'POST',
        path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`,
        token: config.matrix.asToken,
        body: {},
      });
      return;
    }
    const admin = await adminToken(config);
    const del = await matrixRequest<{ delete_id: string }>(config.matrix.homeserverUrl, {
      method: 'DELETE',
      path: `/_synapse/admin/v2/rooms/${encodeURIComponent(roomId)}`,
      token: admin,
      body: { purge: true },
    });
    expect(del.delete_id).toBeTruthy();
    await eventually(
      async () => {
        const s = await matrixRequest<{ results: { status: string }[] }>(config.matrix.homeserverUrl, {
          method: 'GET',
          path: `/_synapse/admin/v2/rooms/delete_status/${encodeURIComponent(del.delete_id)}`,
          token: admin,
        });
        return s.results?.[0]?.status === 'complete' || (s as unknown as { status?: string }).status === 'complete';
      },
      60_000,
      'the room deletion to complete',
    );
  }

  it('a room deleted behind our back (or left by the bot) is reported, and no new room appears', async () => {
    const slug = 'vanishing';
    const { body } = await send('PUT', `/rooms/event/${slug}/members/victor`, { role: 'member' });
    await loseRoom(body.roomId);
    const roomsBefore = await bot.joinedRooms();

    const after = await send('PUT', `/rooms/event/${slug}/members/wendy`, { role: 'member' });
    expect(after.status).toBe(410);
    expect(after.body.errcode).toBe('OM_ROOM_MISSING');
    expect(after.body.error).toMatch(/gone from the homeserver/);

    const op = await eventually(
      async () => {
        const res = await fx.api.get(`/v1/operations/${encodeURIComponent(`room:${tenant}:event:${slug}`)}`);
        const o = (await res.json()) as { status: string; workflowStatus: string; failure?: string };
        return o.workflowStatus === 'FAILED' ? o : null;
      },
      30_000,
      'the room workflow to show as failed',
    );
    expect(op.failure).toMatch(/gone from the homeserver/);
    await sleep(500);
    expect(await bot.joinedRooms()).toEqual(roomsBefore);
    if (appservice) {
      // The room is still there, without the bot: its alias still names it, not a replacement.
      expect(await bot.resolveAlias(`#om_${tenant}_event_${slug}:localhost`)).toBe(body.roomId);
    } else {
      expect(await adminRoomSearch(config, await adminToken(config), `om_${tenant}_event_${slug}`)).toEqual([]);
      expect(await bot.resolveAlias(`#om_${tenant}_event_${slug}:localhost`)).toBeNull();
    }
  });

  it('archiving removes everyone but the bot and refuses further changes', async () => {
    const slug = 'old-news';
    await send('PUT', `/rooms/event/${slug}/members/anna`, { role: 'host' });
    const { status, body } = await send('DELETE', `/rooms/event/${slug}`);
    expect(status).toBe(200);
    expect(body.actions).toEqual(expect.arrayContaining([`removed ${uid('anna')}`, 'archived']));
    expect(await bot.joined(body.roomId)).toEqual([BOT]);
    const late = await send('PUT', `/rooms/event/${slug}/members/anna`, { role: 'host' });
    expect(late).toMatchObject({ status: 409, body: { errcode: 'OM_ROOM_ARCHIVED' } });
  });

  it('an archived public room is closed to joining; reopened, it is public again', async () => {
    const slug = 'open-day';
    const made = await send('PUT', `/rooms/event/${slug}`, { name: 'Open day', visibility: 'public' });
    const roomId = made.body.roomId as string;
    expect(await bot.joinRule(roomId)).toBe('public');
    expect((await fx.api.post(`/v1/tenants/${tenant}/users`, { slug: 'walt', displayName: 'Walt' })).status).toBe(200);
    const walt = await asPlatformUser(config, fx.db, tenant, 'walt');

    const archived = await send('DELETE', `/rooms/event/${slug}`);
    expect(archived.body.actions).toEqual(expect.arrayContaining(['join rule invite (was public)', 'archived']));
    expect(await bot.joinRule(roomId)).toBe('invite');
    expect(await joinAs(config, walt, roomId)).toMatchObject({ status: 403 });

    expect((await send('POST', `/rooms/event/${slug}/unarchive`)).status).toBe(200);
    expect(await bot.joinRule(roomId)).toBe('public');
    expect(await joinAs(config, walt, roomId)).toEqual({ status: 200 });
    expect((await fx.db.query('SELECT archived_join_rules FROM rooms WHERE tenant = $1 AND slug = $2', [tenant, slug])).rows).toEqual([
      { archived_join_rules: null },
    ]);
  });
});
