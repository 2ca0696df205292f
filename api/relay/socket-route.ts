import { upgradeWebSocket } from '@hono/node-server';
import { Hono } from 'hono';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { Config } from '../../lib/config.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError, respondError, type ErrorCode } from '../errors.js';
import { operation } from '../operation.js';
import { CloseCode, errorFrame, PROTOCOL } from './protocol.js';
import type { Session } from './session.js';
import { createUserVerifier, socketToken, type UserPrincipal } from './user-auth.js';

/**
 * The `ws` server behind `GET /v1/realtime` (passed to `serve`): frames above the size limit close
 * the socket (1009) before they are read into memory, and of the subprotocols a browser offers only
 * ours is ever echoed — never the `bearer.<jwt>` entry.
 */
export function createWebSocketServer(config: Pick<Config, 'relay'>): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
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
    '`om-relay.v1` protocol (api/relay/protocol.ts; README, "Realtime relay"): the server pushes the events of',
    'the rooms the user is in now, resumable from `since`; the client sends messages, typing and receipts.',
    'The user JWT goes in `Authorization`, a `bearer.<jwt>` subprotocol entry, or `?access_token=`;',
    'authentication problems are told on the socket (an `error` frame, then close 4401).',
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
}

/**
 * `GET /v1/realtime[?since=N]`: the user's socket. Authentication problems are told on the socket
 * (an `error` frame, then close 4401) because a browser cannot read a refused handshake.
 */
export function realtimeRoutes(deps: Pick<AppDeps, 'config' | 'relay'>) {
  const verify = createUserVerifier(deps.config);
  return new Hono<ApiEnv>().get(
    realtime.path,
    upgradeWebSocket(async (c) => {
      let refusal: Refusal | null = null;
      let user: UserPrincipal | null = null;
      let since: number | null = null;
      const token = socketToken(
        (n) => c.req.header(n),
        (n) => c.req.query(n),
      );
      const sinceRaw = c.req.query('since');
      if (!deps.relay) {
        refusal = {
          code: CloseCode.Internal,
          errcode: 'OM_UNAVAILABLE',
          error: 'this process does not serve the realtime relay',
        };
      } else if (!token) {
        refusal = {
          code: CloseCode.Unauthorized,
          errcode: 'M_MISSING_TOKEN',
          error:
            'missing user JWT: send "Authorization: Bearer <jwt>", a "bearer.<jwt>" subprotocol, or ?access_token=<jwt>',
        };
      } else {
        try {
          user = await verify(token);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          refusal = { code: CloseCode.Unauthorized, errcode: err.errcode, error: err.message };
        }
      }
      if (!refusal && sinceRaw !== undefined) {
        if (/^\d{1,15}$/.test(sinceRaw)) since = Number(sinceRaw);
        else
          refusal = {
            code: CloseCode.BadRequest,
            errcode: 'M_INVALID_PARAM',
            error: 'since must be a sequence number (a whole number, 0 or more)',
          };
      }
      let session: Session | undefined;
      return {
        onOpen(_event, ws) {
          if (refusal || !user || !deps.relay) {
            const r = refusal ?? { code: CloseCode.Internal, errcode: 'M_UNKNOWN', error: 'internal error' };
            ws.send(errorFrame(r.errcode, r.error));
            ws.close(r.code, r.errcode);
            return;
          }
          session = deps.relay.open(ws.raw as WebSocket, user, since);
        },
        onMessage(event) {
          session?.receive(event.data);
        },
        onClose() {
          session?.end();
        },
        onError() {
          session?.end();
        },
      };
    }),
    (c) =>
      respondError(
        c,
        'OM_UPGRADE_REQUIRED',
        'GET /v1/realtime is a WebSocket: connect with "Upgrade: websocket" (README, "Realtime relay")',
      ),
  );
}
