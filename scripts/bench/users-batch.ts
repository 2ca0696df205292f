/**
 * Benchmark (issue 18 #3): N users provisioned through `POST /v1/tenants/{tenant}/users:batch`
 * (one batch, or a few of equal size sent one after the other), versus the provisioning
 * benchmark's direct script (Admin API GET user, PUT user, POST admin login per user, nothing
 * stored) for the same N slugs and display names, each side on its own tenant. Done for ours =
 * every batch answered completed with every user's outcome `created`; then, untimed, the final
 * state of both sides is checked: every account on the homeserver with its display name, and on
 * ours a token stored (encrypted) for every user.
 */
import { configuredAdmin } from '../../adapters/matrix/admin.js';
import { createDb } from '../../adapters/store/db.js';
import type { Config } from '../../lib/config.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import type { ApiClient } from './clients.js';
import { provisionDirect, slugs, type Track } from './provisioning.js';
import { combineRounds, compare, measurement, runPool, type CheckResult, type Comparison, type Measurement, type Round } from './stats.js';

export interface UsersBatchOptions {
  config: Config;
  api: ApiClient;
  users: number;
  /** Batches the users are split into (sent one after the other). */
  batches: number;
  /** The direct script's concurrency. */
  concurrency: number;
  /** Rounds of direct-then-ours (fresh tenants each): alternating spreads other load on a shared machine over both sides. */
  rounds: number;
  runId: string;
  log: (msg: string) => void;
  track: Track;
}

const displayName = (slug: string): string => `Bench ${slug}`;

/** Through the API: the users in `batches` requests, one after the other; each must answer every user created. */
export async function provisionBatchViaApi(
  api: ApiClient,
  tenant: string,
  n: number,
  batches: number,
): Promise<{ m: Measurement; latenciesMs: number[] }> {
  const list = slugs(n);
  const size = Math.ceil(n / batches);
  const parts = Array.from({ length: Math.ceil(n / size) }, (_, b) => list.slice(b * size, (b + 1) * size));
  const started = performance.now();
  let created = 0;
  const { latenciesMs, errors } = await runPool(parts, 1, async (part) => {
    const body = await api.change('POST', `/v1/tenants/${tenant}/users:batch`, {
      users: part.map((slug) => ({ slug, displayName: displayName(slug) })),
    });
    const counts = body.counts as Record<string, number> | undefined;
    if (body.status !== 'completed' || counts?.created !== part.length) {
      throw new Error(`batch of ${part.length}: ${JSON.stringify({ status: body.status, counts, first: (body.users as unknown[] | undefined)?.[0] })}`);
    }
    created += counts.created;
  });
  const seconds = (performance.now() - started) / 1000;
  for (const e of errors.slice(0, 3)) console.error(`  api users batch error: ${String(e.error)}`);
  return { m: measurement('API (users:batch)', created, seconds, latenciesMs, n - created), latenciesMs };
}

/** Every account on the homeserver, active, with its display name; on ours also a stored token each. */
async function finalState(o: UsersBatchOptions, tenant: string, n: number, tokens: number | 'stored'): Promise<CheckResult> {
  const admin = configuredAdmin(o.config.matrix, 'BENCH_CHECK');
  const problems: string[] = [];
  await runPool(slugs(n), 20, async (slug) => {
    const userId = matrixUserId(o.config.matrix.userPrefix, o.config.matrix.serverName, tenant, slug);
    const u = await admin.getUser(userId);
    if (!u) problems.push(`${userId} missing`);
    else if (u.deactivated || u.displayName !== displayName(slug)) problems.push(`${userId}: ${JSON.stringify(u)}`);
  }).then(({ errors }) => errors.forEach((e) => problems.push(String(e.error))));
  let stored = typeof tokens === 'number' ? tokens : 0;
  if (tokens === 'stored') {
    const db = createDb(o.config.databaseUrl, 1, o.config.database);
    try {
      const r = await db.query<{ n: string }>(
        'SELECT count(*) AS n FROM matrix_users WHERE tenant = $1 AND token_ciphertext IS NOT NULL',
        [tenant],
      );
      stored = Number(r.rows[0]!.n);
    } finally {
      await db.end();
    }
  }
  if (stored !== n) problems.push(`${stored} tokens ${tokens === 'stored' ? 'stored' : 'issued'}, want ${n}`);
  if (problems.length === 0) return { ok: true, detail: `${n} accounts with their display names, ${stored} tokens ${tokens === 'stored' ? 'stored' : 'issued'}` };
  return { ok: false, detail: `${problems.length} problems: ${problems.slice(0, 5).join('; ')}` };
}

/** CPU milliseconds per user of a side (every tracked process and the rest of the machine left out). */
const cpuPerUser = (cores: Record<string, number>, m: Measurement): number =>
  (1000 * m.seconds * Object.entries(cores).reduce((s, [k, v]) => (k === 'rest of machine' ? s : s + v), 0)) / Math.max(1, m.ops);

export async function usersBatchBench(o: UsersBatchOptions): Promise<Comparison> {
  o.log('users batch: warm-up (5 users each side)');
  await provisionBatchViaApi(o.api, `bbw-api-${o.runId}`, 5, 1);
  await provisionDirect(o.config, `bbw-dir-${o.runId}`, 5, 5);

  const directs: Round[] = [];
  const ourss: Round[] = [];
  const checks: CheckResult[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const dirTenant = `bb${r}-dir-${o.runId}`;
    const apiTenant = `bb${r}-api-${o.runId}`;
    o.log(`users batch, round ${r + 1}/${o.rounds}: direct, ${o.users} users at concurrency ${o.concurrency}`);
    const { value: direct, cores: directCores } = await o.track(() => provisionDirect(o.config, dirTenant, o.users, o.concurrency));
    o.log(`  ${direct.m.rate.toFixed(1)} users/s`);
    directs.push({ m: direct.m, latenciesMs: direct.latenciesMs, cores: directCores });
    o.log(`users batch, round ${r + 1}/${o.rounds}: API, ${o.users} users in ${o.batches} batch(es)`);
    const { value: ours, cores: apiCores } = await o.track(() => provisionBatchViaApi(o.api, apiTenant, o.users, o.batches));
    o.log(`  ${ours.m.rate.toFixed(1)} users/s`);
    ourss.push({ ...ours, cores: apiCores });
    checks.push(await finalState(o, apiTenant, o.users, 'stored'), await finalState(o, dirTenant, o.users, direct.tokens.size));
  }
  const direct = combineRounds(directs);
  const ours = combineRounds(ourss);
  const failed = checks.filter((c) => !c.ok);
  const rates = (xs: typeof directs): string => xs.map((x) => x.m.rate.toFixed(1)).join(', ');
  const oursCpu = cpuPerUser(ours.cores, ours.m);
  const directCpu = cpuPerUser(direct.cores, direct.m);
  return compare({
    id: 'users-batch',
    title: 'Bulk provisioning, users batch (issue 18 #3)',
    unit: 'users/s',
    params: { users: o.users * o.rounds, batches: o.batches * o.rounds, rounds: o.rounds, 'direct concurrency': o.concurrency },
    ours: ours.m,
    baseline: direct.m,
    goal: 0.9,
    check: {
      ok: failed.length === 0,
      detail: failed.length === 0 ? `both sides, each round: ${checks[0]!.detail} (ours), ${checks[1]!.detail} (direct)` : failed.map((c) => c.detail).join('; '),
    },
    cpu: { ours: ours.cores, direct: direct.cores },
    notes: [
      `Users batch: ${o.rounds} round(s), each the direct script then ours on fresh tenants (alternating, so that load from outside the benchmark falls on both sides); figures are the rounds together, per round direct ${rates(directs)} and ours ${rates(ourss)} users/s. ` +
        `Ours = \`POST /v1/tenants/{tenant}/users:batch\` with ${o.users} users in ${o.batches} request(s) per round, done when every batch answered completed with every user \`created\` (account made, token issued and stored encrypted); its latencies are per batch. ` +
        `Direct: the provisioning script (Admin API GET user, PUT user, POST admin login per user, nothing stored) for the same ${o.users} slugs at concurrency ${o.concurrency}. ` +
        'Final state checked untimed after each round on both sides: each account on the homeserver, active, with its display name; ours a stored token per user (PostgreSQL), direct a token per user issued. ' +
        `CPU per user of the processes the benchmark tracks (the rest of the machine left out): ours ${oursCpu.toFixed(1)} ms, direct ${directCpu.toFixed(1)} ms — at those costs the machine's 2 cores would give ours ${(directCpu / oursCpu).toFixed(2)}× the direct rate, a figure the load from outside the benchmark does not move as much as the rates.`,
    ],
  });
}
