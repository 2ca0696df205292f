/**
 * The identity adapter chosen from the mode, and what the appservice mode answers without asking
 * the homeserver (what it asks the homeserver is tested on a real one: test/integration/
 * appservice-mode.test.ts, and every file the appservice pass of scripts/test.sh runs).
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { identityFor } from '../../adapters/identity/index.js';
import { authorized } from '../../adapters/matrix/http.js';
import type { StoredUser, UserStore } from '../../adapters/store/users.js';
import { loadConfig } from '../../lib/config.js';
import { ROOT } from '../helpers/env.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

const { MATRIX_ADMIN_PASSWORD: _password, ...withoutAdmin } = MINIMAL_ENV;
const appserviceConfig = loadConfig({ ...withoutAdmin, MATRIX_IDENTITY_MODE: 'appservice' });
const alice: StoredUser = {
  tenant: 't1',
  slug: 'alice',
  userId: '@om_t1_alice:localhost',
  displayName: 'Alice',
  hasToken: false,
  tokenGeneration: 0,
  adopted: false,
};
/** Only `get` and `getCredential` (never a token) are asked for in what these tests do; anything else would throw. */
const storeWith = (...rows: StoredUser[]): UserStore => {
  const get = async (tenant: string, slug: string) => rows.find((r) => r.tenant === tenant && r.slug === slug) ?? null;
  return {
    get,
    getCredential: async (tenant: string, slug: string) => {
      const row = await get(tenant, slug);
      return row && { userId: row.userId, accessToken: null, generation: row.tokenGeneration };
    },
  } as unknown as UserStore;
};

describe('identityFor', () => {
  it('builds the appservice identity without the Admin API in appservice mode, the admin one with it otherwise', () => {
    const as = identityFor(appserviceConfig, storeWith());
    expect(as.identity.mode).toBe('appservice');
    expect(as.admin).toBeNull();
    const admin = identityFor(loadConfig(MINIMAL_ENV), storeWith());
    expect(admin.identity.mode).toBe('admin');
    expect(admin.admin).not.toBeNull();
  });

  it('knows whom each mode can act as (the namespace only, in appservice mode)', () => {
    const as = identityFor(appserviceConfig, storeWith()).identity;
    const admin = identityFor(loadConfig(MINIMAL_ENV), storeWith()).identity;
    expect([as.canActAs('@om_t1_alice:localhost'), as.canActAs('@alice:localhost')]).toEqual([true, false]);
    expect([admin.canActAs('@om_t1_alice:localhost'), admin.canActAs('@alice:localhost')]).toEqual([true, true]);
  });
});

describe('the appservice identity, on what it decides alone', () => {
  const identity = identityFor(appserviceConfig, storeWith(alice)).identity;

  it('acts as the stored user with the appservice token and the user_id assertion', async () => {
    const seen = await identity.actAs({ tenant: 't1', slug: 'alice' }, async (as) => as);
    expect(seen).toEqual({ userId: alice.userId, token: 'as', query: { user_id: alice.userId } });
    // The assertion wins over a query parameter of the same name in the request.
    expect(authorized(seen, { method: 'GET', path: '/x', query: { user_id: '@other:localhost', limit: '5' } })).toEqual(
      {
        method: 'GET',
        path: '/x',
        token: 'as',
        query: { user_id: alice.userId, limit: '5' },
      },
    );
  });

  it('a stored row is all it needs: no token, nothing to store, never provisioned again for want of one', async () => {
    expect(identity.isProvisioned(alice)).toBe(true);
    expect(identity.isProvisioned(null)).toBe(false);
    expect(await identity.ensureCredential({ tenant: 't1', slug: 'alice', userId: alice.userId })).toEqual({
      issued: false,
    });
  });

  it('refuses to act as a user never provisioned, non-retryably', async () => {
    await expect(identity.actAs({ tenant: 't1', slug: 'nobody' }, async () => 'acted')).rejects.toMatchObject({
      type: 'MatrixNotFound',
      nonRetryable: true,
      message: 't1/nobody was never provisioned',
    });
  });

  it('has no per-user token to renew: a renewal fails non-retryably, naming the appservice token', async () => {
    await expect(identity.renewCredential({ tenant: 't1', slug: 'alice', staleGeneration: 0 })).rejects.toMatchObject({
      type: 'MatrixAppserviceTokenRefused',
      nonRetryable: true,
      message: expect.stringMatching(/no per-user token exists in the appservice identity mode.*MATRIX_AS_TOKEN/),
    });
  });
});

describe('an adopted account the service cannot act as (decision 0029), in both modes', () => {
  const rob: StoredUser = { ...alice, slug: 'rob', userId: '@rob:elsewhere.example', adopted: true };
  const modes = {
    admin: identityFor(loadConfig(MINIMAL_ENV), storeWith(rob)).identity,
    appservice: identityFor(appserviceConfig, storeWith(rob)).identity,
  };
  const notManaged = { type: 'UserNotManaged', nonRetryable: true, message: expect.stringContaining(rob.userId) };

  it.each(Object.entries(modes))('%s: is never acted as, and gets no credential', async (_mode, identity) => {
    expect(identity.canActAs(rob.userId)).toBe(false);
    await expect(identity.actAs({ tenant: 't1', slug: 'rob' }, async () => 'acted')).rejects.toMatchObject(notManaged);
    expect(await identity.ensureCredential({ tenant: 't1', slug: 'rob', userId: rob.userId })).toEqual({
      issued: false,
    });
  });

  it('admin: a refused token is never renewed for it (no login as someone of another server)', async () => {
    await expect(modes.admin.renewCredential({ tenant: 't1', slug: 'rob', staleGeneration: 0 })).rejects.toMatchObject(
      notManaged,
    );
  });
});

describe('dist/worker/main.js', () => {
  it.each([
    [
      'admin mode without MATRIX_ADMIN_PASSWORD',
      withoutAdmin,
      /MATRIX_ADMIN_PASSWORD is required but not set: MATRIX_IDENTITY_MODE=admin/,
    ],
    [
      'appservice mode with ROOM_PURGE_ON_ARCHIVE',
      { ...withoutAdmin, MATRIX_IDENTITY_MODE: 'appservice', ROOM_PURGE_ON_ARCHIVE: 'true' },
      /ROOM_PURGE_ON_ARCHIVE needs the Synapse Admin API/,
    ],
  ])(
    'exits 2 at start naming what the mode misses: %s',
    async (_what, env, message) => {
      const child = spawn(process.execPath, ['dist/worker/main.js'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', WORKER_HTTP_PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(timer);
      expect({ code, output }).toEqual({ code: 2, output: expect.stringMatching(message) });
      expect(output).not.toMatch(/worker running/);
    },
    30_000,
  );
});
