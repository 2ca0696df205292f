/**
 * Benchmark 2 (issue 7): R rooms × M members with mixed roles through the API (PUT the room, then
 * PUT every membership concurrently) versus the same minimal Matrix calls made directly (the bot
 * creates each room with its alias, invites, each user joins with their own token, one
 * power-levels write per room). Users are provisioned beforehand on both sides, untimed. The
 * final state of every room, on both sides, is then checked on the homeserver as the bot.
 */
import type { Config } from '../../lib/config.js';
import { powerLevelFor } from '../../vocabulary/roles.js';
import { matrixUserId, roomAliasLocalpart } from '../../vocabulary/ids.js';
import type { ApiClient, DirectMatrix } from './clients.js';
import { provisionDirect, provisionViaApi, type Track } from './provisioning.js';
import { compare, measurement, roomProblems, roomsCheck, runPool, type Comparison, type ExpectedRoom, type Measurement } from './stats.js';

export interface RoomsOptions {
  config: Config;
  api: ApiClient;
  direct: DirectMatrix;
  rooms: number;
  members: number;
  concurrency: number;
  runId: string;
  log: (msg: string) => void;
  track: Track;
}

type Role = 'host' | 'moderator' | 'speaker' | 'member';

/** A fixed mix per room: about 1 in 25 hosts, 2 in 25 moderators, 5 in 25 speakers, the rest members. */
export function roleFor(room: number, member: number): Role {
  const k = (room * 7 + member) % 25;
  if (k === 0) return 'host';
  if (k <= 2) return 'moderator';
  if (k <= 7) return 'speaker';
  return 'member';
}

export const memberSlug = (j: number): string => `user${String(j).padStart(4, '0')}`;
export const roomSlug = (r: number): string => `room-${r}`;

/** Every (room, member) pair, rooms varying fastest, so concurrent requests spread over rooms. */
function pairs(rooms: number, members: number): { r: number; j: number }[] {
  const out: { r: number; j: number }[] = [];
  for (let j = 0; j < members; j++) for (let r = 0; r < rooms; r++) out.push({ r, j });
  return out;
}

async function viaApi(o: RoomsOptions, tenant: string): Promise<{ m: Measurement; roomIds: string[] }> {
  const roomIds: string[] = new Array<string>(o.rooms);
  const base = `/v1/tenants/${tenant}/rooms/event`;
  const started = performance.now();
  const created = await runPool(
    Array.from({ length: o.rooms }, (_, r) => r),
    o.concurrency,
    async (r) => {
      const body = await o.api.change('PUT', `${base}/${roomSlug(r)}`, { name: `Bench room ${r}` });
      roomIds[r] = String(body.roomId);
    },
  );
  const members = await runPool(pairs(o.rooms, o.members), o.concurrency, async ({ r, j }) => {
    await o.api.change('PUT', `${base}/${roomSlug(r)}/members/${memberSlug(j)}`, { role: roleFor(r, j) });
  });
  const seconds = (performance.now() - started) / 1000;
  const errors = created.errors.length + members.errors.length;
  for (const e of [...created.errors, ...members.errors].slice(0, 3)) console.error(`  api rooms error: ${String(e.error)}`);
  return { m: measurement('API', o.rooms * o.members - members.errors.length, seconds, members.latenciesMs, errors), roomIds };
}

/** The direct script (also the member lists benchmark's baseline). */
export async function direct(
  o: RoomsOptions,
  tenant: string,
  tokens: Map<string, string>,
): Promise<{ m: Measurement; roomIds: string[]; latenciesMs: number[] }> {
  const { config } = o;
  const uid = (j: number): string => matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, memberSlug(j));
  const roomIds: string[] = new Array<string>(o.rooms);
  const started = performance.now();
  const created = await runPool(
    Array.from({ length: o.rooms }, (_, r) => r),
    o.concurrency,
    async (r) => {
      roomIds[r] = await o.direct.createRoom(roomAliasLocalpart(config.matrix.userPrefix, tenant, 'event', roomSlug(r)), `Bench room ${r}`);
    },
  );
  const members = await runPool(pairs(o.rooms, o.members), o.concurrency, async ({ r, j }) => {
    await o.direct.invite(roomIds[r]!, uid(j));
    await o.direct.join(roomIds[r]!, tokens.get(memberSlug(j))!);
  });
  const levels = await runPool(
    Array.from({ length: o.rooms }, (_, r) => r),
    o.concurrency,
    async (r) => {
      const current = await o.direct.powerLevels(roomIds[r]!);
      const users = { ...(current.users ?? {}) };
      for (let j = 0; j < o.members; j++) {
        const level = powerLevelFor(config.rooms.powerLevels, 'event', roleFor(r, j));
        if (level !== 0) users[uid(j)] = level;
      }
      await o.direct.setPowerLevels(roomIds[r]!, { ...current, users });
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const all = [...created.errors, ...members.errors, ...levels.errors];
  for (const e of all.slice(0, 3)) console.error(`  direct rooms error: ${String(e.error)}`);
  const m = measurement('direct', o.rooms * o.members - members.errors.length, seconds, members.latenciesMs, all.length);
  return { m, roomIds, latenciesMs: members.latenciesMs };
}

/** Every room's joined members and managed power levels, on the homeserver as the bot, against the plan. */
export async function verify(o: RoomsOptions, tenant: string, roomIds: readonly string[]): Promise<string[]> {
  const { config } = o;
  const bot = `@${config.matrix.botLocalpart}:${config.matrix.serverName}`;
  const prefix = `@${config.matrix.userPrefix}_${tenant}_`;
  const problems: string[] = [];
  for (let r = 0; r < o.rooms; r++) {
    const roomId = roomIds[r];
    if (!roomId || roomId === 'undefined') {
      problems.push(`room ${r}: never created`);
      continue;
    }
    const expected: ExpectedRoom = { roomId, members: {} };
    for (let j = 0; j < o.members; j++) {
      expected.members[matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, memberSlug(j))] = powerLevelFor(
        config.rooms.powerLevels,
        'event',
        roleFor(r, j),
      );
    }
    const [joined, pl] = await Promise.all([o.direct.joined(roomId), o.direct.powerLevels(roomId)]);
    problems.push(...roomProblems(expected, { joined, powerLevelUsers: pl.users ?? {}, usersDefault: pl.users_default ?? 0 }, bot, prefix));
  }
  return problems;
}

export async function roomsBench(o: RoomsOptions): Promise<Comparison> {
  const apiTenant = `br-api-${o.runId}`;
  const directTenant = `br-dir-${o.runId}`;
  o.log(`rooms: provisioning ${o.members} users on each side first (untimed)`);
  const pre = await provisionViaApi(o.api, apiTenant, o.members, o.concurrency);
  if (pre.errors) throw new Error(`rooms: ${pre.errors} users could not be provisioned through the API`);
  const { m: preDirect, tokens } = await provisionDirect(o.config, directTenant, o.members, o.concurrency);
  if (preDirect.errors) throw new Error(`rooms: ${preDirect.errors} users could not be provisioned directly`);

  o.log(`rooms: direct, ${o.rooms} rooms × ${o.members} members at concurrency ${o.concurrency}`);
  const { value: d, cores: directCores } = await o.track(() => direct(o, directTenant, tokens));
  o.log(`  ${d.m.rate.toFixed(1)} memberships/s`);
  o.log(`rooms: API, ${o.rooms} rooms × ${o.members} members at concurrency ${o.concurrency}`);
  const { value: a, cores: apiCores } = await o.track(() => viaApi(o, apiTenant));
  o.log(`  ${a.m.rate.toFixed(1)} memberships/s`);

  o.log('rooms: checking the final state of every room on the homeserver');
  const apiCheck = roomsCheck(o.rooms, o.rooms * o.members, await verify(o, apiTenant, a.roomIds));
  const directCheck = roomsCheck(o.rooms, o.rooms * o.members, await verify(o, directTenant, d.roomIds));
  return compare({
    id: 'rooms',
    title: 'Rooms × members, mixed roles (issue 7 #2)',
    unit: 'memberships/s',
    params: { rooms: o.rooms, members: o.members, concurrency: o.concurrency },
    ours: a.m,
    baseline: d.m,
    goal: 0.7,
    cpu: { ours: apiCores, direct: directCores },
    check: {
      ok: apiCheck.ok && directCheck.ok,
      detail: `ours: ${apiCheck.detail}; direct: ${directCheck.detail}`,
    },
  });
}
