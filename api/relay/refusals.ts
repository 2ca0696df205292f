/** How a socket is turned away before it has a session (limits, shutdown): told why on the socket. */
import type { WebSocket } from 'ws';
import type { LimitRefusal } from './limits.js';
import { CloseCode, errorFrame } from './protocol.js';

/** What a client connecting while this instance shuts down is told; with a load balancer, it reaches another. */
export const SHUTTING_DOWN = 'server shutting down: reconnect with since=<last seq>';
export const SHUTDOWN_RETRY_MS = 1_000;
/** How long a refused socket may take to answer our close before it is cut (ws would wait 30 s). */
const REFUSED_CLOSE_MS = 1_000;

/**
 * Cuts a refused socket whose peer does not answer the close: a client refused again and again
 * would otherwise hold a socket for ws's 30 s close timeout each time.
 */
export function dropUnanswered(ws: WebSocket): void {
  setTimeout(() => ws.terminate(), REFUSED_CLOSE_MS).unref();
}

/** A socket refused before it had a session: told why on the socket, as a browser cannot read a refused handshake. */
export function refuse(ws: WebSocket, code: number, refusal: Pick<LimitRefusal, 'error' | 'retryAfterMs'>): void {
  ws.on('error', () => undefined);
  ws.send(
    errorFrame(code === CloseCode.LimitExceeded ? 'M_LIMIT_EXCEEDED' : 'OM_UNAVAILABLE', refusal.error, {
      retryAfterMs: refusal.retryAfterMs,
    }),
  );
  ws.close(code, refusal.error);
  dropUnanswered(ws);
}
