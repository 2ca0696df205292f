/**
 * What the API knows of the request (or socket frame) running now, and the last line behind every
 * handler (issue #15): an error that escapes anyway is logged, bounded, with the request id it
 * escaped from, and counted (`api_escaped_errors_total` on /metrics). Tests assert the count stays
 * 0: the guard is a record of a bug, never what keeps the process serving.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../lib/log.js';
import { quoteBounded } from '../vocabulary/describe.js';
import { errorFrame } from './relay/protocol.js';

export interface RequestContext {
  readonly requestId: string;
}

/** Set by the request-id middleware (api/app.ts) and around each socket frame (api/relay/hub.ts). */
export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The request id of the request or frame this code runs for, if any. */
export const currentRequestId = (): string | undefined => requestContext.getStore()?.requestId;

let escapedErrors = 0;

/** Errors that escaped every handler of this process so far. */
export const escapedErrorCount = (): number => escapedErrors;

const MESSAGE_MAX = 500;
const STACK_MAX = 4_000;

/**
 * An error as a log line may carry it: name, message and stack cut to a bounded length (a message
 * may quote a client's value), and nothing else of it (its own fields are not walked).
 */
export function boundedError(err: unknown): { type: string; message: string; stack?: string } {
  if (err instanceof Error) {
    const message = typeof err.message === 'string' ? err.message : '';
    const out: { type: string; message: string; stack?: string } = {
      type: String(err.name).slice(0, 100),
      message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX)}…` : message,
    };
    if (typeof err.stack === 'string')
      out.stack = err.stack.length > STACK_MAX ? `${err.stack.slice(0, STACK_MAX)}…` : err.stack;
    return out;
  }
  return {
    type: typeof err,
    message: typeof err === 'string' ? quoteBounded(err, MESSAGE_MAX) : `a thrown ${typeof err}`,
  };
}

/** Logs and counts an error that escaped every handler (the process guard in api/main.ts). */
export function recordEscapedError(
  logger: Logger,
  kind: 'uncaughtException' | 'unhandledRejection',
  err: unknown,
): void {
  escapedErrors += 1;
  try {
    logger.error(
      { requestId: currentRequestId(), kind, error: boundedError(err) },
      'api: an error escaped every handler',
    );
  } catch {
    // Logging must not become a second escaped error.
  }
}

/**
 * Runs the handling of one socket frame under a request id of its own. Whatever it throws is logged
 * with that id and answered on the socket as an `M_UNKNOWN` error frame (no internals); it never
 * reaches the process.
 */
export function runFrame(logger: Logger, reply: (errorFrameText: string) => void, handle: () => void): void {
  const requestId = randomUUID();
  try {
    requestContext.run({ requestId }, handle);
  } catch (err) {
    try {
      logger.error({ requestId, error: boundedError(err) }, 'relay: handling a frame threw');
      reply(errorFrame('M_UNKNOWN', `internal error (request ${requestId})`));
    } catch {
      // The socket may be gone already; there is no one left to tell.
    }
  }
}
