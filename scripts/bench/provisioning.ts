/**
 * Benchmark 1 (issue 7): N users provisioned through the API until every provisioning operation
 * completed, versus a plain script making the same Synapse Admin API calls directly (GET user,
 * PUT user, POST admin login), at the same concurrency, each side on its own tenant.
 */
import { configuredAdmin } from '../../adapters/matrix/admin.js';
import type { Config } from '../../lib/config.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import type { ApiClient } from './clients.js';
import { compare, measurement, runPool, type Comparison, type Measurement } from './stats.js';

export interface ProvisioningOptions {
  config: Config;
  api: ApiClient;
  users: number;
  concurrency: number;
  /** A fresh suffix so tenants never collide with an earlier run's. */
  runId: string;
  log: (msg: string) => void;
  /** Runs a timed side, measuring each component's CPU use meanwhile. */
  track: Track;
  /** The same Temporal work with nothing in it (scripts/bench/floor/), when a floor worker runs. */
  floor?: (tenant: string, n: number, concurrency: number) => Promise<Measurement>;
}

export type Track = <T>(fn: () => Promise<T>) => Promise<{ value: T; cores: Record<string, number> }>;

export const slugs = (n: number): string[] => Array.from({ length: n }, (_, i) => `user${String(i).padStart(4, '0')}`);

/** Through the API: POST /users for each slug, waiting for each operation to complete. */
export async function provisionViaApi(api: ApiClient, tenant: string, n: number, concurrency: number): Promise<Measurement> {
  const list = slugs(n);
  const started = performance.now();
  const { latenciesMs, errors } = await runPool(list, concurrency, async (slug) => {
    const body = await api.change('POST', `/v1/tenants/${tenant}/users`, { slug, displayName: `Bench ${slug}` });
    if (body.status !== 'completed' || typeof body.userId !== 'string') throw new Error(`${slug}: ${JSON.stringify(body)}`);
  });
  const seconds = (performance.now() - started) / 1000;
  for (const e of errors.slice(0, 3)) console.error(`  api provisioning error: ${String(e.error)}`);
  return measurement('API', n - errors.length, seconds, latenciesMs, errors.length);
}

/** Directly: what the provisioning activities do on the homeserver, nothing else (no database, no Temporal). */
export async function provisionDirect(
  config: Config,
  tenant: string,
  n: number,
  concurrency: number,
): Promise<{ m: Measurement; tokens: Map<string, string>; latenciesMs: number[] }> {
  const admin = configuredAdmin(config.matrix, 'BENCH_DIRECT');
  await admin.getUser(config.matrix.adminUserId); // the admin login, outside the timed part
  const list = slugs(n);
  const tokens = new Map<string, string>();
  const started = performance.now();
  const { latenciesMs, errors } = await runPool(list, concurrency, async (slug) => {
    const userId = matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);
    const displayName = `Bench ${slug}`;
    const existing = await admin.getUser(userId);
    if (!existing || existing.displayName !== displayName || existing.deactivated) {
      await admin.upsertUser(userId, { displayName, reactivate: existing?.deactivated === true });
    }
    tokens.set(slug, await admin.loginAs(userId));
  });
  const seconds = (performance.now() - started) / 1000;
  for (const e of errors.slice(0, 3)) console.error(`  direct provisioning error: ${String(e.error)}`);
  return { m: measurement('direct', n - errors.length, seconds, latenciesMs, errors.length), tokens, latenciesMs };
}

export async function provisioningBench(o: ProvisioningOptions): Promise<Comparison> {
  // Warm-up, untimed: the worker's first workflow tasks and both sides' connections.
  o.log('provisioning: warm-up (5 users each side)');
  await provisionViaApi(o.api, `bw-api-${o.runId}`, 5, 5);
  await provisionDirect(o.config, `bw-dir-${o.runId}`, 5, 5);

  o.log(`provisioning: direct, ${o.users} users at concurrency ${o.concurrency}`);
  const { value: direct, cores: directCores } = await o.track(() => provisionDirect(o.config, `bp-dir-${o.runId}`, o.users, o.concurrency));
  const baseline = direct.m;
  o.log(`  ${baseline.rate.toFixed(1)} users/s`);
  o.log(`provisioning: API, ${o.users} users at concurrency ${o.concurrency}`);
  const { value: ours, cores: apiCores } = await o.track(() => provisionViaApi(o.api, `bp-api-${o.runId}`, o.users, o.concurrency));
  o.log(`  ${ours.rate.toFixed(1)} users/s`);
  const notes: string[] = [];
  let floorDetails: Record<string, unknown> | undefined;
  if (o.floor) {
    await o.floor(`bw-floor-${o.runId}`, 5, 5);
    o.log(`provisioning: the Temporal floor (same Temporal work, empty workflow and activity), ${o.users} users at concurrency ${o.concurrency}`);
    const { value: floor, cores: floorCores } = await o.track(() => o.floor!(`bp-floor-${o.runId}`, o.users, o.concurrency));
    o.log(`  ${floor.rate.toFixed(1)} users/s`);
    floorDetails = { floor, cpu: floorCores };
    notes.push(floorNote(floor, floorCores, ours, baseline, 0.8));
  }
  return compare({
    id: 'provisioning',
    title: 'Provisioning (issue 7 #1)',
    unit: 'users/s',
    params: { users: o.users, concurrency: o.concurrency },
    ours,
    baseline,
    goal: 0.8,
    cpu: { ours: apiCores, direct: directCores },
    notes,
    ...(floorDetails ? { details: { temporalFloor: floorDetails } } : {}),
  });
}

/** What the floor says about the goal: the most Temporal lets through, against what the goal needs. */
export function floorNote(floor: Measurement, cores: Record<string, number>, ours: Measurement, direct: Measurement, goal: number): string {
  const busiest = Object.entries(cores)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
  const needed = goal * direct.rate;
  const verdict =
    floor.rate < needed
      ? `below the ${needed.toFixed(1)} users/s the goal needs (${goal}× direct) before any work is done: on this machine the goal is out of reach through Temporal, whatever the activity does`
      : `above the ${needed.toFixed(1)} users/s the goal needs (${goal}× direct): Temporal alone does not rule the goal out`;
  return (
    `Provisioning, Temporal floor: the API's Update-with-Start and one activity per user, with a workflow and an activity that do nothing ` +
    `(scripts/bench/floor/, its own worker; no API, homeserver or database): ${floor.rate.toFixed(1)} users/s ` +
    `(${floor.ops} in ${floor.seconds.toFixed(2)} s, p50 ${floor.latency.p50.toFixed(0)} ms; CPU ${busiest} cores), ` +
    `${verdict}. Ours reached ${(ours.rate / floor.rate).toFixed(2)} of the floor.`
  );
}
