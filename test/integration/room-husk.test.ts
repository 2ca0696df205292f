/**
 * A room the service never recorded, behind its alias, that the bot cannot use: what Synapse leaves
 * when it dies in the middle of createRoom (the room and its alias are stored before the room's
 * first events; found by test/faults/synapse-kill). The entity must not fail for good with
 * OM_ROOM_MISSING: the alias is released and the room created. (Here the husk is made by the bot
 * leaving and forgetting a room it created, before the service recorded it.) But only once it has
 * stayed unusable for a while: a creation still under way is adopted when it finishes.
 */
import { expect, it } from '@jest/globals';
import { matrixRequest } from '../../activities/matrix/http.js';
import { sleep } from '../helpers/env.js';
import { adminToken, botView } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';

const fx = serviceFixture('husk', { API_WAIT_MS: '60000' });
const { config, tenant } = fx;

it('an unrecorded, unusable room behind the alias is released and the room created, not reported missing', async () => {
  const hs = config.matrix.homeserverUrl;
  const token = config.matrix.asToken;
  const { room_id: husk } = await matrixRequest<{ room_id: string }>(hs, {
    method: 'POST',
    path: '/_matrix/client/v3/createRoom',
    token,
    body: { room_alias_name: `om_${tenant}_event_party` },
  });
  for (const step of ['leave', 'forget']) {
    await matrixRequest(hs, {
      method: 'POST',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(husk)}/${step}`,
      token,
      body: {},
    });
  }

  const res = await fx.api.app.request(`/v1/tenants/${tenant}/rooms/event/party`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${fx.api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Party' }),
  });
  const body = (await res.json()) as { roomId: string; actions: string[] };
  expect(res.status).toBe(200);
  expect(body.roomId).not.toBe(husk);
  expect(body.actions).toEqual(
    expect.arrayContaining([`released #om_${tenant}_event_party:localhost from unusable ${husk}`]),
  );
  expect(await botView(config).resolveAlias(`#om_${tenant}_event_party:localhost`)).toBe(body.roomId);
});

it('a room behind the alias that becomes usable while it is waited for (a creation under way) is adopted, not replaced', async () => {
  const hs = config.matrix.homeserverUrl;
  const token = config.matrix.asToken;
  const alias = `#om_${tenant}_event_slow:localhost`;
  const { room_id: slow } = await matrixRequest<{ room_id: string }>(hs, {
    method: 'POST',
    path: '/_matrix/client/v3/createRoom',
    token,
    body: { room_alias_name: `om_${tenant}_event_slow`, preset: 'public_chat' },
  });
  // Someone stays in it, so that the bot can come back.
  const admin = await adminToken(config);
  await matrixRequest(hs, {
    method: 'POST',
    path: `/_matrix/client/v3/join/${encodeURIComponent(slow)}`,
    token: admin,
    body: {},
  });
  // Unusable for now (the bot is not in it), like a room whose first events are not stored yet.
  for (const step of ['leave', 'forget']) {
    await matrixRequest(hs, {
      method: 'POST',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(slow)}/${step}`,
      token,
      body: {},
    });
  }
  await expect(
    matrixRequest(hs, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(slow)}/state/m.room.create/`,
      token,
    }),
  ).rejects.toThrow(/40[34]/);
  const put = fx.api.app.request(`/v1/tenants/${tenant}/rooms/event/slow`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${fx.api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Slow' }),
  });
  await sleep(3000);
  // The creation "finishes": the room is usable again.
  await matrixRequest(hs, {
    method: 'POST',
    path: `/_matrix/client/v3/join/${encodeURIComponent(slow)}`,
    token,
    body: {},
  });

  const res = await put;
  const body = (await res.json()) as { roomId: string; actions: string[] };
  expect(res.status).toBe(200);
  expect(body.roomId).toBe(slow);
  expect(body.actions).toEqual(expect.arrayContaining([`adopted ${slow} behind ${alias}`]));
  expect(body.actions.filter((a) => a.startsWith('released'))).toEqual([]);
  expect(await botView(config).resolveAlias(alias)).toBe(slow);
});
