/** Bounds on every wait for PostgreSQL (`DATABASE_*`, decision 0024). */
import { ConfigError, integer, type Env } from './read.js';

/**
 * How long we wait for our own database. The server-side settings stop work PostgreSQL is doing;
 * the client-side ones (connect, query) also hold when the server does not answer at all (paused,
 * partitioned). Migrations are exempt from the statement, lock and query bounds (adapters/store/db.ts).
 */
export interface DatabaseConfig {
  /** Opening a connection, or waiting for a free one in the pool (`DATABASE_CONNECT_TIMEOUT_MS`, 5000). */
  connectTimeoutMs: number;
  /** PostgreSQL's `statement_timeout` (`DATABASE_STATEMENT_TIMEOUT_MS`, 10000). */
  statementTimeoutMs: number;
  /** PostgreSQL's `lock_timeout` (`DATABASE_LOCK_TIMEOUT_MS`, 5000). */
  lockTimeoutMs: number;
  /** PostgreSQL's `idle_in_transaction_session_timeout` (`DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`, 60000). */
  idleInTransactionTimeoutMs: number;
  /**
   * How long a query may go without an answer before the client gives up and drops the connection
   * (`DATABASE_QUERY_TIMEOUT_MS`, default the statement timeout + 2000: a slow statement is
   * cancelled by the server first, on a connection that stays usable).
   */
  queryTimeoutMs: number;
}

/** Slack between the server's statement timeout and the client's own bound on a query. */
const QUERY_TIMEOUT_SLACK_MS = 2_000;

/** The database bounds of an empty environment, for tools that build a pool without a Config. */
export function defaultDatabaseConfig(): Readonly<DatabaseConfig> {
  return Object.freeze(database({}));
}

export function database(env: Env): DatabaseConfig {
  const statementTimeoutMs = integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000);
  const queryTimeoutMs = integer(
    env,
    'DATABASE_QUERY_TIMEOUT_MS',
    statementTimeoutMs + QUERY_TIMEOUT_SLACK_MS,
    100,
    3_600_000 + QUERY_TIMEOUT_SLACK_MS,
  );
  if (queryTimeoutMs < statementTimeoutMs) {
    // The client would drop connections the server was about to answer on; say so instead.
    throw new ConfigError(
      'DATABASE_QUERY_TIMEOUT_MS',
      `must be at least DATABASE_STATEMENT_TIMEOUT_MS (${statementTimeoutMs}), got ${queryTimeoutMs}`,
    );
  }
  return {
    connectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5_000, 100, 600_000),
    statementTimeoutMs,
    lockTimeoutMs: integer(env, 'DATABASE_LOCK_TIMEOUT_MS', 5_000, 100, 3_600_000),
    idleInTransactionTimeoutMs: integer(env, 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, 1_000, 86_400_000),
    queryTimeoutMs,
  };
}
