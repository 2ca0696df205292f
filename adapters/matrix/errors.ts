import { ApplicationFailure } from '@temporalio/common';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../../vocabulary/failures.js';

/** An error answer from the homeserver, in the shape of the Matrix spec's standard error response. */
export class MatrixHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string | undefined,
    readonly error: string | undefined,
    readonly retryAfterMs: number | undefined,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path} → ${status} ${errcode ?? ''} ${error ?? ''}`.trim());
    this.name = 'MatrixHttpError';
  }
}

/** The homeserver could not be reached (connection refused, reset, timed out). */
export class MatrixUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MatrixUnreachableError';
  }
}

export interface MatrixErrorFacts {
  status: number;
  errcode?: string | undefined;
  retryAfterMs?: number | undefined;
}

export interface Classification {
  type: FailureType;
  nonRetryable: boolean;
  /** Only for rate limits: the server's own back-off. */
  nextRetryDelayMs?: number;
}

/** Matrix errcodes with a meaning of their own; everything else is classified by HTTP status. */
const BY_ERRCODE: Readonly<Record<string, FailureType>> = {
  M_LIMIT_EXCEEDED: FailureType.RateLimited,
  M_UNKNOWN_TOKEN: FailureType.UnknownToken,
  M_MISSING_TOKEN: FailureType.Unauthorized,
  M_FORBIDDEN: FailureType.Forbidden,
  M_NOT_FOUND: FailureType.NotFound,
  M_ROOM_IN_USE: FailureType.RoomInUse,
  M_USER_IN_USE: FailureType.UserInUse,
};

/** Default back-off when a 429 carries no retry hint. */
const DEFAULT_RATE_LIMIT_DELAY_MS = 1_000;

/** The one mapping from a homeserver answer to a failure type and retry decision. */
export function classifyMatrixError(facts: MatrixErrorFacts): Classification {
  let type: FailureType | undefined = facts.errcode ? BY_ERRCODE[facts.errcode] : undefined;
  if (!type) {
    if (facts.status === 429) type = FailureType.RateLimited;
    else if (facts.status === 401) type = FailureType.Unauthorized;
    else if (facts.status === 403) type = FailureType.Forbidden;
    else if (facts.status === 404) type = FailureType.NotFound;
    else if (facts.status >= 500) type = FailureType.ServerError;
    else if (facts.status === 408) type = FailureType.Unavailable;
    else type = FailureType.BadRequest;
  }
  const result: Classification = { type, nonRetryable: NON_RETRYABLE_FAILURE_TYPES.includes(type) };
  if (type === FailureType.RateLimited) {
    const hint = facts.retryAfterMs;
    result.nextRetryDelayMs = hint !== undefined && Number.isFinite(hint) && hint >= 0 ? hint : DEFAULT_RATE_LIMIT_DELAY_MS;
  }
  return result;
}

interface SdkLikeError {
  errcode?: unknown;
  httpStatus?: unknown;
  data?: { retry_after_ms?: unknown };
  name?: unknown;
}

/** Extracts status/errcode from our own errors and from matrix-js-sdk's MatrixError, by shape. */
function factsOf(err: unknown): MatrixErrorFacts | null {
  if (err instanceof MatrixHttpError) return { status: err.status, errcode: err.errcode, retryAfterMs: err.retryAfterMs };
  const e = err as SdkLikeError | null;
  if (e && typeof e === 'object' && typeof e.httpStatus === 'number') {
    const retry = e.data?.retry_after_ms;
    return {
      status: e.httpStatus,
      errcode: typeof e.errcode === 'string' ? e.errcode : undefined,
      retryAfterMs: typeof retry === 'number' ? retry : undefined,
    };
  }
  return null;
}

/**
 * Turns anything a Matrix call threw into an ApplicationFailure with a stable type. Errors that
 * are not homeserver answers (network failures) become retryable `MatrixUnavailable`.
 */
export function toActivityFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const facts = factsOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (!facts) {
    return ApplicationFailure.create({ type: FailureType.Unavailable, message, nonRetryable: false });
  }
  const c = classifyMatrixError(facts);
  return ApplicationFailure.create({
    type: c.type,
    message,
    nonRetryable: c.nonRetryable,
    nextRetryDelay: c.nextRetryDelayMs,
    details: [{ status: facts.status, errcode: facts.errcode ?? null }],
  });
}

/** Runs a Matrix call and rethrows any failure translated; use around every homeserver call. */
export async function matrixCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err);
  }
}
