/**
 * (e) The API process is SIGKILLed (and restarted) again and again while clients send messages, half
 * through `POST …/messages`, half as `send` frames on the realtime relay's WebSocket. A client
 * repeats every send that was not acknowledged (no 200/202, no `queued`/`sent` frame) with the same
 * client transaction id until it is. In the end every message is in the room on the homeserver
 * exactly once, and every event id an answer named is the one there; the outbox (decision 0036)
 * holds every message as sent with that event — an acknowledged one whose API died before its
 * PUT or before recording the event id is finished by the worker's sweeper, as nobody repeats it.
 */
import { afterAll, expect, it } from '@jest/globals';
import { roomMessages } from '../helpers/matrix.js';
import { serviceToken } from '../helpers/api.js';
import { eventually, sleep, stackEnv, uniqueTenant } from '../helpers/env.js';
import type { RunningProcess } from '../helpers/processes.js';
import { RelayClient, startApi, userToken } from '../helpers/relay.js';
import { scenario } from './harness.js';

const s = scenario('api-kill-sends', 5005, { env: { API_WAIT_MS: '60000' } }); // set-up waits for the room
const MESSAGES = 200;
const LANES = 5;
let api: RunningProcess | undefined;
afterAll(async () => {
  await api?.stop('SIGKILL');
});

interface Outcome {
  acked: boolean;
  eventIds: Set<string>;
  attempts: number;
}

it('SIGKILL the API 3 times during 200 durable sends (HTTP and WebSocket); un-acked ones repeated → each message in the room exactly once', async () => {
  const { config } = s;
  const tenant = uniqueTenant('fsend');
  const port = Number(stackEnv().API_PORT); // the port Synapse pushes to: this stack runs no other API
  const base = `http://127.0.0.1:${port}`;
  let roomId = '';
  for (const u of ['alice', 'bob']) {
    const res = await s.api.app.request(`/v1/tenants/${tenant}/rooms/event/chat/members/${u}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${s.api.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    roomId = ((await res.json()) as { roomId: string }).roomId;
  }
  api = await startApi(port, s.taskQueue, { API_WAIT_MS: '1000' });
  const service = await serviceToken(config);
  const alice = await userToken(config, tenant, 'alice');
  const outcomes = new Map<string, Outcome>();
  const messages = Array.from({ length: MESSAGES }, (_, i) => ({
    txnId: `fault-${s.seed}-${i}-${Math.floor(s.random() * 1e9).toString(36)}`,
    body: `message ${i}`,
    via: i % 2 === 0 ? ('http' as const) : ('socket' as const),
  }));
  for (const m of messages) outcomes.set(m.txnId, { acked: false, eventIds: new Set(), attempts: 0 });

  async function viaHttp(m: (typeof messages)[number]): Promise<boolean> {
    const res = await fetch(`${base}/v1/tenants/${tenant}/rooms/event/chat/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
      body: JSON.stringify({ txnId: m.txnId, body: m.body, userSlug: 'bob' }),
      signal: AbortSignal.timeout(30_000),
    });
    const answer = (await res.json()) as { status?: string; eventId?: string; errcode?: string };
    if (res.status === 503) return false;
    if (res.status !== 200 && res.status !== 202)
      throw new Error(`send ${m.txnId} answered ${res.status}: ${JSON.stringify(answer)}`);
    if (answer.eventId) outcomes.get(m.txnId)!.eventIds.add(answer.eventId);
    return true;
  }

  async function viaSocket(m: (typeof messages)[number], lane: { socket: RelayClient | null }): Promise<boolean> {
    if (!lane.socket || lane.socket.ws.readyState !== lane.socket.ws.OPEN)
      lane.socket = await RelayClient.connect(base, alice);
    const c = lane.socket;
    const from = c.frames.length;
    const id = `${m.txnId}-${outcomes.get(m.txnId)!.attempts}`;
    c.send({ type: 'send', id, kind: 'event', slug: 'chat', txnId: m.txnId, body: m.body });
    const f = await c.waitFor(
      (x) => x.id === id && (x.type === 'queued' || x.type === 'sent' || x.type === 'error'),
      30_000,
      from,
    );
    if (f.type === 'error') {
      if (f.errcode === 'OM_UNAVAILABLE') return false;
      throw new Error(`send ${m.txnId} on the socket: ${JSON.stringify(f)}`);
    }
    // Acknowledged; a `sent` frame may follow on this socket unless the API dies first.
    void c
      .waitFor((x) => x.id === id && x.type === 'sent', 30_000, from)
      .then(
        (sent) => outcomes.get(m.txnId)!.eventIds.add(String(sent.eventId)),
        () => undefined,
      );
    return true;
  }

  const queue = [...messages];
  let done = false;
  const lanes = Array.from({ length: LANES * 2 }, async (_, laneNo) => {
    const lane = { socket: null as RelayClient | null };
    for (let m = queue.shift(); m; m = queue.shift()) {
      const o = outcomes.get(m.txnId)!;
      // The same message through the same path until acknowledged: that is what a client does.
      while (!o.acked) {
        o.attempts++;
        try {
          o.acked = m.via === 'http' ? await viaHttp(m) : await viaSocket(m, lane);
        } catch (err) {
          if (/answered|on the socket/.test((err as Error).message)) throw err;
          o.acked = false; // connection refused or cut, socket closed: not acknowledged
        }
        if (!o.acked) await sleep(200 + (laneNo % 5) * 50);
      }
    }
    await lane.socket?.close().catch(() => undefined);
  });
  const sending = Promise.all(lanes).finally(() => (done = true));
  sending.catch(() => undefined);

  let kills = 0;
  while (kills < 3) {
    await sleep(500 + s.random() * 1000); // sends are quick: kill early and often
    if (done) break;
    await api!.stop('SIGKILL');
    api = undefined;
    kills++;
    await sleep(500 + s.random() * 1000);
    api = await startApi(port, s.taskQueue, { API_WAIT_MS: '1000' });
  }
  await sending;
  const attempts = [...outcomes.values()].reduce((n, o) => n + o.attempts, 0);
  console.log(`[faults] api-kill-sends: ${kills} kills; ${MESSAGES} messages acknowledged after ${attempts} attempts`);
  expect(kills).toBeGreaterThanOrEqual(2);
  expect(attempts).toBeGreaterThan(MESSAGES); // some sends really were cut

  // Every message exactly once on the homeserver (read as the bot, not from our log).
  const byTxn = new Map<string, { body: string; eventIds: string[] }>();
  const deadline = Date.now() + 120_000;
  for (;;) {
    byTxn.clear();
    for (const e of await roomMessages(config, roomId)) {
      const seen = byTxn.get(e.txnId) ?? { body: e.body, eventIds: [] };
      seen.eventIds.push(e.eventId);
      byTxn.set(e.txnId, seen);
    }
    if (byTxn.size >= MESSAGES || Date.now() > deadline) break;
    await sleep(1000);
  }
  expect([...byTxn.keys()].sort()).toEqual(messages.map((m) => m.txnId).sort());
  for (const m of messages) {
    const seen = byTxn.get(m.txnId)!;
    expect({ txnId: m.txnId, body: seen.body, copies: seen.eventIds.length }).toEqual({
      txnId: m.txnId,
      body: m.body,
      copies: 1,
    });
    for (const reported of outcomes.get(m.txnId)!.eventIds) expect(reported).toBe(seen.eventIds[0]);
  }

  // The outbox (decision 0036) agrees: every accepted message settled as sent, with the event the
  // room holds — those whose API died between recording and confirming included, finished by the
  // workflow (a repeat) or by the worker's sweeper (nobody repeated an acknowledged one).
  const rows = await eventually(
    async () => {
      const r = await s.api.db.query<{ txn_id: string; user_slug: string; status: string; event_id: string | null }>(
        'SELECT txn_id, user_slug, status, event_id FROM message_outbox WHERE tenant = $1',
        [tenant],
      );
      return r.rows.length >= MESSAGES && r.rows.every((x) => x.status === 'sent') ? r.rows : null;
    },
    60_000,
    'every outbox row of the run settled as sent',
  );
  expect(rows.map((r) => r.txn_id).sort()).toEqual(messages.map((m) => m.txnId).sort());
  for (const r of rows) expect(r.event_id).toBe(byTxn.get(r.txn_id)!.eventIds[0]);
  const retried = await s.api.temporal.workflow.count(`Tenant = '${tenant}' AND WorkflowType = 'sendMessageWorkflow'`);
  console.log(`[faults] api-kill-sends: ${retried.count} of ${MESSAGES} messages finished by the send workflow (retry path)`);
}, 600_000);
