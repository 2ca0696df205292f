/**
 * Benchmark 3 (issue 7): relay latency. A member sends N messages into a room through the Matrix
 * client-server API (PUT /rooms/{id}/send with their own token), one every `interval` ms. Two
 * other members listen to the same sends: one on our WebSocket (om-relay.v1 on /v1/realtime of the
 * real API process, user JWT), one as a plain matrix-js-sdk client (createClient + startClient:
 * /sync long-polling on the homeserver) — the baseline. Latency = arrival − just before the PUT was
 * issued. Our path: Synapse → appservice push → event log (PostgreSQL) → fan-out → socket; the
 * relay's own share (push stored → socket) is split out from relay_events.received_at.
 */
import { ClientEvent, createClient, Filter, RoomEvent, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { logger as sdkLogger, type Logger } from 'matrix-js-sdk/lib/logger.js';
import { WebSocket } from 'ws';
import type { Config } from '../../lib/config.js';
import type { ApiClient } from './clients.js';
import type { Track } from './provisioning.js';
import { latencies, markerBody, markerIndex, p50p99, wallMs } from './relay-stats.js';
import {
  matrixSend,
  matrixTokens,
  memberSlug,
  receivedAt,
  roomWithMembers,
  userIdOf,
  userJwt,
} from './relay-setup.js';
import { compare, measurement, type Comparison } from './stats.js';

(sdkLogger as { setLevel?: (l: string) => void }).setLevel?.('warn');
/** The sync client's own logger (its children log at debug level otherwise). */
const silent: Logger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  getChild: () => silent,
};

export interface RelayLatencyOptions {
  config: Config;
  api: ApiClient;
  messages: number;
  interval: number;
  runId: string;
  log: (msg: string) => void;
  track: Track;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Opens an om-relay.v1 socket and resolves once it is live; `onFrame` sees every frame's text with its arrival time. */
export function relaySocket(
  baseUrl: string,
  token: string,
  onFrame: (text: string, at: number) => void,
): Promise<WebSocket> {
  const ws = new WebSocket(new URL('/v1/realtime', baseUrl.replace(/^http/, 'ws')), ['om-relay.v1'], {
    headers: { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('relay socket not live after 60 s')), 60_000);
    ws.on('message', (data) => {
      const at = wallMs();
      const text = String(data);
      if (text.includes('"type":"live"')) {
        clearTimeout(timer);
        resolve(ws);
      }
      onFrame(text, at);
    });
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`relay socket closed: ${code} ${String(reason)}`)));
  });
}

/** A plain matrix-js-sdk client, synced and listening: resolves once its first sync is done. */
async function syncClient(
  config: Config,
  userId: string,
  accessToken: string,
  onBody: (body: string, at: number) => void,
): Promise<MatrixClient> {
  const client = createClient({ baseUrl: config.matrix.homeserverUrl, userId, accessToken, logger: silent });
  client.on(RoomEvent.Timeline, (event: MatrixEvent, _room, toStartOfTimeline) => {
    const at = wallMs();
    if (toStartOfTimeline || event.getType() !== 'm.room.message') return;
    const body = (event.getContent() as { body?: unknown }).body;
    if (typeof body === 'string') onBody(body, at);
  });
  const prepared = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sync client not prepared after 60 s')), 60_000);
    client.on(ClientEvent.Sync, (state) => {
      if (state === 'PREPARED' || state === 'SYNCING') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // Synapse's default timeline limit is 10: a slower sync than 10 sends would come back "limited",
  // the older ones left out of the live timeline. A larger limit keeps the comparison about latency.
  const filter = new Filter(userId);
  filter.setDefinition({ room: { timeline: { limit: 100 } } });
  await client.startClient({ initialSyncLimit: 1, lazyLoadMembers: true, filter });
  await prepared;
  return client;
}

export async function relayLatencyBench(o: RelayLatencyOptions): Promise<Comparison> {
  const { config } = o;
  const tenant = `bl-${o.runId}`;
  const tag = `lat${o.runId}`;
  o.log('relay-latency: a room with a sender, a socket user and a sync user, through the API (untimed)');
  const roomId = await roomWithMembers(o.api, tenant, 'latency', 3, 3);
  const [senderToken, syncToken] = await matrixTokens(config, [
    userIdOf(config, tenant, memberSlug(0)),
    userIdOf(config, tenant, memberSlug(2)),
  ]);

  const socketAt: (number | undefined)[] = [];
  const syncAt: (number | undefined)[] = [];
  const ws = await relaySocket(o.api.baseUrl, await userJwt(config, tenant, memberSlug(1)), (text, at) => {
    const i = markerIndex(text, tag);
    if (i >= 0) socketAt[i] ??= at;
  });
  const sync = await syncClient(config, userIdOf(config, tenant, memberSlug(2)), syncToken!, (body, at) => {
    const m = /-(\d+)$/.exec(body);
    if (body.startsWith(`${tag}-`) && m) syncAt[Number(m[1])] ??= at;
  });
  try {
    // Warm-up, untimed: both receivers have seen a message before the timed ones.
    await matrixSend(config, senderToken!, roomId, `warm-${tag}`, 'warm-up');
    await sleep(1_000);

    o.log(`relay-latency: ${o.messages} messages, one every ${o.interval} ms`);
    const sentAt: (number | undefined)[] = [];
    const answeredAt: (number | undefined)[] = [];
    const eventIds: (string | undefined)[] = [];
    let sendErrors = 0;
    const { value: seconds, cores } = await o.track(async () => {
      const started = performance.now();
      const sends: Promise<void>[] = [];
      for (let i = 0; i < o.messages; i++) {
        const due = started + i * o.interval;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        sentAt[i] = wallMs();
        sends.push(
          matrixSend(config, senderToken!, roomId, `${tag}-${i}`, markerBody(tag, i)).then(
            (id) => void ((eventIds[i] = id), (answeredAt[i] = wallMs())),
            () => void ((sentAt[i] = undefined), sendErrors++),
          ),
        );
      }
      await Promise.all(sends);
      // Until both receivers have every message (or 30 s more).
      const deadline = performance.now() + 30_000;
      const done = (at: (number | undefined)[]): boolean =>
        sentAt.every((t, i) => t === undefined || at[i] !== undefined);
      while (performance.now() < deadline && !(done(socketAt) && done(syncAt))) await sleep(50);
      return (performance.now() - started) / 1000;
    });
    const ours = latencies(sentAt, (i) => socketAt[i]);
    const direct = latencies(sentAt, (i) => syncAt[i]);

    // The relay's share: push stored (received_at) → socket; and Synapse's: PUT issued → push stored.
    const stored = await receivedAt(
      config,
      eventIds.filter((e): e is string => !!e),
    );
    const storedAt = (i: number): number | undefined => (eventIds[i] ? stored.get(eventIds[i]!) : undefined);
    const toPush = latencies(sentAt, storedAt).samples;
    const answered = latencies(sentAt, (i) => answeredAt[i]).samples;
    const pushAfterAnswer = latencies(answeredAt, storedAt).samples;
    const relayShare = latencies(
      socketAt.map((_, i) => storedAt(i)),
      (i) => socketAt[i],
    ).samples;

    const sent = o.messages - sendErrors;
    const result = compare({
      id: 'relay-latency',
      title: 'Relay latency, send → receiver (issue 7 #3)',
      unit: 'messages/s',
      params: { messages: o.messages, 'interval ms': o.interval },
      ours: measurement('relay socket', ours.samples.length, seconds, ours.samples, ours.missing + sendErrors),
      baseline: measurement(
        'matrix-js-sdk /sync',
        direct.samples.length,
        seconds,
        direct.samples,
        direct.missing + sendErrors,
      ),
      goal: 1,
      metric: 'p99-ratio',
      cpu: { ours: cores },
      check: {
        ok: ours.missing === 0 && direct.missing === 0 && sendErrors === 0,
        detail: `${sent - ours.missing}/${o.messages} on the socket, ${sent - direct.missing}/${o.messages} by /sync`,
      },
      details: {
        putAnsweredMs: answered,
        pushStoredMs: toPush,
        pushAfterAnswerMs: pushAfterAnswer,
        relayShareMs: relayShare,
      },
    });
    result.notes = [
      `Relay latency: one sender, both receivers listening to the same ${o.messages} sends (one every ${o.interval} ms); ratio = ours p99 / direct p99. ` +
        `Synapse answered the PUT after ${p50p99(answered)}. Breakdown of ours: PUT issued → appservice push stored by the API ${p50p99(toPush)} ` +
        `(Synapse's share; PUT answered → push stored ${p50p99(pushAfterAnswer)}); ` +
        `push stored → socket ${p50p99(relayShare)} (the relay's share: notify, read, fan-out, WebSocket). Its CPU line covers both receivers at once.`,
    ];
    return result;
  } finally {
    sync.stopClient();
    ws.close();
  }
}
