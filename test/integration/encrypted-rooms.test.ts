/**
 * Encrypted rooms (decision 0046), on the real stack: the service never sends plaintext into an
 * end-to-end encrypted room — the HTTP route, the socket's `send` frame and the outbox's retry
 * path (sweeper → send workflow → activity) are all refused with `409 OM_ROOM_ENCRYPTED`, and the
 * homeserver holds no `m.room.message` afterwards — whether the room was created encrypted (a DM
 * with `encrypted: true`) or a Matrix client turned encryption on later. Encrypted events written
 * by a plain Matrix client are relayed marked `encrypted: true`, with no body. Runs in both
 * identity modes (jest.appservice.config.js).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { authorized, matrixRequest } from '../../adapters/matrix/http.js';
import { dmSlug } from '../../vocabulary/ids.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { asPlatformUser, roomMessages } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, RelayClient, startApi, untilPushesArrive, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('encrypted');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('enc');
const url = `http://127.0.0.1:${stackEnv().API_PORT}`;
const dm = dmSlug('alice', 'bob');
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
let dmRoom = '';
let laterRoom = '';
const open: RelayClient[] = [];

async function sendHttp(path: string, body: string): Promise<{ http: number; errcode?: string; error?: string }> {
  const res = await api.post(
    `/v1/tenants/${tenant}/rooms/${path}/messages`,
    { txnId: randomUUID(), body },
    await userToken(config, tenant, 'alice'),
  );
  return { ...((await res.json()) as { errcode?: string; error?: string }), http: res.status };
}

/** The room's m.room.message events, as the homeserver has them (read by the bot). */
const plaintext = async (roomId: string) => roomMessages(config, roomId);

async function live(slug: string): Promise<RelayClient> {
  const c = await RelayClient.connect(url, await userToken(config, tenant, slug));
  open.push(c);
  await c.waitFor((f) => f.type === 'live');
  return c;
}

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue);
  api = await createTestApi(config);
  const made = await api.post(`/v1/tenants/${tenant}/dms`, { users: ['alice', 'bob'], encrypted: true });
  expect(made.status).toBe(200);
  dmRoom = ((await made.json()) as { roomId: string }).roomId;
  laterRoom = await eventRoomWith(api, tenant, 'later', ['alice', 'bob']);
  // Probed in a room of its own: the rooms under test hold exactly what the tests put there.
  await untilPushesArrive(api, config, await eventRoomWith(api, tenant, 'probe', ['alice']));
}, 420_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

describe('a DM created with encrypted: true', () => {
  it('is encrypted on the homeserver (the premise)', async () => {
    const state = await matrixRequest<{ algorithm?: string }>(config.matrix.homeserverUrl, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(dmRoom)}/state/m.room.encryption/`,
      token: config.matrix.asToken,
    });
    expect(state.algorithm).toBe('m.megolm.v1.aes-sha2');
  });

  it('refuses a send over HTTP with 409 OM_ROOM_ENCRYPTED, records nothing, sends nothing', async () => {
    const r = await sendHttp(`dm/${dm}`, 'plaintext over http');
    expect(r).toMatchObject({ http: 409, errcode: 'OM_ROOM_ENCRYPTED' });
    expect(r.error).toMatch(/end-to-end encrypted/);
    const rows = await api.db.query('SELECT 1 FROM message_outbox WHERE tenant = $1 AND room_id = $2', [
      tenant,
      dmRoom,
    ]);
    expect(rows.rowCount).toBe(0);
    expect(await plaintext(dmRoom)).toEqual([]);
  });

  it('refuses a file upload with 409 OM_ROOM_ENCRYPTED before any byte reaches the homeserver', async () => {
    const res = await fetch(`${url}/v1/tenants/${tenant}/rooms/dm/${dm}/media?txnId=${randomUUID()}&filename=a.txt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await userToken(config, tenant, 'alice')}`, 'content-type': 'text/plain' },
      body: 'plaintext file',
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ errcode: 'OM_ROOM_ENCRYPTED' });
    expect(await plaintext(dmRoom)).toEqual([]);
  });

  it('refuses a send frame on the socket with an error frame OM_ROOM_ENCRYPTED naming the txnId', async () => {
    const alice = await live('alice');
    const txnId = randomUUID();
    alice.send({ type: 'send', id: 'enc-1', kind: 'dm', slug: dm, txnId, body: 'plaintext over the socket' });
    const answer = await alice.waitFor((f) => f.type === 'error' && f.txnId === txnId);
    expect(answer).toMatchObject({ errcode: 'OM_ROOM_ENCRYPTED' });
    expect(alice.frames.some((f) => (f.type === 'queued' || f.type === 'sent') && f.txnId === txnId)).toBe(false);
    expect(await plaintext(dmRoom)).toEqual([]);
  });

  it('refuses the retry path: a pending outbox row is recorded failed by the send workflow, never sent', async () => {
    const txnId = randomUUID();
    // What an API that died before the check would leave: the sweeper hands it to the workflow.
    await api.db.query(
      `INSERT INTO message_outbox (tenant, user_slug, txn_id, room_id, kind, slug, msgtype, body, updated_at)
       VALUES ($1, 'alice', $2, $3, 'dm', $4, 'm.text', 'plaintext on the retry path', now() - interval '1 minute')`,
      [tenant, txnId, dmRoom, dm],
    );
    const failed = await eventually(
      async () => {
        const r = await api.db.query<{ status: string; errcode: string | null; event_id: string | null }>(
          'SELECT status, errcode, event_id FROM message_outbox WHERE tenant = $1 AND user_slug = $2 AND txn_id = $3',
          [tenant, 'alice', txnId],
        );
        return r.rows[0]?.status === 'failed' ? r.rows[0] : null;
      },
      45_000,
      'the sweeper to record the refusal',
    );
    expect(failed).toEqual({ status: 'failed', errcode: 'OM_ROOM_ENCRYPTED', event_id: null });
    const run = await api.temporal.workflow.getHandle(`msg:${tenant}:alice:${txnId}`).describe();
    expect(run.status.name).toBe('FAILED');
    expect(await plaintext(dmRoom)).toEqual([]);
  }, 60_000);

  it('relays an m.room.encrypted event from a plain Matrix client marked encrypted: true, without a body', async () => {
    const alice = await live('alice');
    const bob = await asPlatformUser(config, api.db, tenant, 'bob');
    const content = {
      algorithm: 'm.megolm.v1.aes-sha2',
      ciphertext: 'AwgAEnACx1hVIyc2fXNuS8cJz5BnGhUxQk9yb7wBQ9iHH1tZUMnD0Xh0aVeWgK0SJ7Q',
      device_id: 'BOBDEVICE',
      sender_key: 'c8xbq3XyR8cSfAPfxyfwCLqVnABhbQ1xzMXzXP4ixUk',
      session_id: 'X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ',
    };
    const sent = await matrixRequest<{ event_id: string }>(
      config.matrix.homeserverUrl,
      authorized(bob, {
        method: 'PUT',
        path: `/_matrix/client/v3/rooms/${encodeURIComponent(dmRoom)}/send/m.room.encrypted/${randomUUID()}`,
        body: content,
      }),
    );
    const f = await alice.waitFor((x) => x.type === 'event' && x.event?.event_id === sent.event_id);
    expect(f).toMatchObject({ encrypted: true, room: { id: dmRoom, kind: 'dm', slug: dm } });
    expect(f.event).toMatchObject({ type: 'm.room.encrypted', content });
    expect(f.event?.content).not.toHaveProperty('body');
    // A plain message frame is not marked (the mark means something).
    expect(
      alice.frames
        .filter((x) => x.type === 'event' && x.encrypted === true)
        .every((x) => x.event?.type === 'm.room.encrypted'),
    ).toBe(true);
  });
});

describe('a room a Matrix client turns encryption on in', () => {
  it('takes plaintext before, and refuses it (every path) once the state event reached the service', async () => {
    expect(await sendHttp('event/later', 'before encryption')).toMatchObject({ http: 200 });
    // The bot turns it on, as any Matrix client with the power to could.
    await matrixRequest(config.matrix.homeserverUrl, {
      method: 'PUT',
      path: `/_matrix/client/v3/rooms/${encodeURIComponent(laterRoom)}/state/m.room.encryption/`,
      token: config.matrix.asToken,
      body: { algorithm: 'm.megolm.v1.aes-sha2' },
    });
    await eventually(
      async () => {
        const r = await api.db.query<{ encrypted: boolean }>('SELECT encrypted FROM rooms WHERE room_id = $1', [
          laterRoom,
        ]);
        return r.rows[0]?.encrypted === true;
      },
      30_000,
      'the appservice intake to mark the room encrypted',
    );
    expect(await sendHttp('event/later', 'after encryption')).toMatchObject({
      http: 409,
      errcode: 'OM_ROOM_ENCRYPTED',
    });
    const alice = await live('alice');
    const txnId = randomUUID();
    alice.send({ type: 'send', kind: 'event', slug: 'later', txnId, body: 'after encryption, socket' });
    expect(await alice.waitFor((f) => f.type === 'error' && f.txnId === txnId)).toMatchObject({
      errcode: 'OM_ROOM_ENCRYPTED',
    });
    expect((await plaintext(laterRoom)).map((m) => m.body)).toEqual(['before encryption']);
  }, 60_000);
});
