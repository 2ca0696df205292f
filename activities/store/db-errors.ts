/**
 * What a database error means for the caller: a bound ran out or the server cannot be reached
 * (retry later: the API answers 503 OM_UNAVAILABLE), or the server refused the query.
 */
import pg from 'pg';

/**
 * SQLSTATEs that mean "the database cannot serve this now" rather than "this request is wrong":
 * our own statement, lock and idle-in-transaction timeouts, a shutting-down or starting server,
 * no connection slots left. Class 08 (connection exceptions) is matched as a whole.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57014', '55P03', '25P03', '57P01', '57P02', '57P03', '53300']);
/**
 * node-postgres raises its own timeouts and lost connections as plain Errors with no code; these
 * are its exact messages (pg 8 / pg-pool 3, client.js and index.js), compared whole, not searched.
 */
const PG_CLIENT_UNAVAILABLE = new Set([
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
  'timeout expired',
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
]);
/** The subset of those that are a bound running out (ours or the server's), not a refusal. */
const PG_TIMEOUTS = new Set([
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
  'timeout expired',
]);

/** Whether an error is one of the database bounds running out (decision 0024). */
export function isDatabaseTimeout(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return err.code === '57014' || err.code === '55P03';
  return err instanceof Error && PG_TIMEOUTS.has(err.message);
}

/** Socket errors pg passes through when the server cannot be reached. */
const UNREACHABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Whether an error means PostgreSQL did not answer in time or could not be reached (retry later),
 * as opposed to a query the server refused. The API answers these with 503 OM_UNAVAILABLE.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) {
    return UNAVAILABLE_SQLSTATES.has(err.code ?? '') || (err.code ?? '').startsWith('08');
  }
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE_SOCKET_CODES.has(code) && 'syscall' in err) return true;
  return PG_CLIENT_UNAVAILABLE.has(err.message) || (err.cause !== undefined && isDatabaseUnavailable(err.cause));
}
