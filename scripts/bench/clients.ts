/**
 * The two ways the benchmarks reach the homeserver: our HTTP API (a real API process, over
 * loopback HTTP, the way the platform backend calls it) and plain Matrix calls made directly.
 */
import { SignJWT } from 'jose';
import { matrixRequest, enc } from '../../adapters/matrix/http.js';
import type { Config } from '../../lib/config.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ApiClient {
  baseUrl: string;
  /** Sends a request with the service JWT; returns status and parsed JSON body. */
  call: (method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;
  /**
   * Sends a change and waits for its operation to complete: a 200 is done; a 202 is polled at
   * `/v1/operations/{id}` until completed. Anything else, or a failed operation, throws.
   */
  change: (method: 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<Record<string, unknown>>;
}

export async function serviceJwt(config: Config): Promise<string> {
  return new SignJWT({ tenants: ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(config.serviceJwt.issuer)
    .setAudience(config.serviceJwt.audience)
    .setSubject('bench')
    .setIssuedAt()
    .setExpirationTime('6h')
    .sign(config.serviceJwt.secret!);
}

export function apiClient(baseUrl: string, token: string): ApiClient {
  const call: ApiClient['call'] = async (method, path, body) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(300_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  return {
    baseUrl,
    call,
    change: async (method, path, body) => {
      const r = await call(method, path, body);
      if (r.status === 200) return r.body;
      if (r.status !== 202) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
      const id = String(r.body.workflowId);
      const deadline = Date.now() + 600_000;
      while (Date.now() < deadline) {
        await sleep(100);
        const op = await call('GET', `/v1/operations/${encodeURIComponent(id)}`);
        if (op.body.status === 'completed') return { ...r.body, ...op.body };
        if (op.body.status === 'failed') throw new Error(`${method} ${path}: operation ${id} failed: ${JSON.stringify(op.body)}`);
      }
      throw new Error(`${method} ${path}: operation ${id} not completed after 600 s`);
    },
  };
}

/** The homeserver, called directly: the baseline. Bot calls use the appservice token. */
export function directMatrix(config: Config) {
  const hs = config.matrix.homeserverUrl;
  const asToken = config.matrix.asToken;
  return {
    createRoom: async (aliasLocalpart: string, name: string): Promise<string> =>
      (
        await matrixRequest<{ room_id: string }>(hs, {
          method: 'POST',
          path: '/_matrix/client/v3/createRoom',
          token: asToken,
          // The same creation content the service's bot sends (adapters/matrix/client.ts).
          body: {
            room_alias_name: aliasLocalpart,
            name,
            preset: 'private_chat',
            visibility: 'private',
            initial_state: [
              { type: 'm.room.guest_access', state_key: '', content: { guest_access: 'forbidden' } },
              { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } },
            ],
          },
          timeoutMs: 120_000,
        })
      ).room_id,
    invite: async (roomId: string, userId: string): Promise<void> => {
      await matrixRequest(hs, { method: 'POST', path: `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, token: asToken, body: { user_id: userId }, timeoutMs: 120_000 });
    },
    join: async (roomId: string, userToken: string): Promise<void> => {
      await matrixRequest(hs, { method: 'POST', path: `/_matrix/client/v3/join/${enc(roomId)}`, token: userToken, body: {}, timeoutMs: 120_000 });
    },
    powerLevels: (roomId: string): Promise<{ users?: Record<string, number>; users_default?: number } & Record<string, unknown>> =>
      matrixRequest(hs, { method: 'GET', path: `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.power_levels/`, token: asToken, timeoutMs: 120_000 }),
    setPowerLevels: async (roomId: string, content: Record<string, unknown>): Promise<void> => {
      await matrixRequest(hs, { method: 'PUT', path: `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.power_levels/`, token: asToken, body: content, timeoutMs: 120_000 });
    },
    /** How many `m.room.power_levels` events the room's timeline holds (the creation's included), read back as the bot. */
    powerLevelsEvents: async (roomId: string): Promise<number> => {
      const filter = enc(JSON.stringify({ types: ['m.room.power_levels'], lazy_load_members: true }));
      let count = 0;
      let from = '';
      for (;;) {
        const page = await matrixRequest<{ chunk: unknown[]; end?: string }>(hs, {
          method: 'GET',
          path: `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=1000&filter=${filter}${from ? `&from=${enc(from)}` : ''}`,
          token: asToken,
          timeoutMs: 120_000,
        });
        count += page.chunk.length;
        if (!page.end || page.chunk.length === 0) return count;
        from = page.end;
      }
    },
    joined: async (roomId: string): Promise<string[]> =>
      Object.keys(
        (await matrixRequest<{ joined: Record<string, unknown> }>(hs, { method: 'GET', path: `/_matrix/client/v3/rooms/${enc(roomId)}/joined_members`, token: asToken, timeoutMs: 120_000 })).joined,
      ),
  };
}
export type DirectMatrix = ReturnType<typeof directMatrix>;
