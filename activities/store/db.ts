import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { defaultDatabaseConfig, type DatabaseConfig } from '../../lib/config.js';

export type Db = pg.Pool;

/**
 * The options that bound every wait on a connection (decision 0024): the server cancels a slow
 * statement or lock wait; the client gives up on a connection attempt or a query the server does
 * not answer at all (paused, partitioned), where the server-side settings can do nothing.
 */
export function connectionBounds(limits: DatabaseConfig): pg.ClientConfig {
  return {
    connectionTimeoutMillis: limits.connectTimeoutMs,
    query_timeout: limits.queryTimeoutMs,
    statement_timeout: limits.statementTimeoutMs,
    lock_timeout: limits.lockTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
    // A peer that vanished without a FIN is found by the kernel, not only by the next query.
    keepAlive: true,
  };
}

/**
 * Whether a client may serve another caller: nothing in flight and no transaction open. A query
 * that timed out on our side is still in flight (pg only stops waiting for it), so its client is not.
 */
function reusable(client: pg.PoolClient): boolean {
  // readyForQuery is pg's own flag (false from sending a query to its ReadyForQuery); not in its types.
  const ready = (client as unknown as { readyForQuery?: boolean }).readyForQuery !== false;
  return ready && client.getTransactionStatus() === 'I';
}

/** A pool whose every wait is bounded (`limits`); callers end it on shutdown. */
export function createDb(databaseUrl: string, max = 10, limits: DatabaseConfig = defaultDatabaseConfig()): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    idleTimeoutMillis: 30_000,
    ...connectionBounds(limits),
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  // Nor a checked-out one (db.connect(), e.g. a transaction): when the server ends the connection,
  // the query in flight fails, then the client emits 'error' with nobody listening. The failed query
  // is what the caller sees; release() then drops the dead client from the pool.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // Released without an error but mid-query or inside a transaction (a timed-out query, a ROLLBACK
  // that could not be sent): ended now, before the pool hands it on, so the next caller never
  // queues behind a hung query or runs inside someone else's transaction. The server rolls back.
  pool.on('release', (err: Error | undefined, client: pg.PoolClient) => {
    if (!err && !reusable(client)) void (client as unknown as pg.Client).end().catch(() => undefined);
  });
  return pool;
}

/**
 * Ends a failed transaction on a checked-out client. After an error the server reported, a
 * ROLLBACK keeps the connection; after anything else (our query timeout, a lost connection) the
 * server may not answer, so the connection is dropped at once — the server rolls back when it
 * notices — instead of queueing a ROLLBACK behind the hung query for another full timeout.
 */
export async function rollback(client: pg.PoolClient, err: unknown): Promise<void> {
  if (err instanceof pg.DatabaseError) {
    await client.query('ROLLBACK').catch(() => undefined);
    return;
  }
  // Not awaited: a paused server would hold the goodbye as long as it is paused.
  void (client as unknown as pg.Client).end().catch(() => undefined);
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));
/** Serializes concurrent starters (worker and API starting together) on one advisory lock. */
const MIGRATION_LOCK = 0x6d6f_6d69;
/**
 * Migrations are exempt from the statement and lock timeouts (DDL on a large table may run long,
 * and a starter waits for another's migrations on the lock); this client-side bound only ends a
 * start whose database stopped answering.
 */
const MIGRATION_QUERY_TIMEOUT_MS = 30 * 60_000;

/**
 * Applies `migrations/NNN_name.sql` in order, each once, each in its own transaction. Returns the
 * versions applied by this call.
 */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const client = await db.connect();
  const query = <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) => {
    // pg reads query_timeout per query; its types only know it on the client config.
    const q: pg.QueryConfig & { query_timeout: number } = { text, values, query_timeout: MIGRATION_QUERY_TIMEOUT_MS };
    return client.query<R>(q);
  };
  const applied: string[] = [];
  try {
    // Session settings, reset before the client goes back to the pool.
    await query('SET statement_timeout = 0; SET lock_timeout = 0');
    await query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const versions = await query<{ version: string }>('SELECT version FROM schema_migrations');
    const done = new Set(versions.rows.map((r) => r.version));
    for (const file of files) {
      const version = file.replace(/\.sql$/, '');
      if (done.has(version)) continue;
      const sql = await readFile(dir + file, 'utf8');
      await query('BEGIN');
      try {
        await query(sql);
        await query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        await query('COMMIT');
      } catch (err) {
        await rollback(client, err);
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(version);
    }
  } finally {
    await query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await query('RESET statement_timeout; RESET lock_timeout').catch(() => undefined);
    client.release();
  }
  return applied;
}
