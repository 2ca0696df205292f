import { Hono } from 'hono';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Config } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import type { ApiEnv } from '../context.js';
import { ApiError, respondError, type ErrorCode, type ErrorDetails } from '../errors.js';
import { operation } from '../spec/operation.js';
import { createClientAddress } from '../relay/client-address.js';
import { dropUnanswered, SHUTTING_DOWN, type RelayHub } from '../relay/hub.js';
import { CloseCode, errorFrame, PROTOCOL } from '../relay/protocol.js';
import { createUserVerifier, socketToken, type UserPrincipal } from '../relay/user-auth.js';
import { quoteBounded } from '../../vocabulary/describe.js';

/**
 * The `ws` server behind `GET /v1/realtime` (passed to `serve`): frames above the size limit close
 * the socket (1009) before they are read into memory, and of the subprotocols a browser offers only
 * ours is ever echoed — never the `bearer.<jwt>` entry.
 */
export function createWebSocketServer(config: Pick<Config, 'relay'>): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    // The hub tracks its sockets; a second set of them here would only cost memory.
    clientTracking: false,
    maxPayload: config.relay.maxMessageBytes,
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });
}

const realtime = operation({
  method: 'get',
  path: '/v1/realtime',
  operationId: 'realtime',
  summary: "The user's WebSocket (subprotocol `om-relay.v1`)",
  description: [
    'A WebSocket upgrade (`Upgrade: websocket`, subprotocol `om-relay.v1`). Frames are JSON objects of the',
    '`om-relay.v1` protocol (api/relay/protocol.ts; docs/api.md, "Realtime relay"): the server pushes the events of',
    'the rooms the user is in now, resumable from `since`; the client sends messages, typing and receipts.',
    'The user JWT goes in `Authorization`, a `bearer.<jwt>` subprotocol entry, or `?access_token=`;',
    'authentication problems are told on the socket (an `error` frame, then close 4401).',
    'Limits are told the same way: too many sockets for the user or the client address, or too many handshakes',
    '(an `error` frame `M_LIMIT_EXCEEDED` with `retryAfterMs`, then close 4429); while the server shuts down, an',
    '`error` frame `OM_UNAVAILABLE`, then close 1001 (reconnect, to another instance, with `since`).',
  ].join(' '),
  tags: ['realtime'],
  security: 'user',
  query: [
    {
      name: 'since',
      description: 'Resume after this sequence number (the `seq` of the last event received).',
      schema: { type: 'integer', minimum: 0, maximum: 999_999_999_999_999 },
    },
  ],
  responses: { 101: { description: 'Switching to the WebSocket.' } },
  errors: ['OM_UPGRADE_REQUIRED'],
});
export const realtimeOperations = [realtime];

interface Refusal {
  code: number;
  errcode: ErrorCode;
  error: string;
  retryAfterMs?: number;
  /** More fields of the error frame (the `newSlug` of OM_USER_RENAMED). */
  extra?: ErrorDetails;
}

const WS_PATH = realtime.path;

const ignore = (): void => undefined;

/** An HTTP answer on a socket that asked to upgrade somewhere we have no WebSocket. */
function refuseUpgrade(socket: Duplex, status: number, errcode: ErrorCode, error: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ errcode, error });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * `GET /v1/realtime[?since=N]` with `Upgrade: websocket`: the user's socket, handled on the HTTP
 * server's `upgrade` event rather than through the Hono app, so nothing of the handshake request
 * stays alive with the socket (decision 0017). Authentication problems are told on the socket (an
 * `error` frame, then close 4401) because a browser cannot read a refused handshake; so are limits
 * (4429, decision 0023) and a shutdown under way (1001). Handshake rates are checked before the
 * token is read, sockets per user and per address once it is. A plain GET of the path (no upgrade)
 * is answered by the app: 426 (`realtimeRoutes`).
 */
export function attachRealtime(
  server: Server,
  deps: { config: Pick<Config, 'relay' | 'userJwt' | 'matrix'>; relay: RelayHub | undefined; logger: Logger },
): WebSocketServer {
  const wss = createWebSocketServer(deps.config);
  const verify = createUserVerifier(deps.config, deps.relay?.users);
  const addressOf = createClientAddress(deps.config.relay.trustedProxies);

  /** Refusals before the token is even read: shutting down, or too many handshakes. */
  async function admit(address: string): Promise<Refusal | null> {
    if (!deps.relay) return null;
    if (!deps.relay.accepting)
      return { code: CloseCode.GoingAway, errcode: 'OM_UNAVAILABLE', error: SHUTTING_DOWN, retryAfterMs: 1_000 };
    const refusal = await deps.relay.limits.handshake(address);
    if (!refusal) return null;
    return {
      code: CloseCode.LimitExceeded,
      errcode: 'M_LIMIT_EXCEEDED',
      error: refusal.error,
      retryAfterMs: refusal.retryAfterMs,
    };
  }

  async function authenticate(
    req: IncomingMessage,
  ): Promise<{ refusal: Refusal } | { user: UserPrincipal; since: number | null }> {
    if (!deps.relay)
      return {
        refusal: {
          code: CloseCode.Internal,
          errcode: 'OM_UNAVAILABLE',
          error: 'this process does not serve the realtime relay',
        },
      };
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const token = socketToken(
      (n) => {
        const v = req.headers[n];
        return Array.isArray(v) ? v[0] : v;
      },
      (n) => query.get(n) ?? undefined,
    );
    if (!token)
      return {
        refusal: {
          code: CloseCode.Unauthorized,
          errcode: 'M_MISSING_TOKEN',
          error:
            'missing user JWT: send "Authorization: Bearer <jwt>", a "bearer.<jwt>" subprotocol, or ?access_token=<jwt>',
        },
      };
    let user: UserPrincipal;
    try {
      user = await verify(token);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return {
        refusal: { code: CloseCode.Unauthorized, errcode: err.errcode, error: err.message, extra: err.details },
      };
    }
    const sinceRaw = query.get('since');
    if (sinceRaw === null) return { user, since: null };
    if (/^\d{1,15}$/.test(sinceRaw)) return { user, since: Number(sinceRaw) };
    return {
      refusal: {
        code: CloseCode.BadRequest,
        errcode: 'M_INVALID_PARAM',
        error: 'since must be a sequence number (a whole number, 0 or more)',
      },
    };
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // Until ws owns the socket, a reset peer must not crash the process.
    socket.on('error', ignore);
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== WS_PATH) {
      refuseUpgrade(
        socket,
        404,
        'M_UNRECOGNIZED',
        `no WebSocket at ${quoteBounded(path)}: the realtime socket is GET ${WS_PATH}`,
      );
      return;
    }
    if (req.method !== 'GET') {
      refuseUpgrade(socket, 405, 'M_UNRECOGNIZED', `${WS_PATH} takes GET, not ${req.method}`);
      return;
    }
    const forwarded = req.headers['x-forwarded-for'];
    const address = addressOf(req.socket.remoteAddress, Array.isArray(forwarded) ? forwarded.join(',') : forwarded);
    let outcome: Awaited<ReturnType<typeof authenticate>>;
    try {
      const early = await admit(address);
      outcome = early ? { refusal: early } : await authenticate(req);
    } catch (err) {
      deps.logger.error({ err }, 'relay: socket authentication failed');
      refuseUpgrade(socket, 500, 'M_UNKNOWN', 'internal error');
      return;
    }
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', ignore);
      if ('refusal' in outcome || !deps.relay) {
        const r =
          'refusal' in outcome
            ? outcome.refusal
            : { code: CloseCode.Internal, errcode: 'M_UNKNOWN' as const, error: 'internal error' };
        // Until the close handshake ends, an error on this socket is nothing to act on.
        ws.on('error', ignore);
        const extra = 'extra' in r ? r.extra : undefined;
        ws.send(
          errorFrame(r.errcode, r.error, {
            ...extra,
            ...(r.retryAfterMs === undefined ? {} : { retryAfterMs: r.retryAfterMs }),
          }),
        );
        // A limit's reason says which; an authentication problem's is its code.
        ws.close(r.code, r.retryAfterMs === undefined ? r.errcode : r.error);
        dropUnanswered(ws);
        return;
      }
      deps.relay.open(ws, outcome.user, outcome.since, address);
    });
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(req, socket, head));
  server.on('close', () => wss.close());
  return wss;
}

/** `GET /v1/realtime` without an upgrade: 426, naming what to do (the upgrade itself never reaches the app). */
export function realtimeRoutes() {
  return new Hono<ApiEnv>().get(realtime.path, (c) =>
    respondError(
      c,
      'OM_UPGRADE_REQUIRED',
      'GET /v1/realtime is a WebSocket: connect with "Upgrade: websocket" (docs/api.md, "Realtime relay")',
    ),
  );
}
