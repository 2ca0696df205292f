/**
 * Provisioning end to end on the real stack: API → Temporal → worker process → Synapse, with the
 * credential in PostgreSQL. Every check looks at the homeserver or the database directly.
 */
import { describe, expect, it } from '@jest/globals';
import { adminFor, adminToken, listUsers, whoami } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';

const fx = serviceFixture('provision', { API_WAIT_MS: '30000' }, 'prov');
const { config, tenant } = fx;
const users = () => createUserStore(fx.db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));

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
  const r = await fx.db.query<{ token_ciphertext: Buffer; token_key_id: string; token_issued_at: Date }>(
    'SELECT token_ciphertext, token_key_id, token_issued_at FROM matrix_users WHERE tenant = $1 AND slug = $2',
    [tenant, slug],
  );
  return r.rows;
}

describe('provisioning a user', () => {
  it('creates the Matrix user with its display name and stores a working token, encrypted', async () => {
    const { status, body } = await provision('Alice_1', 'Alice Liddell');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'completed',
      created: true,
      tokenIssued: true,
      workflowId: `user:${tenant}:Alice_1`,
    });
    expect(body.userId).toBe(`@om_${tenant}__alice__1:localhost`);

    const onServer = await adminFor(config).getUser(body.userId);
    expect(onServer).toEqual({ userId: body.userId, displayName: 'Alice Liddell', deactivated: false });

    const token = await users().getToken(tenant, 'Alice_1');
    expect(token).toBeTruthy();
    expect(await whoami(config, token!)).toBe(body.userId);

    const rows = await tokenRow('Alice_1');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_key_id).toBe('k1');
    expect(rows[0]!.token_ciphertext.includes(Buffer.from(token!))).toBe(false);
    const asText = await fx.db.query(
      'SELECT count(*)::int AS n FROM matrix_users WHERE row_to_json(matrix_users)::text LIKE $1',
      [`%${token}%`],
    );
    expect(asText.rows[0].n).toBe(0);
  });

  it('changes nothing when repeated: same user, no new token', async () => {
    await provision('bob', 'Bob');
    const before = await tokenRow('bob');
    const { status, body } = await provision('bob', 'Bob');
    expect(status).toBe(200);
    expect(body).toMatchObject({ created: false, tokenIssued: false, displayNameChanged: false });
    const after = await tokenRow('bob');
    expect(after[0]!.token_ciphertext.equals(before[0]!.token_ciphertext)).toBe(true);
    expect(after[0]!.token_issued_at).toEqual(before[0]!.token_issued_at);
  });

  it('updates the display name on Matrix when it changes, keeping the token', async () => {
    await provision('carol', 'Carol');
    const before = await tokenRow('carol');
    const { body } = await provision('carol', 'Carol Danvers');
    expect(body).toMatchObject({ created: false, displayNameChanged: true, tokenIssued: false });
    expect((await adminFor(config).getUser(body.userId))?.displayName).toBe('Carol Danvers');
    expect((await tokenRow('carol'))[0]!.token_ciphertext.equals(before[0]!.token_ciphertext)).toBe(true);
  });

  it('20 concurrent identical requests → one Matrix user, one stored credential, one workflow run', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => provision('dave', 'Dave')));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(results.map((r) => r.body.userId)).size).toBe(1);
    expect(results.filter((r) => r.body.created)).toHaveLength(1);
    expect(results.filter((r) => r.body.tokenIssued)).toHaveLength(1);

    const t = await adminToken(config);
    expect(await listUsers(config, t, `om_${tenant}_dave`)).toEqual([`@om_${tenant}_dave:localhost`]);
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
