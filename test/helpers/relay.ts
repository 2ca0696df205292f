/**
 * Test helpers for the realtime relay: user JWTs, a WebSocket client that records every frame it
 * receives, and API processes on chosen ports (Synapse pushes to the stack's API_PORT).
 */
import { SignJWT } from 'jose';
import { createServer } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { matrixRequest } from '../../adapters/matrix/http.js';
import type { Config } from '../../lib/config.js';
import { eventually } from './env.js';
import type { TestApi } from './api.js';
import { startProcess, type RunningProcess } from './processes.js';

export interface Frame {
  v: number;
  type: string;
  seq?: number;
  room?: { id: string; kind: string | null; slug: string | null };
  event?: { type: string; event_id?: string; sender?: string; state_key?: string; content?: Record<string, unknown> };
  [key: string]: unknown;
}

export async function userToken(
  config: Config,
  tenant: string,
  slug: string,
  opts: { expiresIn?: number; audience?: string; secret?: Uint8Array; claims?: Record<string, unknown> } = {},
): Promise<string> {
  return new SignJWT({ tenant, ...opts.claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(slug)
    .setAudience(opts.audience ?? config.userJwt.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.expiresIn ?? 3600))
    .sign(opts.secret ?? config.userJwt.secret!);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Makes each user a member of the event room `slug` through the in-process API; the room's id. */
export async function eventRoomWith(api: TestApi, tenant: string, slug: string, users: string[]): Promise<string> {
  let roomId = '';
  for (const u of users) {
    const res = await api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}/members/${u}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    if (res.status !== 200) throw new Error(`adding ${u} to ${slug}: ${res.status} ${await res.text()}`);
    roomId = ((await res.json()) as { roomId: string }).roomId;
  }
  return roomId;
}

/**
 * A durable send as bob into the event room `slug` through the in-process API (the same code as an
 * API process, which may be down meanwhile); the event id.
 */
export async function sayAsBob(api: TestApi, tenant: string, slug: string, text: string): Promise<string> {
  const res = await api.post(`/v1/tenants/${tenant}/rooms/event/${slug}/messages`, {
    txnId: randomUUID(),
    body: text,
    userSlug: 'bob',
  });
  if (res.status !== 200) throw new Error(`sending to ${slug}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { eventId: string }).eventId;
}

/**
 * Every test client comes from 127.0.0.1: limits per client address would count the whole suite as
 * one client. Off unless a test sets them (relay-limits.test.ts does, from several loopback addresses).
 */
export const ONE_ADDRESS_ENV = {
  RELAY_MAX_SOCKETS_PER_ADDRESS: '0',
  RELAY_ADDRESS_HANDSHAKES_PER_SECOND: '0',
  RELAY_HANDSHAKES_PER_SECOND: '10000',
};

/** A real API process (dist/api/main.js) on `port`, its workflows on `taskQueue`. */
export function startApi(port: number, taskQueue: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  return startProcess(
    'dist/api/main.js',
    { API_PORT: String(port), TEMPORAL_TASK_QUEUE: taskQueue, ...ONE_ADDRESS_ENV, ...env },
    /api listening/,
  );
}

/** A WebSocket client that keeps every frame, so tests can assert on exactly what arrived. */
export class RelayClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      this.waiters.splice(0).forEach((w) => w());
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    void this.closed.then(() => this.waiters.splice(0).forEach((w) => w()));
  }

  /** Connects; the token travels as a `bearer.` subprotocol (as browsers do) unless `via` says otherwise. */
  static connect(
    baseUrl: string,
    token: string | null,
    opts: { since?: number; via?: 'protocol' | 'header' | 'query'; autoPong?: boolean; from?: string } = {},
  ): Promise<RelayClient> {
    const url = new URL('/v1/realtime', baseUrl.replace(/^http/, 'ws'));
    if (opts.since !== undefined) url.searchParams.set('since', String(opts.since));
    const via = opts.via ?? 'protocol';
    if (token && via === 'query') url.searchParams.set('access_token', token);
    const protocols = ['om-relay.v1', ...(token && via === 'protocol' ? [`bearer.${token}`] : [])];
    const headers = token && via === 'header' ? { authorization: `Bearer ${token}` } : undefined;
    // `from`: a local address of the client (127.0.0.x: another client address on one machine).
    const ws = new WebSocket(url, protocols, { headers, autoPong: opts.autoPong ?? true, localAddress: opts.from });
    const client = new RelayClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Resolves with the first frame (from `from` on) matching, or rejects after `timeoutMs`. */
  async waitFor(match: (f: Frame) => boolean, timeoutMs = 30_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (this.ws.readyState === WebSocket.CLOSED)
        throw new Error(`socket closed while waiting; frames: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame; got: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Event frames (timeline) so far, optionally of one room. */
  events(roomId?: string): Frame[] {
    return this.frames.filter((f) => f.type === 'event' && (roomId === undefined || f.room?.id === roomId));
  }

  /** The highest sequence seen. */
  lastSeq(): number {
    return Math.max(...this.frames.map((f) => (typeof f.seq === 'number' ? f.seq : -1)));
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close(1000, 'test done');
    return this.closed;
  }

  describe(): string {
    return JSON.stringify(
      this.frames.slice(-10).map((f) => ({ type: f.type, seq: f.seq, event: f.event?.type, errcode: f.errcode })),
    );
  }
}

/** A room message as Synapse pushes it in an appservice transaction, with a fresh event id. */
export const pushedMessage = (roomId: string, body: string) => ({
  type: 'm.room.message',
  event_id: `$${randomBytes(8).toString('hex')}`,
  room_id: roomId,
  sender: '@someone:localhost',
  origin_server_ts: Date.now(),
  content: { msgtype: 'm.text', body },
});

/**
 * Until an API that just started listens, Synapse cannot push and backs off; it then catches up in
 * order. A notice sent now reaching the event log means every earlier push has arrived too.
 */
export async function untilPushesArrive(api: TestApi, config: Config, roomId: string): Promise<void> {
  const probe = await matrixRequest<{ event_id: string }>(config.matrix.homeserverUrl, {
    method: 'PUT',
    path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/probe-${randomUUID()}`,
    token: config.matrix.asToken,
    body: { msgtype: 'm.notice', body: 'probe' },
  });
  await eventually(
    async () => (await api.db.query('SELECT 1 FROM relay_events WHERE event_id = $1', [probe.event_id])).rowCount,
    180_000,
    'Synapse to catch up with its appservice pushes',
  );
}
