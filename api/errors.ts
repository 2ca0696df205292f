import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isDatabaseUnavailable } from '../adapters/store/db-errors.js';

/**
 * Every error code the API answers with, and its HTTP status. Responses are Matrix-style
 * `{ errcode, error }`; the `satisfies` makes the compiler check each code has a status.
 */
export const ERROR_STATUS = {
  M_MISSING_TOKEN: 401,
  M_UNKNOWN_TOKEN: 401,
  M_FORBIDDEN: 403,
  M_NOT_FOUND: 404,
  M_UNRECOGNIZED: 404,
  M_NOT_JSON: 400,
  M_BAD_JSON: 400,
  M_INVALID_PARAM: 400,
  M_TOO_LARGE: 413,
  M_UNSUPPORTED_MEDIA_TYPE: 415,
  M_UNAUTHORIZED: 401,
  M_LIMIT_EXCEEDED: 429,
  OM_TXN_CONFLICT: 409,
  OM_UPGRADE_REQUIRED: 426,
  OM_ROOM_ARCHIVED: 409,
  OM_ROOM_ENCRYPTED: 409,
  OM_ROOM_MISSING: 410,
  OM_ROOM_RENAMED: 409,
  OM_SLUG_TAKEN: 409,
  OM_USER_DEACTIVATED: 409,
  OM_USER_BANNED: 409,
  OM_ROOM_ADOPTION_CONFLICT: 409,
  OM_ROOM_NOT_ADOPTABLE: 409,
  OM_USER_BINDING_CONFLICT: 409,
  OM_USER_NOT_MANAGED: 403,
  OM_USER_RENAMED: 409,
  OM_KNOCK_UNSUPPORTED: 409,
  OM_REQUEST_NOT_FOUND: 404,
  OM_REQUEST_DECIDED: 409,
  OM_USER_OFFBOARDED: 409,
  OM_OFFBOARD_NOT_CANCELLABLE: 409,
  OM_UPSTREAM_FAILED: 502,
  OM_UNAVAILABLE: 503,
  M_UNKNOWN: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Fields an error answer carries beside `errcode` and `error` (e.g. `newSlug` of `OM_ROOM_RENAMED` and `OM_USER_RENAMED`). */
export type ErrorDetails = Record<string, string | number>;

/** Thrown anywhere in a handler; rendered by the one error handler. */
export class ApiError extends Error {
  constructor(
    readonly errcode: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.errcode];
  }
}

export function errorBody(errcode: ErrorCode, error: string): { errcode: ErrorCode; error: string } {
  return { errcode, error };
}

export function respondError(c: Context, errcode: ErrorCode, message: string): Response {
  return c.json(errorBody(errcode, message), ERROR_STATUS[errcode]);
}

/** gRPC codes that mean Temporal could not be reached or is overloaded. */
const UNAVAILABLE_GRPC_CODES = new Set([4, 8, 14]);

/** What a caller is told: the code, what is wrong, and any details the code comes with. */
export interface Failure {
  errcode: ErrorCode;
  error: string;
  details?: ErrorDetails;
}

/**
 * What anything thrown means to a caller, for an HTTP answer and a socket's error frame alike: an
 * ApiError keeps its code and details; a database or Temporal that does not answer is 503 `OM_UNAVAILABLE`
 * (retry); anything else is `M_UNKNOWN` without internals. `log` hears every error that is not an
 * ApiError.
 */
export function failureOf(
  err: unknown,
  log: (obj: { err: unknown }, msg: string) => void,
): Failure {
  if (err instanceof ApiError) return { errcode: err.errcode, error: err.message, details: err.details };
  if (isDatabaseUnavailable(err)) {
    // 503, not 500: the caller (Synapse for a transaction) retries, and nothing was half-stored.
    log({ err }, 'database unavailable');
    return { errcode: 'OM_UNAVAILABLE', error: 'the database did not answer in time or is unreachable; retry later' };
  }
  const e = err as { name?: string; code?: unknown };
  if (
    e?.name === 'ServiceError' ||
    e?.name === 'ConnectionError' ||
    (typeof e?.code === 'number' && UNAVAILABLE_GRPC_CODES.has(e.code))
  ) {
    log({ err }, 'temporal unavailable');
    return { errcode: 'OM_UNAVAILABLE', error: 'the workflow service is unavailable; retry later' };
  }
  log({ err }, 'unhandled error');
  return { errcode: 'M_UNKNOWN', error: 'internal error' };
}

/** Maps anything thrown to a response; unknown errors become a 500 without internals. */
export function toErrorResponse(c: Context, err: unknown, log: (obj: object, msg: string) => void): Response {
  const { errcode, error, details } = failureOf(err, log);
  return c.json({ ...details, ...errorBody(errcode, error) }, ERROR_STATUS[errcode]);
}
