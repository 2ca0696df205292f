/**
 * Adoption where the service cannot act as the adopted users (MATRIX_IDENTITY_MODE=appservice: only
 * accounts in its namespace) and has no Admin API to take a room over: a room is adopted only once
 * its creator has let the bot in at the top level (a 409 says what is missing until then); adopted
 * members are invited and join from their own clients; reconciliation does not fight them.
 */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { botView } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';
import { tenantCaller } from '../helpers/tenant-call.js';
import { accountWithPassword, membershipsAsBot, type OwnClient } from '../helpers/prior-platform.js';

// The stack's first Synapse (password accounts from before the service need its admin), with the
// API and the worker in appservice mode: no Admin API, only the appservice's namespace acted as.
const APPSERVICE = { MATRIX_IDENTITY_MODE: 'appservice' };
const fx = serviceFixture('adopt-as', { API_WAIT_MS: '60000', ...APPSERVICE }, 'adas', APPSERVICE);
const { config, tenant } = fx;
const BOT = '@openmeet-bot:localhost';
const bot = botView(config);
const pre = `as${randomBytes(3).toString('hex')}`;

const call = tenantCaller(fx);

let alice: OwnClient;
let carl: OwnClient;
let dina: OwnClient;
let roomId: string;

describe('adopting a room without the Admin API', () => {
  it('answers 409 OM_ROOM_NOT_ADOPTABLE saying what is missing, until the bot is in at the top level', async () => {
    const [a, c, d] = await Promise.all(
      ['alice', 'carl', 'dina'].map((n) => accountWithPassword(config, `${pre}_${n}`, n)),
    );
    [alice, carl, dina] = [a!, c!, d!];
    roomId = await alice.createRoom({ preset: 'private_chat', name: 'Launch' });
    await alice.send(roomId, 'b1', 'from before');

    const outside = await call('PUT', '/rooms/event/launch', { adopt: { roomId } });
    expect(outside).toMatchObject({ status: 409, body: { errcode: 'OM_ROOM_NOT_ADOPTABLE' } });
    expect(outside.body.error).toContain(`the bot ${BOT} is not in room ${roomId}`);
    expect(outside.body.error).toContain('give it the top power level');

    await alice.invite(roomId, BOT);
    const low = await call('PUT', '/rooms/event/launch', { adopt: { roomId } });
    expect(low).toMatchObject({ status: 409, body: { errcode: 'OM_ROOM_NOT_ADOPTABLE' } });
    expect(low.body.error).toBe(`the bot ${BOT} has power level 0 in room ${roomId}, needs 100`);

    const levels = await alice.powerLevels(roomId);
    await alice.setPowerLevels(roomId, { ...levels, users: { ...(levels.users as object), [BOT]: 100 } });
    const adopted = await call('PUT', '/rooms/event/launch', { adopt: { roomId } });
    expect(adopted).toMatchObject({ status: 200, body: { roomId } });
  });
});

describe('adopted users the service cannot act as', () => {
  it('are bound with canActAs false, and get no token', async () => {
    for (const [slug, c] of [
      ['carl', carl],
      ['dina', dina],
    ] as const) {
      const r = await call('POST', '/users', { slug, displayName: slug, matrixUserId: c.userId });
      expect(r).toMatchObject({
        status: 200,
        body: { userId: c.userId, adopted: true, canActAs: false, tokenIssued: false },
      });
    }
  });

  it('are invited by the bot, shown invited until their own client joins, and their roles are set all the same', async () => {
    const r = await call('PUT', '/rooms/event/launch/members/carl', { role: 'moderator' });
    expect(r.status).toBe(200);
    expect(r.body.actions).toEqual([
      `invited ${carl.userId} (joins from their own client: the service cannot act as them)`,
      `power level ${carl.userId} 0→50`,
    ]);
    expect((await membershipsAsBot(config, roomId))[carl.userId]).toBe('invite');
    expect((await call('GET', '/rooms/event/launch')).body.memberships).toEqual({ carl: 'invite' });
    await carl.join(roomId);
    expect((await call('GET', '/rooms/event/launch')).body.memberships).toEqual({ carl: 'join' });
    expect(await bot.joined(roomId)).toContain(carl.userId);
    expect((await bot.powerLevels(roomId))[carl.userId]).toBe(50);
  });

  it('are not invited again and again by reconciliation once they declined, nor counted as drift', async () => {
    expect((await call('PUT', '/rooms/event/launch/members/dina', { role: 'member' })).status).toBe(200);
    expect((await membershipsAsBot(config, roomId))[dina.userId]).toBe('invite');
    await matrixRequest(config.matrix.homeserverUrl, {
      method: 'POST',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`,
      token: dina.token,
      body: {},
    });
    for (let i = 0; i < 2; i++) {
      const r = await call('POST', '/rooms/event/launch/reconcile');
      expect(r).toMatchObject({ status: 200, body: { actions: [] } });
    }
    const now = await membershipsAsBot(config, roomId);
    expect(now[dina.userId]).toBe('leave');
    expect(now[carl.userId]).toBe('join');
    // The platform asking again is another matter: that invites them again.
    const again = await call('PUT', '/rooms/event/launch/members/dina', { role: 'member' });
    expect(again.body.actions).toContain(
      `invited ${dina.userId} (joins from their own client: the service cannot act as them)`,
    );
  });

  it('cannot be sent, typed or read as: 403 OM_USER_NOT_MANAGED, never a 5xx', async () => {
    const sent = await call('POST', '/rooms/event/launch/messages', { txnId: 'c1', body: 'hi', userSlug: 'carl' });
    expect(sent).toMatchObject({ status: 403, body: { errcode: 'OM_USER_NOT_MANAGED' } });
    expect(sent.body.error).toContain(carl.userId);
    expect(await call('PUT', '/rooms/event/launch/typing', { typing: true, userSlug: 'carl' })).toMatchObject({
      status: 403,
      body: { errcode: 'OM_USER_NOT_MANAGED' },
    });
    // Reading history is not acting: carl is joined, and the room's history is shared.
    const history = await fx.api.get(`/v1/tenants/${tenant}/rooms/event/launch/messages?userSlug=carl&limit=50`);
    expect(history.status).toBe(200);
    const events = ((await history.json()) as { events: { content?: { body?: string } }[] }).events;
    expect(events.some((e) => e.content?.body === 'from before')).toBe(true);
  });

  it('are removed by the bot like anyone else', async () => {
    const r = await call('DELETE', '/rooms/event/launch/members/carl');
    expect(r.body.actions).toContain(`removed ${carl.userId}`);
    expect((await membershipsAsBot(config, roomId))[carl.userId]).toBe('leave');
    expect((await bot.powerLevels(roomId))[carl.userId]).toBeUndefined();
  });
});
