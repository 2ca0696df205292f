/**
 * A room the service never recorded, behind its alias, that the bot cannot use: what Synapse leaves
 * when it dies in the middle of createRoom (the room and its alias are stored before the room's
 * first events; found by test/faults/synapse-kill). The entity must not fail for good with
 * OM_ROOM_MISSING: the alias is released and the room created. (Here the husk is made by the bot
 * leaving and forgetting a room it created, before the service recorded it.) But only once it has
 * stayed unusable for a while: a creation still under way is adopted when it finishes.
 */
import { expect, it } from '@jest/globals';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { sleep } from '../helpers/env.js';
import { adminToken, botView } from '../helpers/matrix.js';
import { serviceFixture } from '../helpers/fixture.js';

const fx = serviceFixture('husk', { API_WAIT_MS: '60000' });
const { config, tenant } = fx;
const e = encodeURIComponent;

/** A client-server call, as the bot unless another token is given. */
const call = <T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown, token = config.matrix.asToken) =>
  matrixRequest<T>(config.matrix.homeserverUrl, { method, path: `/_matrix/client/v3${path}`, token, body });

/** A room the bot creates behind one of the service's aliases, without the service knowing. */
const createBehindAlias = async (slug: string, extra: Record<string, unknown> = {}): Promise<string> =>
  (await call<{ room_id: string }>('POST', '/createRoom', { room_alias_name: `om_${tenant}_event_${slug}`, ...extra }))
    .room_id;

/** The bot leaves and forgets the room: it can no longer read it. */
async function botLeaves(roomId: string): Promise<void> {
  for (const step of ['leave', 'forget']) await call('POST', `/rooms/${e(roomId)}/${step}`, {});
}

const putRoom = (slug: string, name: string) =>
  fx.api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${fx.api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });

it('an unrecorded, unusable room behind the alias is released and the room created, not reported missing', async () => {
  const husk = await createBehindAlias('party');
  await botLeaves(husk);

  const res = await putRoom('party', 'Party');
  const body = (await res.json()) as { roomId: string; actions: string[] };
  expect(res.status).toBe(200);
  expect(body.roomId).not.toBe(husk);
  expect(body.actions).toEqual(
    expect.arrayContaining([`released #om_${tenant}_event_party:localhost from unusable ${husk}`]),
  );
  expect(await botView(config).resolveAlias(`#om_${tenant}_event_party:localhost`)).toBe(body.roomId);
});

it('a room behind the alias that becomes usable while it is waited for (a creation under way) is adopted, not replaced', async () => {
  const alias = `#om_${tenant}_event_slow:localhost`;
  const slow = await createBehindAlias('slow', { preset: 'public_chat' });
  // Someone stays in it, so that the bot can come back.
  await call('POST', `/join/${e(slow)}`, {}, await adminToken(config));
  // Unusable for now (the bot is not in it), like a room whose first events are not stored yet.
  await botLeaves(slow);
  await expect(call('GET', `/rooms/${e(slow)}/state/m.room.create/`)).rejects.toThrow(/40[34]/);
  const put = putRoom('slow', 'Slow');
  await sleep(3000);
  // The creation "finishes": the room is usable again.
  await call('POST', `/join/${e(slow)}`, {});

  const res = await put;
  const body = (await res.json()) as { roomId: string; actions: string[] };
  expect(res.status).toBe(200);
  expect(body.roomId).toBe(slow);
  expect(body.actions).toEqual(expect.arrayContaining([`adopted ${slow} behind ${alias}`]));
  expect(body.actions.filter((a) => a.startsWith('released'))).toEqual([]);
  expect(await botView(config).resolveAlias(alias)).toBe(slow);
});
