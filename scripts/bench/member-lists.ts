/**
 * Bulk member lists (issue 18 #3): R rooms × M members with mixed roles, each room's complete list
 * set through the list route (PUT the room, then one `PUT …/members` per room, rooms concurrently),
 * versus the rooms benchmark's direct script in the same run (bot createRoom + invite + join with
 * the user's own token per membership + one power-levels write per room). Users are provisioned
 * beforehand on both sides, untimed. The final state of every room, on both sides, is checked on
 * the homeserver as the bot, and the `m.room.power_levels` events each room holds are counted.
 */
import type { Comparison, Measurement } from './stats.js';
import { compare, measurement, roomsCheck, runPool } from './stats.js';
import { provisionDirect, provisionViaApi } from './provisioning.js';
import { direct, memberSlug, roleFor, roomSlug, verify, type RoomsOptions } from './rooms.js';
import { describeSynapseCpu, synapseCpu, synapseCpuPerOp } from './synapse-cpu.js';

/** Each room's list through the route; latencies are per room (its PUT until its operation completed). */
async function viaLists(
  o: RoomsOptions,
  tenant: string,
): Promise<{ m: Measurement; roomIds: string[]; problems: string[] }> {
  const roomIds: string[] = new Array<string>(o.rooms);
  const problems: string[] = [];
  const base = `/v1/tenants/${tenant}/rooms/event`;
  const started = performance.now();
  const rooms = await runPool(
    Array.from({ length: o.rooms }, (_, r) => r),
    o.concurrency,
    async (r) => {
      const room = await o.api.change('PUT', `${base}/${roomSlug(r)}`, { name: `Bench room ${r}` });
      roomIds[r] = String(room.roomId);
      const members = Array.from({ length: o.members }, (_, j) => ({ userSlug: memberSlug(j), role: roleFor(r, j) }));
      const body = await o.api.change('PUT', `${base}/${roomSlug(r)}/members`, { members });
      // A 200 carries the list's outcome (a 202 polled to completion carries the room's state instead).
      const outcome = body.members as { added?: unknown[]; failed?: unknown[] } | undefined;
      if (outcome && (outcome.added?.length !== o.members || outcome.failed?.length !== 0)) {
        problems.push(`room ${r}: list outcome ${JSON.stringify(outcome)?.slice(0, 200)}`);
      }
    },
  );
  const seconds = (performance.now() - started) / 1000;
  for (const e of rooms.errors.slice(0, 3)) console.error(`  api member-lists error: ${String(e.error)}`);
  const done = (o.rooms - rooms.errors.length) * o.members;
  return { m: measurement('API', done, seconds, rooms.latenciesMs, rooms.errors.length), roomIds, problems };
}

/** `m.room.power_levels` events per room: min–max and the total over the rooms. */
async function levelEvents(o: RoomsOptions, roomIds: readonly string[]): Promise<{ perRoom: number[]; text: string }> {
  const perRoom = await Promise.all(
    roomIds.map((id) => (id && id !== 'undefined' ? o.direct.powerLevelsEvents(id) : Promise.resolve(0))),
  );
  const min = Math.min(...perRoom);
  const max = Math.max(...perRoom);
  const total = perRoom.reduce((s, n) => s + n, 0);
  return {
    perRoom,
    text: `${min === max ? min : `${min}–${max}`} per room (${total} in ${roomIds.length} rooms, the creation's included)`,
  };
}

export async function memberListsBench(o: RoomsOptions): Promise<Comparison> {
  const apiTenant = `bl-api-${o.runId}`;
  const directTenant = `bl-dir-${o.runId}`;
  o.log(`member-lists: provisioning ${o.members} users on each side first (untimed)`);
  const pre = await provisionViaApi(o.api, apiTenant, o.members, o.concurrency);
  if (pre.errors) throw new Error(`member-lists: ${pre.errors} users could not be provisioned through the API`);
  const { m: preDirect, tokens } = await provisionDirect(o.config, directTenant, o.members, o.concurrency);
  if (preDirect.errors) throw new Error(`member-lists: ${preDirect.errors} users could not be provisioned directly`);

  o.log(`member-lists: direct, ${o.rooms} rooms × ${o.members} members at concurrency ${o.concurrency}`);
  const hs = o.config.matrix.homeserverUrl;
  const s0 = await synapseCpu(hs);
  const { value: d, cores: directCores } = await o.track(() => direct(o, directTenant, tokens));
  const s1 = await synapseCpu(hs);
  o.log(`  ${d.m.rate.toFixed(1)} memberships/s`);
  o.log(`member-lists: API, ${o.rooms} lists of ${o.members} members, ${o.concurrency} rooms at once`);
  const { value: a, cores: apiCores } = await o.track(() => viaLists(o, apiTenant));
  const s2 = await synapseCpu(hs);
  o.log(`  ${a.m.rate.toFixed(1)} memberships/s`);
  const synapse = { direct: synapseCpuPerOp(s0, s1, d.m.ops), ours: synapseCpuPerOp(s1, s2, a.m.ops) };
  o.log(`  Synapse per membership, ours: ${describeSynapseCpu(synapse.ours)}`);
  o.log(`  Synapse per membership, direct: ${describeSynapseCpu(synapse.direct)}`);

  o.log('member-lists: checking the final state of every room on the homeserver');
  const apiCheck = roomsCheck(o.rooms, o.rooms * o.members, [
    ...a.problems,
    ...(await verify(o, apiTenant, a.roomIds)),
  ]);
  const directCheck = roomsCheck(o.rooms, o.rooms * o.members, await verify(o, directTenant, d.roomIds));
  const [oursLevels, directLevels] = [await levelEvents(o, a.roomIds), await levelEvents(o, d.roomIds)];
  return compare({
    id: 'member-lists',
    title: 'Bulk member lists, mixed roles (issue 18 #3)',
    unit: 'memberships/s',
    params: { rooms: o.rooms, members: o.members, concurrency: o.concurrency },
    ours: a.m,
    baseline: d.m,
    goal: 1.0,
    cpu: { ours: apiCores, direct: directCores },
    check: {
      ok: apiCheck.ok && directCheck.ok,
      detail: `ours: ${apiCheck.detail}; direct: ${directCheck.detail}`,
    },
    notes: [
      `Bulk member lists: one \`PUT …/rooms/event/{slug}\` then one \`PUT …/members\` with the room's complete list per room, ${o.concurrency} rooms at once; latencies are per room (both requests, until the list's operation completed). Direct: the rooms benchmark's script (per membership: bot invite + join with the user's own token; one power-levels read and write per room). Members provisioned beforehand on both sides (untimed). \`m.room.power_levels\` events: ours ${oursLevels.text}; direct ${directLevels.text}.`,
      `Synapse's CPU per membership by its own metrics — ours: ${describeSynapseCpu(synapse.ours)}; direct: ${describeSynapseCpu(synapse.direct)}.`,
    ],
    details: { powerLevelsEvents: { ours: oursLevels.perRoom, direct: directLevels.perRoom }, synapse },
  });
}
