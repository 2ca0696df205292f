/**
 * The appservice side of the relay against real PostgreSQL: Synapse's transactions are stored once,
 * in one database transaction, with gap-free sequences, and announced by NOTIFY; the query
 * endpoints answer from what the service manages; the hs_token is enforced.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createEventLog } from '../../adapters/store/events.js';
import { migrate } from '../../adapters/store/db.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTenant } from '../helpers/env.js';
import { pushedMessage } from '../helpers/relay.js';

const config = testConfig();
const tenant = uniqueTenant('as');
let api: TestApi;
let db: pg.Pool;

beforeAll(async () => {
  db = new pg.Pool({ connectionString: config.databaseUrl });
  await migrate(db);
  api = await createTestApi(config);
});
afterAll(async () => {
  await api?.close();
  await db?.end();
});

const room = (): string => `!${randomBytes(6).toString('hex')}:localhost`;
const txn = (): string => `t${randomBytes(6).toString('hex')}`;
const message = (roomId: string, n: number, body = `m${n}`) => pushedMessage(roomId, body);

function put(
  txnId: string,
  body: unknown,
  auth: string | null = `Bearer ${config.matrix.hsToken}`,
  query = '',
): Promise<Response> {
  return Promise.resolve(
    api.app.request(`/_matrix/app/v1/transactions/${txnId}${query}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

async function rowsOf(roomId: string) {
  const r = await db.query<{
    seq: string;
    room_seq: string;
    type: string;
    event_id: string | null;
    ephemeral: boolean;
    event: { content: { body?: string } };
  }>('SELECT seq, room_seq, type, event_id, ephemeral, event FROM relay_events WHERE room_id = $1 ORDER BY seq', [
    roomId,
  ]);
  return r.rows.map((x) => ({ ...x, seq: Number(x.seq), room_seq: Number(x.room_seq) }));
}

describe('PUT /_matrix/app/v1/transactions/{txnId}', () => {
  it('stores the events of a transaction in order, with consecutive sequences, and answers {} once committed', async () => {
    const r = room();
    const events = [message(r, 1), message(r, 2), message(r, 3)];
    const typing = { type: 'm.typing', room_id: r, content: { user_ids: ['@someone:localhost'] } };
    const res = await put(txn(), { events, ephemeral: [typing] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const rows = await rowsOf(r);
    expect(rows.map((x) => [x.type, x.event_id, x.ephemeral])).toEqual([
      ...events.map((e) => ['m.room.message', e.event_id, false]),
      ['m.typing', null, true],
    ]);
    expect(rows.map((x) => x.room_seq)).toEqual([1, 2, 3, 4]);
    expect(rows.map((x) => x.seq - rows[0]!.seq)).toEqual([0, 1, 2, 3]);
  });

  it('acknowledges a retried transaction (same id, same content) without storing its events twice', async () => {
    const r = room();
    const id = txn();
    const body = {
      events: [message(r, 1), message(r, 2)],
      ephemeral: [{ type: 'm.typing', room_id: r, content: { user_ids: [] } }],
    };
    expect((await put(id, body)).status).toBe(200);
    const again = await put(id, body);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({});
    expect((await rowsOf(r)).length).toBe(3);
    const t = await db.query('SELECT events FROM appservice_transactions WHERE txn_id = $1', [id]);
    expect(t.rows).toEqual([{ events: 3 }]);
  });

  it('stores a new transaction that reuses an old id (Synapse restarts its numbering) without duplicating events', async () => {
    const r = room();
    const id = txn();
    const [first, second, third] = [message(r, 1), message(r, 2), message(r, 3)];
    expect((await put(id, { events: [first] })).status).toBe(200);
    // After a restart the homeserver hands out the same id for other events: nothing may be lost.
    expect((await put(id, { events: [first, second, third] })).status).toBe(200);
    expect((await rowsOf(r)).map((x) => x.event_id)).toEqual([first.event_id, second.event_id, third.event_id]);
    const t = await db.query('SELECT events FROM appservice_transactions WHERE txn_id = $1', [id]);
    expect(t.rows).toEqual([{ events: 3 }]);
  });

  it('stores an event that arrives again in a later transaction only once', async () => {
    const r = room();
    const e = message(r, 1);
    await put(txn(), { events: [e] });
    await put(txn(), { events: [e, message(r, 2)] });
    expect((await rowsOf(r)).map((x) => x.event_id)).toHaveLength(2);
  });

  it('hands out gap-free sequences under 20 concurrent transactions', async () => {
    const before = Number(
      (await db.query<{ last_seq: string }>('SELECT last_seq FROM relay_log_head')).rows[0]!.last_seq,
    );
    const r = room();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => put(txn(), { events: [message(r, i * 2), message(r, i * 2 + 1)] })),
    );
    expect(results.map((x) => x.status)).toEqual(Array(20).fill(200));
    const seqs = (
      await db.query<{ seq: string }>('SELECT seq FROM relay_events WHERE seq > $1 ORDER BY seq', [before])
    ).rows.map((x) => Number(x.seq));
    expect(seqs.length).toBeGreaterThanOrEqual(40);
    expect(seqs).toEqual(seqs.map((_, i) => before + 1 + i));
    const mine = await rowsOf(r);
    expect(mine.map((x) => x.room_seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Each transaction's two events stay together and in their order.
    const bodies = mine.map((x) => Number(x.event.content.body!.slice(1)));
    for (let i = 0; i < 40; i += 2) expect(bodies[i + 1]).toBe(bodies[i]! + 1);
  });

  it('notifies listeners of the new last sequence when the transaction commits', async () => {
    const listener = new pg.Client({ connectionString: config.databaseUrl });
    await listener.connect();
    try {
      await listener.query('LISTEN relay_log');
      const heard = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.payload ?? '')));
      const r = room();
      await put(txn(), { events: [message(r, 1)] });
      const [row] = await rowsOf(r);
      expect(Number(await heard)).toBeGreaterThanOrEqual(row!.seq);
    } finally {
      await listener.end();
    }
  });

  it('stores a message containing a NUL character instead of failing (and blocking Synapse) forever', async () => {
    const r = room();
    const res = await put(txn(), { events: [message(r, 1, 'a\u0000b \\u0000 literal')] });
    expect(res.status).toBe(200);
    expect((await rowsOf(r))[0]!.event.content.body).toBe('a\ufffdb \\u0000 literal');
  });

  it('skips entries that are not room events, and rejects a body that is not a transaction', async () => {
    const r = room();
    const res = await put(txn(), {
      events: [message(r, 1), { type: 'm.presence', content: {} }, 'junk'],
      ephemeral: [{ type: 'm.presence' }],
    });
    expect(res.status).toBe(200);
    expect((await rowsOf(r)).length).toBe(1);

    const notJson = await put(txn(), '{nope');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ errcode: 'M_NOT_JSON' });
    const noEvents = await put(txn(), { events: 'x' });
    expect(noEvents.status).toBe(400);
    expect(await noEvents.json()).toEqual({ errcode: 'M_BAD_JSON', error: 'field "events" must be an array' });
  });

  it('refuses a missing (401 M_UNAUTHORIZED) or wrong (403 M_FORBIDDEN) hs_token, and accepts ?access_token=', async () => {
    const body = { events: [] };
    const missing = await put(txn(), body, null);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ errcode: 'M_UNAUTHORIZED' });
    const wrong = await put(txn(), body, `Bearer ${config.matrix.hsToken}x`);
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ errcode: 'M_FORBIDDEN' });
    const asService = await put(txn(), body, `Bearer ${config.matrix.asToken}`);
    expect(asService.status).toBe(403);
    expect((await put(txn(), body, null, `?access_token=${encodeURIComponent(config.matrix.hsToken)}`)).status).toBe(
      200,
    );
  });
});

describe('appservice queries', () => {
  const get = (path: string, auth = `Bearer ${config.matrix.hsToken}`) =>
    api.app.request(path, { headers: { authorization: auth } });

  it('knows the users and room aliases the service manages, and only those', async () => {
    await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
    const userId = `@om_${tenant}_alice:localhost`;
    await db.query('INSERT INTO matrix_users (tenant, slug, user_id) VALUES ($1, $2, $3)', [tenant, 'alice', userId]);
    const alias = `#om_${tenant}_event_party:localhost`;
    await db.query("INSERT INTO rooms (tenant, kind, slug, alias, room_id) VALUES ($1, 'event', 'party', $2, $3)", [
      tenant,
      alias,
      room(),
    ]);

    const known = await get(`/_matrix/app/v1/users/${encodeURIComponent(userId)}`);
    expect([known.status, await known.json()]).toEqual([200, {}]);
    const unknown = await get(`/_matrix/app/v1/users/${encodeURIComponent(`@om_${tenant}_nobody:localhost`)}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ errcode: 'M_NOT_FOUND' });
    const aliasKnown = await get(`/_matrix/app/v1/rooms/${encodeURIComponent(alias)}`);
    expect([aliasKnown.status, await aliasKnown.json()]).toEqual([200, {}]);
    expect(
      (await get(`/_matrix/app/v1/rooms/${encodeURIComponent(`#om_${tenant}_event_none:localhost`)}`)).status,
    ).toBe(404);
    expect((await get(`/_matrix/app/v1/users/${encodeURIComponent(userId)}`, 'Bearer wrong')).status).toBe(403);
  });

  it('answers the ping', async () => {
    const res = await api.app.request('/_matrix/app/v1/ping', {
      method: 'POST',
      headers: { authorization: `Bearer ${config.matrix.hsToken}`, 'content-type': 'application/json' },
      body: '{"transaction_id":"x"}',
    });
    expect([res.status, await res.json()]).toEqual([200, {}]);
  });
});

describe('retention', () => {
  it('prunes a prefix of the log, and says up to where', async () => {
    const log = createEventLog(db);
    const r = room();
    await put(txn(), { events: [message(r, 1), message(r, 2)] });
    const [first] = await rowsOf(r);
    await db.query("UPDATE relay_events SET received_at = now() - interval '2 days' WHERE seq <= $1", [first!.seq]);
    const result = await log.prune(new Date(Date.now() - 24 * 3_600_000));
    expect(result.prunedThrough).toBeGreaterThanOrEqual(first!.seq);
    expect((await log.head()).prunedThrough).toBe(result.prunedThrough);
    expect((await rowsOf(r)).map((x) => x.seq)).toEqual([first!.seq + 1]);
  });
});
