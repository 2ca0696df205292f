/**
 * A room the service never recorded, behind its alias, that the bot cannot use: what Synapse leaves
 * when it dies in the middle of createRoom (the room and its alias are stored before the room's
 * first events; found by test/faults/synapse-kill). The entity must not fail for good with
 * OM_ROOM_MISSING: the alias is released and the room created. (Here the husk is made by the bot
 * leaving and forgetting a room it created, before the service recorded it.)
 */
import { expect, it } from '@jest/globals';
import { matrixRequest } from '../../activities/matrix/http.js';
import { botView } from '../helpers/matrix.js';
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
