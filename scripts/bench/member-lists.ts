/**
 * Bulk member lists (issue 18 #3): R rooms × M members with mixed roles, each room's complete list
 * set through the list route (PUT the room, then one `PUT …/members` per room, rooms concurrently),
 * versus the rooms benchmark's direct script in the same run (bot createRoom + invite + join with
 * the user's own token per membership + one power-levels write per room). Users are provisioned
 * beforehand on both sides, untimed. The final state of every room, on both sides, is checked on
 * the homeserver as the bot, and the `m.room.power_levels` events each room holds are counted.
 *
 * Several rounds on fresh tenants, the order of the sides alternating (direct first in the first
 * round): a side lasts under a minute, and whatever the homeserver does in the background (its
 * caches, its database's vacuum) or the machine does besides falls on both sides alike.
 */
import type { Comparison, Measurement } from './stats.js';
import { compare, measurement, roomsCheck, runPool } from './stats.js';
import { provisionDirect, provisionViaApi } from './provisioning.js';
import { direct, memberSlug, roleFor, roomSlug, verify, type RoomsOptions } from './rooms.js';
import { noRounds, roundRates, sideOrder, sideTotals, timedRound, type SideRounds, type Which } from './rounds.js';
import { describeSynapseCpu } from './synapse-cpu.js';

export interface MemberListsOptions extends RoomsOptions {
  rounds: number;
}

/** Each room's list through the route; latencies are per room (its PUT until its operation completed). */
async function viaLists(
  o: RoomsOptions,
  tenant: string,
): Promise<{ m: Measurement; latenciesMs: number[]; roomIds: string[]; problems: string[] }> {
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
  const m = measurement('API', done, seconds, rooms.latenciesMs, rooms.errors.length);
  return { m, latenciesMs: rooms.latenciesMs, roomIds, problems };
}

/** `m.room.power_levels` events per room. */
const levelEvents = (o: RoomsOptions, roomIds: readonly string[]): Promise<number[]> =>
  Promise.all(roomIds.map((id) => (id && id !== 'undefined' ? o.direct.powerLevelsEvents(id) : Promise.resolve(0))));

/** "2 per room (40 in 20 rooms, the creation's included)". */
function describeLevels(perRoom: readonly number[]): string {
  const min = Math.min(...perRoom);
  const max = Math.max(...perRoom);
  const total = perRoom.reduce((s, n) => s + n, 0);
  return `${min === max ? min : `${min}–${max}`} per room (${total} in ${perRoom.length} rooms, the creation's included)`;
}

/** One side of all rounds: its rounds (rounds.ts), and its rooms' checks. */
interface Side extends SideRounds {
  problems: string[];
  levels: number[];
}
const emptySide = (): Side => ({ ...noRounds(), problems: [], levels: [] });

export async function memberListsBench(o: MemberListsOptions): Promise<Comparison> {
  const ours = emptySide();
  const dir = emptySide();
  for (let k = 0; k < o.rounds; k++) {
    const apiTenant = `bl${k}-api-${o.runId}`;
    const directTenant = `bl${k}-dir-${o.runId}`;
    const tag = `member-lists, round ${k + 1}/${o.rounds}`;
    o.log(`${tag}: provisioning ${o.members} users on each side first (untimed)`);
    const pre = await provisionViaApi(o.api, apiTenant, o.members, o.concurrency);
    if (pre.errors) throw new Error(`member-lists: ${pre.errors} users could not be provisioned through the API`);
    const { m: preDirect, tokens } = await provisionDirect(o.config, directTenant, o.members, o.concurrency);
    if (preDirect.errors) throw new Error(`member-lists: ${preDirect.errors} users could not be provisioned directly`);

    const hs = o.config.matrix.homeserverUrl;
    const rooms: Partial<Record<Which, { roomIds: string[]; problems?: string[] }>> = {};
    for (const which of sideOrder(k)) {
      if (which === 'direct') {
        o.log(`${tag}: direct, ${o.rooms} rooms × ${o.members} members at concurrency ${o.concurrency}`);
        rooms.direct = await timedRound(o.track, hs, dir, () => direct(o, directTenant, tokens));
      } else {
        o.log(`${tag}: API, ${o.rooms} lists of ${o.members} members, ${o.concurrency} rooms at once`);
        rooms.ours = await timedRound(o.track, hs, ours, () => viaLists(o, apiTenant));
      }
      o.log(`  ${(which === 'direct' ? dir : ours).rounds.at(-1)!.m.rate.toFixed(1)} memberships/s`);
    }
    const [d, a] = [rooms.direct!, rooms.ours!];

    o.log(`${tag}: checking the final state of every room on the homeserver`);
    ours.problems.push(...(a.problems ?? []), ...(await verify(o, apiTenant, a.roomIds)));
    dir.problems.push(...(await verify(o, directTenant, d.roomIds)));
    ours.levels.push(...(await levelEvents(o, a.roomIds)));
    dir.levels.push(...(await levelEvents(o, d.roomIds)));
  }
  const [a, d] = [sideTotals(ours), sideTotals(dir)];
  const synapse = { ours: a.synapse, direct: d.synapse };
  o.log(`  Synapse per membership, ours: ${describeSynapseCpu(synapse.ours)}`);
  o.log(`  Synapse per membership, direct: ${describeSynapseCpu(synapse.direct)}`);
  const total = o.rooms * o.rounds;
  const apiCheck = roomsCheck(total, total * o.members, ours.problems);
  const directCheck = roomsCheck(total, total * o.members, dir.problems);
  const ratios = ours.rounds.map((r, k) => `${(r.m.rate / dir.rounds[k]!.m.rate).toFixed(2)}×`).join(', ');
  return compare({
    id: 'member-lists',
    title: 'Bulk member lists, mixed roles (issue 18 #3)',
    unit: 'memberships/s',
    params: { rooms: total, members: o.members, concurrency: o.concurrency, rounds: o.rounds },
    ours: a.m,
    baseline: d.m,
    goal: 1.0,
    cpu: { ours: a.cores, direct: d.cores },
    check: {
      ok: apiCheck.ok && directCheck.ok,
      detail: `ours: ${apiCheck.detail}; direct: ${directCheck.detail}`,
    },
    notes: [
      `Bulk member lists: ${o.rounds} round(s) on fresh tenants, each of ${o.rooms} rooms × ${o.members} members, the order of the sides alternating (direct first in the first round); figures are the rounds together, per round direct ${roundRates(dir)} and ours ${roundRates(ours)} memberships/s (ratios ${ratios}). Ours: one \`PUT …/rooms/event/{slug}\` then one \`PUT …/members\` with the room's complete list per room, ${o.concurrency} rooms at once; latencies are per room (both requests, until the list's operation completed). Direct: the rooms benchmark's script (per membership: bot invite + join with the user's own token; one power-levels read and write per room). Members provisioned beforehand on both sides (untimed). \`m.room.power_levels\` events: ours ${describeLevels(ours.levels)}; direct ${describeLevels(dir.levels)}.`,
      `Synapse's CPU per membership by its own metrics — ours: ${describeSynapseCpu(synapse.ours)}; direct: ${describeSynapseCpu(synapse.direct)}.`,
    ],
    details: { powerLevelsEvents: { ours: ours.levels, direct: dir.levels }, synapse, rounds: { ours: roundRates(ours), direct: roundRates(dir) } },
  });
}
