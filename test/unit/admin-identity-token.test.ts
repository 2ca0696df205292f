/**
 * The admin identity's token step (adapters/identity/admin.ts) with the row its caller has just
 * read (decision 0037): it reads nothing again, logs in only where no token is stored, and stores
 * under the slug read. The store and the Admin API are stubs recording what is asked of them; what
 * PostgreSQL and Synapse do with it is tested on the real stack (tokens.test.ts, provision.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { adminIdentity } from '../../adapters/identity/admin.js';
import { identityScope } from '../../adapters/identity/index.js';
import type { MatrixAdmin } from '../../adapters/matrix/admin.js';
import type { StoredUser, UserStore } from '../../adapters/store/users.js';
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

const row: StoredUser = {
  tenant: 't1',
  slug: 'alice-renamed',
  userId: '@om_t1_alice:localhost',
  displayName: 'Alice',
  hasToken: false,
  tokenGeneration: 0,
  adopted: false,
};

function stubs() {
  const asked: string[] = [];
  const users = {
    get: async () => {
      asked.push('get');
      return row;
    },
    storeTokenIfAbsent: async (tenant: string, slug: string, token: string, currentSlug?: string) => {
      asked.push(`store ${tenant}/${slug} ${token} under ${currentSlug ?? '(read again)'}`);
      return true;
    },
  } as unknown as UserStore;
  const admin = {
    loginAs: async (userId: string) => {
      asked.push(`login ${userId}`);
      return 'fresh-token';
    },
  } as unknown as MatrixAdmin;
  const identity = adminIdentity({ admin, users, scope: identityScope(loadConfig(MINIMAL_ENV)) });
  return { identity, asked };
}

describe('the admin token step, given the row just read', () => {
  it('stores a new token under the slug read, reading nothing again', async () => {
    const s = stubs();
    expect(await s.identity.ensureCredential({ tenant: 't1', slug: 'alice', userId: row.userId, stored: row })).toEqual({ issued: true });
    expect(s.asked).toEqual([`login ${row.userId}`, 'store t1/alice fresh-token under alice-renamed']);
  });

  it('leaves a stored token alone without a login or a read', async () => {
    const s = stubs();
    const stored = { ...row, hasToken: true, tokenGeneration: 1 };
    expect(await s.identity.ensureCredential({ tenant: 't1', slug: 'alice', userId: row.userId, stored })).toEqual({ issued: false });
    expect(s.asked).toEqual([]);
  });

  it('reads the row itself when it is not given (the two-activity runs)', async () => {
    const s = stubs();
    await s.identity.ensureCredential({ tenant: 't1', slug: 'alice', userId: row.userId });
    expect(s.asked).toEqual(['get', `login ${row.userId}`, 'store t1/alice fresh-token under alice-renamed']);
  });
});
