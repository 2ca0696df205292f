/**
 * User renames (issue #17): a renamed platform user keeps their Matrix account and stored token,
 * their desired memberships follow, the old slug answers 409 OM_USER_RENAMED with the new one,
 * and member changes in flight during the rename end under the new slug, none lost. In both
 * identity modes (jest.appservice.config.js): in appservice mode there is no token, and the account
 * kept — the old slug's id, in the namespace — is acted as through the assertion.
 */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { botView, roomMessages } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';
import { tenantCaller } from '../helpers/tenant-call.js';
import { eventually } from '../helpers/env.js';
import { accountWithPassword } from '../helpers/prior-platform.js';

const fx = serviceFixture('rename', { API_WAIT_MS: '60000' }, 'ren');
const { config, tenant } = fx;
const bot = botView(config);
const ANN = `@om_${tenant}_ann:localhost`;
const appservice = config.matrix.identityMode === 'appservice';

const call = tenantCaller(fx);

/**
 * A group room's desired members once its workflow folded what it accepted: a rename is accepted at
 * once, and folded when the workflow is free (a group's space step may follow a member change).
 */
async function settledMembers(room: string, want: Record<string, string>): Promise<void> {
  const key = (m: unknown) => JSON.stringify(Object.entries((m ?? {}) as Record<string, string>).sort());
  const now = async () => (await call('GET', `/rooms/group/${room}`)).body.members;
  await eventually(async () => key(await now()) === key(want), 30_000, `${room}'s members`).catch(() => undefined);
  expect(await now()).toEqual(want);
}

const rename = (slug: string, newSlug: string) => call('POST', `/users/${slug}/rename`, { newSlug });
const store = () => createUserStore(fx.db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));

describe('renaming a user', () => {
  let token: string;

  it('keeps the account and the stored token; the rooms follow, the running ones at once', async () => {
    expect((await call('PUT', '/rooms/group/g1/members/ann', { role: 'admin', displayName: 'Ann' })).status).toBe(200);
    expect((await call('PUT', '/rooms/group/g1/members/ben', { role: 'member' })).status).toBe(200);
    expect((await call('PUT', '/rooms/group/g2/members/ann', { role: 'member' })).status).toBe(200);
    token = (await store().getToken(tenant, 'ann'))!;
    // Admin mode stores a token per user; appservice mode none (the appservice token acts for all).
    expect(token ?? null).toEqual(appservice ? null : expect.any(String));

    const r = await rename('ann', 'anna');
    expect(r).toMatchObject({
      status: 200,
      body: { slug: 'anna', previousSlug: 'ann', userId: ANN, renamed: true, rooms: ['group/g1', 'group/g2'] },
    });
    expect(await store().getToken(tenant, 'anna')).toBe(token ?? null);
    const rows = await fx.db.query('SELECT slug, user_id FROM matrix_users WHERE tenant = $1 ORDER BY slug', [tenant]);
    expect(rows.rows).toEqual([
      { slug: 'anna', user_id: ANN },
      { slug: 'ben', user_id: `@om_${tenant}_ben:localhost` },
    ]);
    await settledMembers('g1', { anna: 'admin', ben: 'member' });
    await settledMembers('g2', { anna: 'member' });
  });

  it('answers the old slug 409 OM_USER_RENAMED with the new one, wherever a request names it', async () => {
    const renamed = { status: 409, body: { errcode: 'OM_USER_RENAMED', newSlug: 'anna' } };
    expect(await call('PUT', '/rooms/group/g1/members/ann', { role: 'member' })).toMatchObject(renamed);
    expect(await call('DELETE', '/rooms/group/g1/members/ann')).toMatchObject(renamed);
    expect(await call('POST', '/users', { slug: 'ann', displayName: 'Ann' })).toMatchObject(renamed);
    expect(await call('POST', '/rooms/group/g1/messages', { txnId: 't0', body: 'x', userSlug: 'ann' })).toMatchObject(
      renamed,
    );
    expect(await call('POST', '/dms', { users: ['ann', 'ben'] })).toMatchObject(renamed);
    expect(await rename('ann', 'anne')).toMatchObject(renamed);
    // The rename itself again: done already, nothing changes.
    expect(await rename('ann', 'anna')).toMatchObject({ status: 200, body: { slug: 'anna', renamed: false } });
  });

  it('manages the user under the new slug: role, send, reconcile, removal all act on the same account', async () => {
    const role = await call('PUT', '/rooms/group/g1/members/anna', { role: 'moderator' });
    expect(role.body.actions).toContain(`power level ${ANN} 75→50`);
    const sent = await call('POST', '/rooms/group/g1/messages', {
      txnId: 't1',
      body: 'renamed and here',
      userSlug: 'anna',
    });
    expect(sent).toMatchObject({ status: 200, body: { status: 'sent' } });
    const g1 = (await call('GET', '/rooms/group/g1')).body.roomId as string;
    expect((await roomMessages(config, g1)).find((m) => m.eventId === sent.body.eventId)?.body).toBe(
      'renamed and here',
    );
    const reconciled = await call('POST', '/rooms/group/g1/reconcile');
    expect(reconciled).toMatchObject({ status: 200, body: { actions: [] } });
    expect(await bot.joined(g1)).toContain(ANN);
    expect((await bot.powerLevels(g1))[ANN]).toBe(50);
    const removed = await call('DELETE', '/rooms/group/g2/members/anna');
    expect(removed.body.actions).toContain(`removed ${ANN}`);
  });

  it("refuses a new slug that is another user's, an unknown user, and lets the user take their old slug back", async () => {
    expect(await rename('ben', 'anna')).toMatchObject({ status: 409, body: { errcode: 'OM_USER_BINDING_CONFLICT' } });
    expect(await rename('nobody', 'somebody')).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
    expect(await rename('anna', 'bad slug')).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    expect(await rename('anna', 'ann')).toMatchObject({
      status: 200,
      body: { slug: 'ann', userId: ANN, renamed: true },
    });
    expect(await call('PUT', '/rooms/group/g1/members/anna', {})).toMatchObject({
      status: 409,
      body: { errcode: 'OM_USER_RENAMED', newSlug: 'ann' },
    });
    expect((await call('GET', '/rooms/group/g1')).body.members).toEqual({ ann: 'moderator', ben: 'member' });
    expect(await store().getToken(tenant, 'ann')).toBe(token ?? null);
  });

  // Accounts from before the service, with passwords: the first Synapse's admin makes them (not in appservice mode's).
  (appservice ? it.skip : it)('renames an adopted user: the same adopted account, still never created', async () => {
    const pat = await accountWithPassword(config, `ren${randomBytes(3).toString('hex')}_pat`, 'Pat');
    expect((await call('POST', '/users', { slug: 'pat', displayName: 'Pat', matrixUserId: pat.userId })).status).toBe(
      200,
    );
    const r = await rename('pat', 'patricia');
    expect(r).toMatchObject({ status: 200, body: { userId: pat.userId } });
    const again = await call('POST', '/users', { slug: 'patricia', displayName: 'Pat' });
    expect(again).toMatchObject({ status: 200, body: { userId: pat.userId, adopted: true, created: false } });
  });
});

describe('member changes in flight during a rename', () => {
  it('are none lost: each either lands under the new slug or is told the new one', async () => {
    expect((await call('PUT', '/rooms/group/h0/members/cy', { role: 'member', displayName: 'Cy' })).status).toBe(200);
    const rooms = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8'];
    for (const r of rooms) expect((await call('PUT', `/rooms/group/${r}`, { name: r })).status).toBe(200);
    const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // Adds spread over the rename: some are applied before it, some are in flight, some come after.
    const adds = rooms.map((r, i) =>
      after(i * 25).then(() => call('PUT', `/rooms/group/${r}/members/cy`, { role: 'moderator' })),
    );
    const renamed = after(60).then(() => rename('cy', 'cyrus'));
    const answers = await Promise.all(adds);
    expect((await renamed).status).toBe(200);
    const storedIn = async (room: string) =>
      (await fx.db.query('SELECT user_slug FROM room_members WHERE tenant = $1 AND slug = $2', [tenant, room])).rows;
    for (const [i, a] of answers.entries()) {
      const room = rooms[i]!;
      if (a.status === 200) {
        await settledMembers(room, { cyrus: 'moderator' });
        expect(await storedIn(room)).toEqual([{ user_slug: 'cyrus' }]);
        const roomId = (await call('GET', `/rooms/group/${room}`)).body.roomId as string;
        expect(await bot.joined(roomId)).toContain(`@om_${tenant}_cy:localhost`);
      } else {
        expect(a).toMatchObject({ status: 409, body: { errcode: 'OM_USER_RENAMED', newSlug: 'cyrus' } });
        expect(await storedIn(room)).toEqual([]);
      }
    }
    await settledMembers('h0', { cyrus: 'member' });
  });
});
