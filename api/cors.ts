/**
 * CORS for the browser-facing routes, one way for all of them (`/v1` with API_CORS_ORIGINS, the
 * codec with CODEC_CORS_ORIGINS): hono's middleware, admitting exactly the configured origins
 * (lib/config/read.ts `origins` never lets `*` in). It runs before authentication, so preflights
 * need no token and error answers (401, 4xx) carry the headers a browser needs to read them.
 */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

export interface CorsOptions {
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  /** Answer headers a browser script may read (beyond the CORS-safelisted ones). */
  exposeHeaders?: readonly string[];
  /** Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth); only ever with named origins. */
  credentials?: boolean;
  /** How long a browser may cache a preflight's answer, in seconds. */
  maxAgeSeconds?: number;
}

/** CORS admitting `origins` (exact matches of the `Origin` header) and no other. */
export function corsFor(origins: readonly string[], o: CorsOptions): MiddlewareHandler {
  const allowed = new Set(origins);
  return cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: [...o.allowMethods],
    allowHeaders: [...o.allowHeaders],
    exposeHeaders: [...(o.exposeHeaders ?? [])],
    credentials: o.credentials ?? false,
    ...(o.maxAgeSeconds === undefined ? {} : { maxAge: o.maxAgeSeconds }),
  });
}

/**
 * `/v1` (API_CORS_ORIGINS): what browsers call — messages, typing, receipts, history — with the
 * JWT in `Authorization`. No credentials: the API reads no cookie, and a bearer token needs none.
 */
export const V1_CORS: CorsOptions = {
  allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
  allowHeaders: ['authorization', 'content-type', 'x-request-id'],
  exposeHeaders: ['x-request-id', 'location', 'retry-after'],
  maxAgeSeconds: 600,
};
