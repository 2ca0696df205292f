/**
 * A database restart must not crash the worker or the API. Found by the fault suite
 * (test/faults/postgres-restart): a client checked out of the pool for a transaction lost its
 * connection, its query failed, and then the client's 'error' event had no listener — an uncaught
 * exception that killed the worker process.
 */
import { expect, it } from '@jest/globals';
import { createDb } from '../../adapters/store/db.js';
import { sleep, testConfig } from '../helpers/env.js';

it('a checked-out client whose connection the server terminates fails its query, and the process survives', async () => {
  const config = testConfig();
  const db = createDb(config.databaseUrl, 2);
  const admin = createDb(config.databaseUrl, 1);
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const client = await db.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await client.query('BEGIN');
    const inFlight = client.query('SELECT pg_sleep(5)');
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect(inFlight).rejects.toThrow();
    await sleep(300); // the socket's end arrives after the failed query
    client.release();
    expect(uncaught).toEqual([]);
    // The pool drops the dead client and serves the next query on a fresh connection.
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
  } finally {
    process.off('uncaughtException', onUncaught);
    await Promise.all([db.end(), admin.end()]);
  }
});
