/**
 * A users batch survives its worker: SIGKILLed mid-batch, another worker on the task queue finishes
 * it. The API answers 202 (API_WAIT_MS is short here) and the operation shows the progress while it
 * runs. Nothing is lost or doubled: every account is there with one stored token, and only the
 * chunks in flight at the kill (two at most, decision 0037) may read `unchanged` instead of `created`.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { accountOnServer, adminToken, listUsers } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { USERS_BATCH_CHUNK, USERS_BATCH_CHUNKS_IN_FLIGHT } from '../../vocabulary/users-batch.js';

const fx = serviceFixture('users-batch-restart', { API_WAIT_MS: '1000' }, 'ubr');
const { config, tenant } = fx;
let second: RunningProcess | undefined;
afterAll(async () => {
  await second?.stop();
});

interface Op {
  status: string;
  kind: string;
  state?: { total: number; done: number; counts: Record<string, number> };
  result?: { total: number; counts: Record<string, number>; users: { slug: string; outcome: string }[] };
}

const getOp = async (path: string): Promise<Op> => (await (await fx.api.get(path)).json()) as Op;

async function until(path: string, done: (op: Op) => boolean, timeoutMs: number): Promise<Op> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const op = await getOp(path);
    if (done(op)) return op;
    if (Date.now() > deadline) throw new Error(`operation still ${JSON.stringify(op)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a users batch whose worker dies', () => {
  it('is finished by another worker, with every user provisioned once', async () => {
    const n = 400;
    const users = Array.from({ length: n }, (_, i) => ({ slug: `crash-${i}`, displayName: `Crash ${i}` }));
    const res = await fx.api.post(`/v1/tenants/${tenant}/users:batch`, { users });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { status: string; operation: string; total: number; batchId: string };
    expect(accepted).toMatchObject({ status: 'running', total: n });
    expect(res.headers.get('location')).toBe(accepted.operation);

    // Progress while it runs: whole chunks done.
    const running = await until(accepted.operation, (op) => (op.state?.done ?? 0) >= USERS_BATCH_CHUNK, 60_000);
    expect(running).toMatchObject({ status: 'running', kind: 'users-batch', state: { total: n } });
    expect(running.state!.done).toBeLessThan(n);
    expect(running.state!.done % USERS_BATCH_CHUNK).toBe(0);

    await fx.worker.stop('SIGKILL');
    second = await startWorker(fx.taskQueue);
    const finished = await until(accepted.operation, (op) => op.status !== 'running', 120_000);

    expect(finished.status).toBe('completed');
    const { counts } = finished.result!;
    expect(counts.failed).toBe(0);
    expect(counts.created! + counts.unchanged!).toBe(n);
    expect(counts.unchanged).toBeLessThanOrEqual(USERS_BATCH_CHUNKS_IN_FLIGHT * USERS_BATCH_CHUNK);
    expect(finished.result!.users.map((u) => u.slug)).toEqual(users.map((u) => u.slug));

    const t = await adminToken(config);
    expect((await listUsers(config, t, `om_${tenant}_crash-`)).length).toBe(n);
    const rows = await fx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM matrix_users
       WHERE tenant = $1 AND slug LIKE 'crash-%' AND token_ciphertext IS NOT NULL AND token_generation = 1`,
      [tenant],
    );
    expect(rows.rows[0]!.n).toBe(n);
    expect((await accountOnServer(config, `@om_${tenant}_crash-399:localhost`))?.displayName).toBe('Crash 399');
  });
});
