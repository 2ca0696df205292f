/**
 * Token lifecycle on the real stack: dead user tokens are renewed once per user for the same
 * Matrix id, deactivated users come back with the same id, and a revoked admin token recovers.
 */
import { describe, expect, it } from '@jest/globals';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { adminFor, adminToken, botView, whoami } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';

const fx = serviceFixture('tokens', { API_WAIT_MS: '90000' }, 'tok');
const { config, tenant } = fx;
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
const store = () => createUserStore(fx.db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
const hs = config.matrix.homeserverUrl;

async function put(path: string, body: unknown): Promise<number> {
  const res = await fx.api.app.request(`/v1/tenants/${tenant}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${fx.api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.status;
}

async function devices(userId: string, admin: string): Promise<number> {
  const r = await matrixRequest<{ devices: unknown[] }>(hs, {
    method: 'GET',
    path: `/_synapse/admin/v2/users/${encodeURIComponent(userId)}/devices`,
    token: admin,
  });
  return r.devices.length;
}

describe('user tokens', () => {
  it('renews the dead tokens of 20 users once each, keeping their Matrix ids, while membership changes are in flight', async () => {
    const slugs = Array.from({ length: 20 }, (_, i) => `u${i}`);
    expect(
      await Promise.all(
        slugs.map((s) => fx.api.post(`/v1/tenants/${tenant}/users`, { slug: s, displayName: s }).then((r) => r.status)),
      ),
    ).toEqual(Array(20).fill(200));
    await put('/rooms/event/first', { name: 'First' });
    await put('/rooms/group/second', { name: 'Second' });
    const admin = await adminToken(config);
    const before = new Map<string, { token: string; generation: number; devices: number }>();
    for (const s of slugs) {
      const c = (await store().getCredential(tenant, s))!;
      before.set(s, { token: c.accessToken!, generation: c.generation, devices: await devices(uid(s), admin) });
    }

    // Log every user out (their token dies: 401 M_UNKNOWN_TOKEN), then have each join two rooms at once.
    await Promise.all(
      slugs.map((s) =>
        matrixRequest(hs, { method: 'POST', path: '/_matrix/client/v3/logout', token: before.get(s)!.token, body: {} }),
      ),
    );
    await expect(whoami(config, before.get('u0')!.token)).rejects.toMatchObject({ errcode: 'M_UNKNOWN_TOKEN' });
    const statuses = await Promise.all(
      slugs.flatMap((s) => [
        put(`/rooms/event/first/members/${s}`, { role: 'member' }),
        put(`/rooms/group/second/members/${s}`, { role: 'member' }),
      ]),
    );
    expect(statuses).toEqual(Array(40).fill(200));

    const bot = botView(config);
    const [first, second] = await Promise.all([
      bot.resolveAlias(`#om_${tenant}_event_first:localhost`),
      bot.resolveAlias(`#om_${tenant}_group_second:localhost`),
    ]);
    const expected = ['@openmeet-bot:localhost', ...slugs.map(uid)].sort();
    expect(await bot.joined(first!)).toEqual(expected);
    expect(await bot.joined(second!)).toEqual(expected);
    for (const s of slugs) {
      const after = (await store().getCredential(tenant, s))!;
      expect(after.userId).toBe(uid(s));
      expect(after.generation).toBe(before.get(s)!.generation + 1); // exactly one re-login
      expect(await whoami(config, after.accessToken!)).toBe(uid(s));
      expect(await devices(uid(s), admin)).toBe(before.get(s)!.devices); // no device pile-up
    }
  });

  it('re-provisions a user deactivated on the homeserver, with the same Matrix id, on the next operation that needs them', async () => {
    expect((await fx.api.post(`/v1/tenants/${tenant}/users`, { slug: 'gone', displayName: 'Gone Girl' })).status).toBe(
      200,
    );
    const admin = await adminToken(config);
    await matrixRequest(hs, {
      method: 'POST',
      path: `/_synapse/admin/v1/deactivate/${encodeURIComponent(uid('gone'))}`,
      token: admin,
      body: { erase: false },
    });
    expect((await adminFor(config).getUser(uid('gone')))?.deactivated).toBe(true);

    expect(await put('/rooms/event/comeback/members/gone', { role: 'host' })).toBe(200);
    const user = await adminFor(config).getUser(uid('gone'));
    expect(user).toMatchObject({ userId: uid('gone'), deactivated: false });
    const roomId = await botView(config).resolveAlias(`#om_${tenant}_event_comeback:localhost`);
    expect(await botView(config).joined(roomId!)).toContain(uid('gone'));
    const c = (await store().getCredential(tenant, 'gone'))!;
    expect(await whoami(config, c.accessToken!)).toBe(uid('gone'));
  });

  it('a member list on a known room (one applyMembers pass, one look for deactivated accounts) reactivates a deactivated member, whose admin-login token still works', async () => {
    for (const slug of ['lapsed', 'steady'])
      expect((await fx.api.post(`/v1/tenants/${tenant}/users`, { slug, displayName: slug })).status).toBe(200);
    expect(await put('/rooms/event/lapse/members', { members: [{ userSlug: 'steady' }] })).toBe(200);
    const before = (await store().getCredential(tenant, 'lapsed'))!;
    const admin = await adminToken(config);
    await matrixRequest(hs, {
      method: 'POST',
      path: `/_synapse/admin/v1/deactivate/${encodeURIComponent(uid('lapsed'))}`,
      token: admin,
      body: { erase: false },
    });
    // Why the pass looks before the invite: no refusal would tell (decision 0008).
    expect(await whoami(config, before.accessToken!)).toBe(uid('lapsed'));
    // The one look the pass makes for all its members (decision 0039): the tenant's deactivated accounts.
    expect(await adminFor(config).deactivatedUsers(`@om_${tenant}_`)).toContain(uid('lapsed'));

    // The room is known now: the list goes in one pass; 'fresh', with no account, is provisioned in bulk.
    const res = await fx.api.app.request(`/v1/tenants/${tenant}/rooms/event/lapse/members`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${fx.api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        members: [{ userSlug: 'steady' }, { userSlug: 'lapsed', role: 'host' }, { userSlug: 'fresh' }],
      }),
    });
    const body = (await res.json()) as { members: { added: string[]; failed: unknown[] } };
    expect(res.status).toBe(200);
    expect(body.members).toMatchObject({ added: ['lapsed', 'fresh'], failed: [] });
    expect(await adminFor(config).getUser(uid('lapsed'))).toMatchObject({ userId: uid('lapsed'), deactivated: false });
    const roomId = (await botView(config).resolveAlias(`#om_${tenant}_event_lapse:localhost`))!;
    expect(await botView(config).joined(roomId)).toEqual(
      ['@openmeet-bot:localhost', uid('fresh'), uid('lapsed'), uid('steady')].sort(),
    );
    expect((await botView(config).powerLevels(roomId))[uid('lapsed')]).toBe(100);
    const after = (await store().getCredential(tenant, 'lapsed'))!;
    expect(await whoami(config, after.accessToken!)).toBe(uid('lapsed'));
  });

  it('recovers when the service admin identity token is revoked mid-run', async () => {
    const admin = await adminToken(config);
    // The worker's admin session is the device MATRIX_ORCHESTRATOR; deleting it kills its token.
    await matrixRequest(hs, {
      method: 'DELETE',
      path: `/_synapse/admin/v2/users/${encodeURIComponent(config.matrix.adminUserId)}/devices/MATRIX_ORCHESTRATOR`,
      token: admin,
    });
    const res = await fx.api.post(`/v1/tenants/${tenant}/users`, { slug: 'after-revoke', displayName: 'After' });
    expect(res.status).toBe(200);
    expect((await adminFor(config).getUser(uid('after-revoke')))?.displayName).toBe('After');
  });

  it('stores a token under the slug read just before, or where the row is now, and never over another (decision 0037)', async () => {
    const s = store();
    // A new tenant's first user: the tenant and the user in one statement.
    const other = `${tenant}-x`;
    await s.upsert({ tenant: other, slug: 'first', userId: `@om_${other}_first:localhost`, displayName: 'First' });
    expect(await s.getMany(other, ['first', 'nobody'])).toEqual(
      new Map([['first', expect.objectContaining({ slug: 'first', displayName: 'First', hasToken: false, tokenGeneration: 0 })]]),
    );
    // Under the slug read just before: stored, once.
    expect(await s.storeTokenIfAbsent(other, 'first', 'token-1', 'first')).toBe(true);
    expect(await s.storeTokenIfAbsent(other, 'first', 'token-2', 'first')).toBe(false);
    expect(await s.getToken(other, 'first')).toBe('token-1');
    // The row is not (or no longer) under the slug known: it is read again and stored where it is.
    await s.upsert({ tenant: other, slug: 'second', userId: `@om_${other}_second:localhost`, displayName: 'Second' });
    expect(await s.storeTokenIfAbsent(other, 'second', 'token-3', 'moved-away')).toBe(true);
    expect(await s.getToken(other, 'second')).toBe('token-3');
    expect(await s.storeTokenIfAbsent(other, 'second', 'token-4', 'moved-away')).toBe(false);
    expect(await s.getToken(other, 'second')).toBe('token-3');
    expect((await s.getMany(other, ['first', 'second'])).get('second')).toMatchObject({ hasToken: true, tokenGeneration: 1 });
  });
});
