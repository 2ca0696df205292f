import { Client } from '@temporalio/client';
import { connectTemporal } from '../../adapters/temporal.js';
import { SignJWT } from 'jose';
import { createApp } from '../../api/app.js';
import { createDb, type Db } from '../../adapters/store/db.js';
import type { Config } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';

export interface TestApi {
  app: ReturnType<typeof createApp>;
  temporal: Client;
  /** The API's own pool (what /readyz checks). */
  db: Db;
  close: () => Promise<void>;
  /** app.request with a JSON body and the service JWT. */
  post: (path: string, body: unknown, token?: string) => Promise<Response>;
  get: (path: string, token?: string) => Promise<Response>;
  token: string;
}

export async function serviceToken(
  config: Config,
  claims: Record<string, unknown> = { tenants: ['*'] },
  opts: { expiresIn?: number; audience?: string; issuer?: string; secret?: Uint8Array } = {},
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(opts.issuer ?? config.serviceJwt.issuer)
    .setAudience(opts.audience ?? config.serviceJwt.audience)
    .setIssuedAt();
  if (opts.expiresIn !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + opts.expiresIn);
  else jwt.setExpirationTime('1h');
  return jwt.sign(opts.secret ?? config.serviceJwt.secret!);
}

/** The real API app (in-process, through app.request) talking to the real Temporal server. */
export async function createTestApi(config: Config): Promise<TestApi> {
  const { client: temporal, connection, close: closeTemporal } = await connectTemporal(config);
  const db = createDb(config.databaseUrl, 4);
  const app = createApp({
    config,
    temporal,
    temporalConnection: connection,
    db,
    log: createLogger('api-test', 'silent'),
  });
  const token = await serviceToken(config);
  return {
    app,
    temporal,
    db,
    token,
    close: async () => {
      await Promise.all([closeTemporal(), db.end()]);
    },
    post: async (path, body, t = token) =>
      app.request(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: async (path, t = token) => app.request(path, { headers: { authorization: `Bearer ${t}` } }),
  };
}
