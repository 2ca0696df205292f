/** Command line of the operator CLI: parsing, validation and the exit codes it promises. */
import { parseArgs } from 'node:util';
import { canonicalTenant, isRoomKind, roomSlugProblem, slugProblem, tenantProblem } from '../../vocabulary/ids.js';
import type { RoomRef } from '../../vocabulary/contract.js';

/** Exit codes, documented in the usage text and docs/operations.md. */
export const EXIT = {
  ok: 0,
  /** The operation failed (a service unreachable, a reconcile refused). */
  failed: 1,
  /** Bad arguments or configuration. */
  usage: 2,
  /** No such room or user in PostgreSQL. */
  notFound: 3,
  /** Inspection found drift (desired and actual state differ). */
  drift: 4,
} as const;

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const USAGE = `matrix-orchestrator operator CLI (reads the same environment as the worker)

Usage:
  npm run cli -- room inspect <kind>/<slug> --tenant <tenant> [--json]
      desired members and roles (PostgreSQL) beside the room's actual membership and
      power levels on the homeserver (read as the service bot); drift is marked
  npm run cli -- room reconcile <kind>/<slug> --tenant <tenant> [--json] [--timeout <seconds>]
      sends a "reconcile" change to the room's workflow and prints what it fixed
  npm run cli -- user inspect <slug> --tenant <tenant> [--json]
      the stored user (token present and its generation, never the token), what the
      Synapse Admin API says, and whether the stored token still works
  npm run cli -- drift --tenant <tenant> [<kind>/<slug>] [--api <url>] [--json]
      the drift report through the API: per room, what differs between the desired state and
      the homeserver now, and what the last reconciliation did about it (reads only)
  npm run cli -- import <file.json|file.csv> --tenant <tenant> [--api <url>] [--concurrency <n>] [--json]
      imports entities and their complete member lists through the API (default
      http://127.0.0.1:<API_PORT>, a service JWT minted from SERVICE_JWT_SECRET): users first,
      then <n> entities at once (default 4); a progress line on stderr, a summary on stdout

  <kind> is event, group or dm (a DM's slug is its two user slugs, sorted, joined by "~").

Exit codes: 0 ok (in sync; import: everything applied), 1 failed (import: something failed,
the rest applied), 2 bad arguments, configuration or import file, 3 not found,
4 drift found (inspect, drift; reconcile when drift remains afterwards).`;

export type Command =
  | { name: 'help' }
  | { name: 'room inspect'; ref: RoomRef; json: boolean }
  | { name: 'room reconcile'; ref: RoomRef; json: boolean; timeoutMs: number }
  | { name: 'user inspect'; tenant: string; slug: string; json: boolean }
  | { name: 'drift'; tenant: string; ref: RoomRef | null; api: string | null; json: boolean }
  | { name: 'import'; file: string; tenant: string; api: string | null; concurrency: number; json: boolean };

/** Entities imported at once unless --concurrency says otherwise, and its bounds. */
export const IMPORT_CONCURRENCY = { default: 4, max: 32 } as const;

const usageError = (message: string): CliError =>
  new CliError(EXIT.usage, `${message}\nRun \`npm run cli -- --help\` for usage.`);

function tenantOf(value: string | undefined): string {
  if (value === undefined) throw usageError('--tenant <tenant> is required');
  const tenant = canonicalTenant(value);
  const problem = tenantProblem(tenant);
  if (problem) throw usageError(problem);
  return tenant;
}

function roomOf(target: string | undefined, tenant: string): RoomRef {
  if (!target) throw usageError('which room? Give it as <kind>/<slug>, e.g. event/summer-meetup');
  const sep = target.indexOf('/');
  if (sep < 0) throw usageError(`"${target}" is not <kind>/<slug> (e.g. event/summer-meetup)`);
  const kind = target.slice(0, sep);
  const slug = target.slice(sep + 1);
  if (!isRoomKind(kind)) throw usageError(`room kind must be event, group or dm, not ${JSON.stringify(kind)}`);
  const problem = roomSlugProblem(kind, slug);
  if (problem) throw usageError(problem);
  return { tenant, kind, slug };
}

function apiOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  const url = URL.canParse(value) ? new URL(value) : null;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw usageError(`--api must be an http(s) URL such as http://127.0.0.1:8080, not ${JSON.stringify(value)}`);
  return value;
}

function importOf(
  file: string | undefined,
  values: { tenant?: string; api?: string; concurrency?: string },
  json: boolean,
): Command {
  if (!file) throw usageError('which file? e.g. import members.csv --tenant acme');
  if (!/\.(json|csv)$/i.test(file)) throw usageError(`${file}: give a .json or a .csv file`);
  const tenant = tenantOf(values.tenant);
  const api = apiOf(values.api);
  const n = values.concurrency === undefined ? IMPORT_CONCURRENCY.default : Number(values.concurrency);
  if (!Number.isInteger(n) || n < 1 || n > IMPORT_CONCURRENCY.max)
    throw usageError(`--concurrency must be a whole number from 1 to ${IMPORT_CONCURRENCY.max}`);
  return { name: 'import', file, tenant, api, concurrency: n, json };
}

/** Parses `argv` (without node and the script) into a command, or throws CliError(2). */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        tenant: { type: 'string', short: 't' },
        json: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        api: { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0 || positionals[0] === 'help') return { name: 'help' };
  const [noun, verb, target, ...rest] = positionals;
  if (rest.length) throw usageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  const json = values.json ?? false;
  const command = `${noun} ${verb ?? ''}`.trim();
  if (values.timeout !== undefined && command !== 'room reconcile')
    throw usageError('--timeout only applies to room reconcile');
  if (noun === 'import') {
    if (target !== undefined) throw usageError(`unexpected argument ${JSON.stringify(target)}`);
    return importOf(verb, values, json);
  }
  if (noun === 'drift') {
    if (target !== undefined) throw usageError(`unexpected argument ${JSON.stringify(target)}`);
    if (values.concurrency !== undefined) throw usageError('--concurrency only applies to import');
    const tenant = tenantOf(values.tenant);
    return { name: 'drift', tenant, ref: verb === undefined ? null : roomOf(verb, tenant), api: apiOf(values.api), json };
  }
  if (values.api !== undefined || values.concurrency !== undefined)
    throw usageError('--api only applies to import and drift, --concurrency to import');
  switch (command) {
    case 'room inspect':
      return { name: command, ref: roomOf(target, tenantOf(values.tenant)), json };
    case 'room reconcile': {
      const seconds = values.timeout === undefined ? 120 : Number(values.timeout);
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600)
        throw usageError('--timeout must be a whole number of seconds from 1 to 3600');
      return { name: command, ref: roomOf(target, tenantOf(values.tenant)), json, timeoutMs: seconds * 1000 };
    }
    case 'user inspect': {
      if (!target) throw usageError('which user? Give their platform slug, e.g. user inspect alice --tenant acme');
      const tenant = tenantOf(values.tenant);
      const problem = slugProblem(target);
      if (problem) throw usageError(problem);
      return { name: command, tenant, slug: target, json };
    }
    default:
      throw usageError(`unknown command ${JSON.stringify(command)}; known: room inspect, room reconcile, user inspect, drift, import`);
  }
}
