/**
 * The operator CLI, for what the Temporal CLI cannot show: desired state beside the homeserver's.
 *   npm run cli -- room inspect event/summer-meetup --tenant acme [--json]
 *   npm run cli -- room reconcile event/summer-meetup --tenant acme [--json] [--timeout 120]
 *   npm run cli -- user inspect alice --tenant acme [--json]
 *   npm run cli -- drift --tenant acme [event/summer-meetup] [--api <url>] [--json]
 *   npm run cli -- import members.csv --tenant acme [--api <url>] [--concurrency 4] [--json]
 * Configuration comes from the environment through lib/config.ts, as for the worker (a sourced
 * .stack/<name>/stack.env locally). Exit codes: see USAGE in cli/args.ts.
 */
import { createDb } from '../adapters/store/db.js';
import { ConfigError, loadConfig } from '../lib/config.js';
import { CliError, EXIT, parseCommand, USAGE } from './cli/args.js';
import { importFile } from './cli/import.js';
import { anyDrift, driftReport, renderDrift } from './cli/drift.js';
import { renderImport, renderReconcile, renderRoom, renderUser } from './cli/render.js';
import { inspectRoom, reconcileRoom } from './cli/room.js';
import { inspectUser } from './cli/user.js';

const print = (json: boolean, value: unknown, text: () => string): void => {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : text()}\n`);
};

async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  if (command.name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError)
      throw new CliError(EXIT.usage, `${err.message} (source a stack.env, or set it as for the worker)`);
    throw err;
  }
  if (command.name === 'import') {
    // Through the API over HTTP only: no database pool, no Temporal connection.
    const summary = await importFile(config, command);
    print(command.json, summary, () => renderImport(summary));
    return summary.failures.length ? EXIT.failed : EXIT.ok;
  }
  if (command.name === 'drift') {
    // Through the API over HTTP only, as the import (decision 0038).
    const rooms = await driftReport(config, command);
    print(command.json, { rooms }, () => renderDrift(rooms));
    return anyDrift(rooms) ? EXIT.drift : EXIT.ok;
  }
  const db = createDb(config.databaseUrl, 4);
  try {
    switch (command.name) {
      case 'room inspect': {
        const inspection = await inspectRoom(config, db, command.ref);
        print(command.json, inspection, () => renderRoom(inspection));
        return inspection.drift.length ? EXIT.drift : EXIT.ok;
      }
      case 'room reconcile': {
        const outcome = await reconcileRoom(config, db, command.ref, command.timeoutMs);
        const after = await inspectRoom(config, db, command.ref);
        print(command.json, { ...outcome, driftAfter: after.drift }, () => renderReconcile(outcome, after));
        return after.drift.length ? EXIT.drift : EXIT.ok;
      }
      case 'user inspect': {
        const inspection = await inspectUser(config, db, command.tenant, command.slug);
        print(command.json, inspection, () => renderUser(inspection));
        if (!inspection.stored)
          throw new CliError(EXIT.notFound, `no user "${command.slug}" for tenant ${command.tenant} in PostgreSQL`);
        return inspection.problems.length ? EXIT.drift : EXIT.ok;
      }
    }
  } finally {
    await db.end();
  }
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`cli: ${err.message}\n`);
    code = err.exitCode;
  } else if ((err as { code?: unknown }).code === '42P01') {
    // undefined_table: nothing has applied the migrations to this database yet.
    process.stderr.write(
      `cli: failed: the database has no schema yet (${(err as Error).message}); the worker applies migrations when it starts\n`,
    );
    code = EXIT.failed;
  } else {
    process.stderr.write(`cli: failed: ${(err as Error).message}\n`);
    code = EXIT.failed;
  }
}
// Exit now: a closed Temporal connection or pg pool must not keep an operator's shell waiting.
process.exit(code);
