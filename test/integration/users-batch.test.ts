/**
 * The users batch end to end on the real stack: API → Temporal → worker process → Synapse, with
 * the credentials in PostgreSQL. The worker reaches Synapse through a recording proxy in this
 * process (it forwards everything unchanged), so the test sees every request it makes: a batch
 * repeated must make no homeserver write at all.
 *
 * Runs in both identity modes (jest.appservice.config.js).
 */
import { describe, expect, it } from '@jest/globals';
import { accountOnServer, adminToken, listUsers, whoami } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { testConfig } from '../helpers/env.js';
import { recordHomeserver, type Seen } from '../helpers/recording-proxy.js';

const homeserver = testConfig().matrix.homeserverUrl;
// Registered before the fixture's own beforeAll, which starts the worker with workerEnv as it is then.
const proxy = recordHomeserver(homeserver);
const workerEnv = proxy.workerEnv;

const fx = serviceFixture('users-batch', { API_WAIT_MS: '120000' }, 'ub', workerEnv);
const { config, tenant } = fx;
const appservice = config.matrix.identityMode === 'appservice';
const store = () => createUserStore(fx.db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
const userId = (slug: string) => `@om_${tenant}_${slug}:localhost`;

interface BatchAnswer {
  status: string;
  workflowId: string;
  operation: string;
  total: number;
  counts: Record<string, number>;
  users: { slug: string; userId: string; outcome: string; error?: { type: string; message: string } }[];
  errcode?: string;
  error?: string;
}

async function batch(users: { slug: string; displayName: string }[]): Promise<{ status: number; body: BatchAnswer }> {
  const res = await fx.api.post(`/v1/tenants/${tenant}/users:batch`, { users });
  return { status: res.status, body: (await res.json()) as BatchAnswer };
}

async function provision(slug: string, displayName: string): Promise<{ created: boolean }> {
  const res = await fx.api.post(`/v1/tenants/${tenant}/users`, { slug, displayName });
  const body = (await res.json()) as { created: boolean };
  if (res.status !== 200) throw new Error(`${slug}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function tokenRows(slugs: string[]) {
  const r = await fx.db.query<{ slug: string; token_ciphertext: Buffer | null; token_generation: number }>(
    'SELECT slug, token_ciphertext, token_generation FROM matrix_users WHERE tenant = $1 AND slug = ANY($2) ORDER BY slug',
    [tenant, slugs],
  );
  return r.rows;
}

/** The requests that change something on the homeserver, in this identity mode. */
function writes(seen: Seen[]): Seen[] {
  return seen.filter((s) => {
    if (s.method === 'GET') return false;
    // Appservice mode: the deactivation check logs in and out again (a device made and removed),
    // and registration is tried first and refused with M_USER_IN_USE: neither changes the account.
    if (appservice && /\/_matrix\/client\/v3\/(login|logout)$/.test(s.path)) return false;
    if (appservice && s.path === '/_matrix/client/v3/register' && s.status === 400) return false;
    return true;
  });
}

const slugs = Array.from({ length: 200 }, (_, i) => `batch-${i}`);
const names = (suffix = '') => slugs.map((slug, i) => ({ slug, displayName: `Batch User ${i}${suffix}` }));

describe('POST /v1/tenants/{tenant}/users:batch', () => {
  it('provisions 200 users with exact outcomes: new ones created, renamed ones changed, the rest unchanged', async () => {
    // 20 provisioned before with another display name, 10 with the same.
    for (let i = 0; i < 20; i++) await provision(slugs[i]!, `Old Name ${i}`);
    for (let i = 20; i < 30; i++) await provision(slugs[i]!, `Batch User ${i}`);
    const tokensBefore = await tokenRows(slugs.slice(0, 30));

    const { status, body } = await batch(names());
    expect(status).toBe(200);
    expect(body.status).toBe('completed');
    expect(body.workflowId).toMatch(new RegExp(`^users-batch:${tenant}:[0-9a-f-]{36}$`));
    expect(body.total).toBe(200);
    expect(body.counts).toEqual({ created: 170, displayNameChanged: 20, reactivated: 0, unchanged: 10, failed: 0 });
    expect(body.users.map((u) => u.slug)).toEqual(slugs);
    body.users.forEach((u, i) => {
      expect(u).toEqual({
        slug: slugs[i],
        userId: userId(slugs[i]!),
        outcome: i < 20 ? 'displayNameChanged' : i < 30 ? 'unchanged' : 'created',
      });
    });

    // Every account on the homeserver, with its display name.
    const onServer = await Promise.all(slugs.map((s) => accountOnServer(config, userId(s))));
    expect(onServer.map((a) => a?.displayName)).toEqual(names().map((n) => n.displayName));
    // The tokens of the users there before are kept; the new ones have one each (admin mode).
    expect(await tokenRows(slugs.slice(0, 30))).toEqual(tokensBefore);
    const rows = await tokenRows(slugs);
    expect(rows).toHaveLength(200);
    expect(rows.every((r) => (r.token_ciphertext !== null) === !appservice)).toBe(true);
    if (!appservice) {
      const token = await store().getToken(tenant, slugs[150]!);
      expect(await whoami(config, token!)).toBe(userId(slugs[150]!));
    }

    // The operation says the same.
    const op = (await (await fx.api.get(body.operation)).json()) as {
      status: string;
      kind: string;
      result: { counts: Record<string, number>; users: unknown[] };
    };
    expect(op).toMatchObject({ status: 'completed', kind: 'users-batch', result: { counts: body.counts } });
    expect(op.result.users).toHaveLength(200);
  });

  it('the same batch again: all unchanged, no homeserver write, no new token', async () => {
    const tokensBefore = await tokenRows(slugs);
    const from = proxy.seen.length;
    const { status, body } = await batch(names());
    expect(status).toBe(200);
    expect(body.counts).toEqual({ created: 0, displayNameChanged: 0, reactivated: 0, unchanged: 200, failed: 0 });
    const seen = proxy.seen.slice(from);
    // The proxy did see the batch's reads: the check below can fail.
    expect(seen.filter((s) => s.method === 'GET').length).toBeGreaterThanOrEqual(200);
    expect(writes(seen)).toEqual([]);
    expect(await tokenRows(slugs)).toEqual(tokensBefore);
  });

  it('a changed display name in a repeated batch is the one write it makes', async () => {
    const users = names();
    users[7] = { slug: slugs[7]!, displayName: 'Renamed Seven' };
    const from = proxy.seen.length;
    const { body } = await batch(users);
    expect(body.counts).toMatchObject({ displayNameChanged: 1, unchanged: 199 });
    expect(body.users[7]!.outcome).toBe('displayNameChanged');
    expect(writes(proxy.seen.slice(from))).toHaveLength(1);
    expect((await accountOnServer(config, userId(slugs[7]!)))?.displayName).toBe('Renamed Seven');
  });

  it('refuses a batch with an invalid entry with 400 naming it, and provisions none of it', async () => {
    const users = [
      { slug: 'fresh-1', displayName: 'Fresh 1' },
      { slug: 'no spaces', displayName: 'Bad' },
      { slug: 'fresh-2', displayName: 'Fresh 2' },
      { slug: 'fresh-1', displayName: 'Again' },
    ];
    const { status, body } = await batch(users);
    expect(status).toBe(400);
    expect(body.errcode).toBe('M_INVALID_PARAM');
    expect(body.error).toMatch(/^2 invalid entries: users\[1\]\.slug cannot be mapped to a Matrix localpart/);
    expect(body.error).toContain('users[3].slug repeats users[0].slug "fresh-1"');
    expect(await accountOnServer(config, userId('fresh-1'))).toBeNull();
  });

  it("a renamed user: the old slug is a 409 naming the new one; under the new slug the batch keeps the user's account", async () => {
    await provision('before-rename', 'Before');
    const renamed = await fx.api.post(`/v1/tenants/${tenant}/users/before-rename/rename`, { newSlug: 'after-rename' });
    expect(renamed.status).toBe(200);
    const old = await batch([{ slug: 'before-rename', displayName: 'Before' }]);
    expect(old.status).toBe(409);
    expect(old.body).toMatchObject({ errcode: 'OM_USER_RENAMED', newSlug: 'after-rename' });
    const { status, body } = await batch([{ slug: 'after-rename', displayName: 'After' }]);
    expect(status).toBe(200);
    // The account the user had under the old slug, its display name changed; no second account.
    expect(body.users).toEqual([{ slug: 'after-rename', userId: userId('before-rename'), outcome: 'displayNameChanged' }]);
    expect((await accountOnServer(config, userId('before-rename')))?.displayName).toBe('After');
    expect(await accountOnServer(config, userId('after-rename'))).toBeNull();
  });

  it('racing single provisioning of the same users: one account and one stored token each', async () => {
    const race = Array.from({ length: 30 }, (_, i) => ({ slug: `race-${i}`, displayName: `Race ${i}` }));
    const [batchAnswer, singles] = await Promise.all([
      batch(race),
      Promise.all(race.slice(0, 20).map((u) => provision(u.slug, u.displayName))),
    ]);
    expect(batchAnswer.status).toBe(200);
    expect(batchAnswer.body.users.filter((u) => u.outcome === 'failed')).toEqual([]);
    // Each raced user was reported created by at least one of the two (both, when both found no account).
    race.slice(0, 20).forEach((u, i) => {
      expect(singles[i]!.created || batchAnswer.body.users[i]!.outcome === 'created').toBe(true);
    });
    const rows = await tokenRows(race.map((u) => u.slug));
    expect(rows).toHaveLength(30);
    if (appservice) {
      expect(rows.every((r) => r.token_ciphertext === null)).toBe(true);
      for (const u of race) expect(await accountOnServer(config, userId(u.slug))).toEqual({ displayName: u.displayName });
    } else {
      // One token ever stored per user (a second store would have raised the generation).
      expect(rows.map((r) => r.token_generation)).toEqual(Array(30).fill(1));
      const t = await adminToken(config);
      const accounts = await listUsers(config, t, `om_${tenant}_race-`);
      expect(accounts.sort()).toEqual(race.map((u) => userId(u.slug)).sort());
      for (const u of race.slice(0, 20)) {
        const token = await store().getToken(tenant, u.slug);
        expect(await whoami(config, token!)).toBe(userId(u.slug));
      }
    }
  });
});
