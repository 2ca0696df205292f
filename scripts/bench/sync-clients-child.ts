/**
 * The online users of the sync-clients benchmark, in a process of their own (started by
 * sync-clients.ts with an IPC channel):
 * - `matrix`: the first-generation design's backend — one syncing matrix-js-sdk client per user;
 * - `relay`: one om-relay.v1 WebSocket per user on our API.
 * Either way it records, for every benchmark message a user receives, [message, user, latency ms]
 * and hands them over on `collect`. Nothing else runs here, so this process's memory is the cost of
 * the users (on the `matrix` side, that is the backend).
 */
import type { MatrixClient, MatrixEvent, Room } from 'matrix-js-sdk';
import { WebSocket } from 'ws';
import { BENCH_KEY, type ChildUser, type Delivery, type FromChild, type ToChild } from './sync-clients-stats.js';

const mode = process.argv[2];
// The SDK logs through loglevel, which binds the console methods when a logger is made: silence
// them first (a backend would not print every sync either); warnings and errors still show.
for (const k of ['log', 'info', 'debug', 'trace'] as const) console[k] = () => undefined;
// Only the matrix side loads the SDK: it is part of that backend's memory, not of the sockets'.
const sdk = mode === 'matrix' ? await import('matrix-js-sdk') : null;
const send = (m: FromChild): void => void process.send!(m);

/** Deliveries per step, taken by `collect`. */
const byStep = new Map<number, Delivery[]>();
function record(user: number, content: unknown): void {
  const mark = (content as Record<string, unknown> | undefined)?.[BENCH_KEY] as
    { s?: unknown; i?: unknown; t?: unknown } | undefined;
  if (!mark || typeof mark.s !== 'number' || typeof mark.i !== 'number' || typeof mark.t !== 'number') return;
  const list = byStep.get(mark.s) ?? [];
  list.push([mark.i, user, Date.now() - mark.t]);
  byStep.set(mark.s, list);
}

async function pool<T>(items: readonly T[], n: number, task: (item: T) => Promise<void>): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        await task(items[i]!);
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, lane));
  return failures;
}

const quiet = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const silentLogger = { ...quiet, getChild: () => silentLogger };

const clients: MatrixClient[] = [];
/** A syncing client as the first-generation backend ran it: started, initial sync done, all its rooms known. */
async function startMatrix(baseUrl: string, u: ChildUser, initialSyncLimit: number): Promise<void> {
  const client = sdk!.createClient({ baseUrl, userId: u.userId, accessToken: u.token, logger: silentLogger });
  clients.push(client);
  client.on(sdk!.RoomEvent.Timeline, (event: MatrixEvent, _room: Room | undefined, toStart: boolean | undefined) => {
    if (toStart || event.getType() !== 'm.room.message' || event.getSender() === u.userId) return;
    record(u.index, event.getContent());
  });
  const prepared = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${u.userId}: no initial sync after 120 s`)), 120_000);
    client.on(sdk!.ClientEvent.Sync, (state) => {
      if (state === 'PREPARED' || state === 'SYNCING') {
        clearTimeout(timer);
        resolve();
      } else if (state === 'ERROR') {
        clearTimeout(timer);
        reject(new Error(`${u.userId}: sync error`));
      }
    });
  });
  await client.startClient({ initialSyncLimit, lazyLoadMembers: true });
  await prepared;
  const joined = client.getRooms().filter((r) => r.getMyMembership() === 'join').length;
  if (joined < u.rooms) throw new Error(`${u.userId}: sees ${joined} rooms, expected ${u.rooms}`);
}

const sockets: WebSocket[] = [];
/** Sockets the server closed after they went live (e.g. 4408, a slow consumer): their users stop receiving. */
let lost = 0;
let stopping = false;
/** A relay socket: hello with the user's rooms, then live. */
function startRelay(baseUrl: string, u: ChildUser): Promise<void> {
  const url = new URL('/v1/realtime', baseUrl.replace(/^http/, 'ws'));
  const ws = new WebSocket(url, ['om-relay.v1', `bearer.${u.token}`]);
  sockets.push(ws);
  let live = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${u.userId}: not live after 60 s`)), 60_000);
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as {
        type: string;
        rooms?: unknown[];
        event?: { type?: string; sender?: string; content?: unknown };
      };
      if (f.type === 'event') {
        if (f.event?.type === 'm.room.message' && f.event.sender !== u.userId) record(u.index, f.event.content);
      } else if (f.type === 'hello' && (f.rooms?.length ?? 0) < u.rooms) {
        clearTimeout(timer);
        reject(new Error(`${u.userId}: hello lists ${f.rooms?.length ?? 0} rooms, expected ${u.rooms}`));
      } else if (f.type === 'live') {
        live = true;
        clearTimeout(timer);
        resolve();
      }
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.once('close', (code) => {
      clearTimeout(timer);
      if (live && !stopping) lost += 1;
      reject(new Error(`${u.userId}: closed ${code}`));
    });
  });
}

/** Closes a socket and waits for the close handshake. */
function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close(1000);
  });
}

const crowd: WebSocket[] = [];
/** One more socket of `u`, live and then left idle (see 'crowd'). */
function crowdSocket(baseUrl: string, u: ChildUser): Promise<void> {
  const ws = new WebSocket(new URL('/v1/realtime', baseUrl.replace(/^http/, 'ws')), [
    'om-relay.v1',
    `bearer.${u.token}`,
  ]);
  crowd.push(ws);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${u.userId}: extra socket not live after 60 s`)), 60_000);
    ws.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type !== 'live') return;
      clearTimeout(timer);
      resolve();
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

process.on('message', (raw) => {
  const m = raw as ToChild;
  if (m.type === 'start') {
    void (async () => {
      const started = performance.now();
      const failures = await pool(m.users, m.concurrency, (u) =>
        mode === 'matrix' ? startMatrix(m.baseUrl, u, m.initialSyncLimit) : startRelay(m.baseUrl, u),
      );
      send({
        type: 'started',
        online: m.users.length - failures.length,
        failures: failures.slice(0, 5),
        seconds: (performance.now() - started) / 1000,
      });
    })();
  } else if (m.type === 'collect') {
    const deliveries = byStep.get(m.step) ?? [];
    byStep.set(m.step, []);
    // Older steps are over: what still arrives for them is late, not counted.
    for (const s of [...byStep.keys()]) if (s < m.step) byStep.delete(s);
    send({ type: 'collected', step: m.step, deliveries, lost });
  } else if (m.type === 'release') {
    // Everyone offline again (after a warm-up): the process keeps its warmed-up code, not the users.
    void (async () => {
      stopping = true;
      for (const c of clients.splice(0)) {
        c.stopClient();
        c.removeAllListeners();
      }
      await Promise.all(sockets.splice(0).map(closeSocket));
      byStep.clear();
      stopping = false;
      (globalThis as { gc?: () => void }).gc?.();
      send({ type: 'released' });
    })();
  } else if (m.type === 'crowd') {
    // More sockets of the same users (relay mode), only to weigh one socket with enough of them:
    // they receive nothing that is counted, and go before anything is measured with them open.
    void (async () => {
      const list = m.users.flatMap((u) => Array.from({ length: m.perUser }, () => u));
      const failures = await pool(list, m.concurrency, (u) => crowdSocket(m.baseUrl, u));
      send({ type: 'crowded', sockets: crowd.length, failures: failures.slice(0, 5) });
    })();
  } else if (m.type === 'uncrowd') {
    void (async () => {
      await Promise.all(crowd.splice(0).map(closeSocket));
      send({ type: 'uncrowded' });
    })();
  } else if (m.type === 'gc') {
    // A full collection before a memory reading (scripts/bench/gc.ts).
    (globalThis as { gc?: () => void }).gc?.();
    send({ type: 'collectedGarbage' });
  } else if (m.type === 'stop') {
    stopping = true;
    for (const c of clients) c.stopClient();
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});

if (mode !== 'matrix' && mode !== 'relay') {
  console.error('usage: sync-clients-child.js matrix|relay (with an IPC channel)');
  process.exit(2);
}
send({ type: 'loaded' });
