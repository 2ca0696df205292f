/**
 * Provisioning end to end on the real stack: API → Temporal → worker process → Synapse, with the
 * credential in PostgreSQL. Every check looks at the homeserver or the database directly.
 *
 * Runs in both identity modes (scripts/test.sh): in admin mode a token is stored, encrypted, per
 * user; in appservice mode none is, and the account is acted as with the appservice token.
 */
import { describe, expect, it } from '@jest/globals';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { accountOnServer, adminToken, asPlatformUser, listUsers, whoami } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';

const fx = serviceFixture('provision', { API_WAIT_MS: '30000' }, 'prov');
const { config, tenant } = fx;
const users = () => createUserStore(fx.db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
const appservice = config.matrix.identityMode === 'appservice';

interface ProvisionBody {
  status: string;
  userId: string;
  created: boolean;
  tokenIssued: boolean;
  displayNameChanged: boolean;
  workflowId: string;
}

async function provision(slug: string, displayName: string): Promise<{ status: number; body: ProvisionBody }> {
  const res = await fx.api.post(`/v1/tenants/${tenant}/users`, { slug, displayName });
  return { status: res.status, body: (await res.json()) as ProvisionBody };
}

async function tokenRow(slug: string) {
  const r = await fx.db.query<{
    token_ciphertext: Buffer | null;
    token_key_id: string | null;
    token_issued_at: Date | null;
  }>('SELECT token_ciphertext, token_key_id, token_issued_at FROM matrix_users WHERE tenant = $1 AND slug = $2', [
    tenant,
    slug,
  ]);
  return r.rows;
}

describe('provisioning a user', () => {
  it('creates the Matrix user with its display name, and what acting as them needs', async () => {
    const { status, body } = await provision('Alice_1', 'Alice Liddell');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'completed',
      created: true,
      tokenIssued: !appservice,
      workflowId: `user:${tenant}:Alice_1`,
    });
    expect(body.userId).toBe(`@om_${tenant}__alice__1:localhost`);

    const onServer = await accountOnServer(config, body.userId);
    expect(onServer).toEqual(
      appservice ? { displayName: 'Alice Liddell' } : { displayName: 'Alice Liddell', deactivated: false },
    );
    // What the service acts with answers as the user.
    const as = await asPlatformUser(config, fx.db, tenant, 'Alice_1');
    const me = await matrixRequest<{ user_id: string }>(config.matrix.homeserverUrl, {
      method: 'GET',
      path: '/_matrix/client/v3/account/whoami',
      ...as,
    });
    expect(me.user_id).toBe(body.userId);
  });

  if (appservice) {
    it('appservice mode: stores no token at all (the appservice token acts for every user)', async () => {
      await provision('Alice_1', 'Alice Liddell');
      const rows = await tokenRow('Alice_1');
      expect(rows).toEqual([{ token_ciphertext: null, token_key_id: null, token_issued_at: null }]);
      expect(await users().getToken(tenant, 'Alice_1')).toBeNull();
    });
  } else {
    it('admin mode: stores a working token, encrypted', async () => {
      await provision('Alice_1', 'Alice Liddell');
      const body = { userId: `@om_${tenant}__alice__1:localhost` };
      const token = await users().getToken(tenant, 'Alice_1');
      expect(token).toBeTruthy();
      expect(await whoami(config, token!)).toBe(body.userId);

      const rows = await tokenRow('Alice_1');
      expect(rows).toHaveLength(1);
      expect(rows[0]!.token_key_id).toBe('k1');
      expect(rows[0]!.token_ciphertext!.includes(Buffer.from(token!))).toBe(false);
      const asText = await fx.db.query(
        'SELECT count(*)::int AS n FROM matrix_users WHERE row_to_json(matrix_users)::text LIKE $1',
        [`%${token}%`],
      );
      expect(asText.rows[0].n).toBe(0);
    });
  }

  it('changes nothing when repeated: same user, no new token', async () => {
    await provision('bob', 'Bob');
    const before = await tokenRow('bob');
    const { status, body } = await provision('bob', 'Bob');
    expect(status).toBe(200);
    expect(body).toMatchObject({ created: false, tokenIssued: false, displayNameChanged: false });
    expect(await tokenRow('bob')).toEqual(before);
    expect((await accountOnServer(config, body.userId))?.displayName).toBe('Bob');
  });

  it('updates the display name on Matrix when it changes, keeping the token', async () => {
    await provision('carol', 'Carol');
    const before = await tokenRow('carol');
    const { body } = await provision('carol', 'Carol Danvers');
    expect(body).toMatchObject({ created: false, displayNameChanged: true, tokenIssued: false });
    expect((await accountOnServer(config, body.userId))?.displayName).toBe('Carol Danvers');
    expect(await tokenRow('carol')).toEqual(before);
  });

  it('20 concurrent identical requests → one Matrix user, one stored credential, one workflow run', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => provision('dave', 'Dave')));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(results.map((r) => r.body.userId)).size).toBe(1);
    expect(results.filter((r) => r.body.created)).toHaveLength(1);
    expect(results.filter((r) => r.body.tokenIssued)).toHaveLength(appservice ? 0 : 1);

    if (appservice) {
      // No admin to list users with: the one id answers, and registering it again is refused as taken.
      expect(await accountOnServer(config, `@om_${tenant}_dave:localhost`)).toEqual({ displayName: 'Dave' });
    } else {
      const t = await adminToken(config);
      expect(await listUsers(config, t, `om_${tenant}_dave`)).toEqual([`@om_${tenant}_dave:localhost`]);
    }
    expect(await tokenRow('dave')).toHaveLength(1);
    const runs = [];
    for await (const wf of fx.api.temporal.workflow.list({ query: `WorkflowId = "user:${tenant}:dave"` }))
      runs.push(wf.runId);
    expect(runs).toHaveLength(1);
  });

  it('reports status and result at GET /v1/operations/{workflowId}', async () => {
    const { body } = await provision('erin', 'Erin');
    const res = await fx.api.get(`/v1/operations/${encodeURIComponent(body.workflowId)}`);
    expect(res.status).toBe(200);
    const op = (await res.json()) as {
      status: string;
      kind: string;
      state: { userId: string; provisioned: boolean; displayName: string };
    };
    expect(op).toMatchObject({
      status: 'completed',
      kind: 'user',
      state: { userId: body.userId, provisioned: true, displayName: 'Erin' },
    });
  });

  it('makes the workflows findable by tenant and Matrix user id (custom search attributes)', async () => {
    const ids: string[] = [];
    for await (const wf of fx.api.temporal.workflow.list({
      query: `Tenant = "${tenant}" AND MatrixUserId = "@om_${tenant}_erin:localhost"`,
    }))
      ids.push(wf.workflowId);
    expect(ids).toEqual([`user:${tenant}:erin`]);
  });
});
