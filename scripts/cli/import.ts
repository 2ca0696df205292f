/**
 * `npm run cli -- import <file> --tenant <t>`: reads and checks the whole file (nothing is sent
 * when it has a problem), then applies it through the API over HTTP with the typed client, as a
 * service holding a JWT minted from SERVICE_JWT_SECRET (as scripts/dev-token.ts does).
 */
import { readFile } from 'node:fs/promises';
import { SignJWT } from 'jose';
import { createClient } from '../../client/index.js';
import type { Config } from '../../lib/config.js';
import { CliError, EXIT } from './args.js';
import { parseImportCsv } from './import-csv.js';
import { parseImportJson } from './import-json.js';
import { ImportFileError, type ImportPlan } from './import-plan.js';
import { createProgress } from './import-progress.js';
import { runImport, type ImportSummary } from './import-run.js';

/** Lifetime of the minted token; a new one is minted well before it ends, so long imports keep going. */
const TOKEN_TTL_SECONDS = 600;

/** The API of this configuration, as seen from this machine: API_HOST (a wildcard bind read as loopback) and API_PORT. */
export function defaultApiUrl(config: Pick<Config, 'api'>): string {
  const host = ['0.0.0.0', '::', ''].includes(config.api.host) ? '127.0.0.1' : config.api.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.api.port}`;
}

/** A token function for the client: a service JWT for this tenant only, renewed at half its lifetime. */
export function serviceTokens(config: Pick<Config, 'serviceJwt'>, tenant: string): () => Promise<string> {
  const secret = config.serviceJwt.secret;
  if (!secret)
    throw new CliError(EXIT.usage, 'import needs SERVICE_JWT_SECRET to mint its service token (a JWKS deployment has none)');
  let current: { token: string; renewAt: number } | null = null;
  return async () => {
    if (current && Date.now() < current.renewAt) return current.token;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ tenants: [tenant] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(config.serviceJwt.issuer)
      .setAudience(config.serviceJwt.audience)
      .setSubject('cli-import')
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_TTL_SECONDS)
      .sign(secret);
    current = { token, renewAt: Date.now() + (TOKEN_TTL_SECONDS * 1000) / 2 };
    return token;
  };
}

/** The file's plan, or CliError(2) naming its problems. */
export async function readPlan(file: string, config: Pick<Config, 'matrix'>, tenant: string): Promise<ImportPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(EXIT.usage, `cannot read ${file}: ${(err as Error).message}`);
  }
  const scope = { prefix: config.matrix.userPrefix, serverName: config.matrix.serverName, tenant };
  try {
    return /\.csv$/i.test(file) ? parseImportCsv(file, text, scope) : parseImportJson(file, text, scope);
  } catch (err) {
    if (err instanceof ImportFileError) throw new CliError(EXIT.usage, err.message);
    throw err;
  }
}

export async function importFile(
  config: Config,
  cmd: { file: string; tenant: string; api: string | null; concurrency: number; json: boolean },
): Promise<ImportSummary> {
  const plan = await readPlan(cmd.file, config, cmd.tenant);
  const apiUrl = cmd.api ?? defaultApiUrl(config);
  const token = serviceTokens(config, cmd.tenant);
  // Above the API's own wait (API_WAIT_MS, at most 120 s), so a slow answer is a 202, not a timeout here.
  const om = createClient({ baseUrl: apiUrl, token, timeoutMs: 150_000 });
  const progress = createProgress(process.stderr, cmd.json ? 'off' : process.stderr.isTTY ? 'tty' : 'lines');
  try {
    return await runImport(om, { file: cmd.file, tenant: cmd.tenant, apiUrl, concurrency: cmd.concurrency }, plan, progress);
  } finally {
    progress.stop();
  }
}
