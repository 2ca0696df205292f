import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { ApiEnv } from '../context.js';

// Read at runtime from dist/api/relay/ as ../../../api/static/ (the Dockerfile copies it beside dist/).
const PAGE = fileURLToPath(new URL('../../../api/static/index.html', import.meta.url));

/**
 * `GET /demo/`: the relay's demo page (static, no build step): sign in with a user JWT, see your
 * rooms, live messages and typing, send. `GET /` points there.
 */
export function demoRoutes() {
  let page: Promise<string> | null = null;
  return new Hono<ApiEnv>()
    .get('/', (c) => c.redirect('/demo/', 302))
    .get('/demo', (c) => c.redirect('/demo/', 301))
    .get('/demo/', async (c) => {
      page ??= readFile(PAGE, 'utf8').catch((err: unknown) => {
        page = null;
        throw err;
      });
      const given = c.req.header('host') ?? '';
      const host = /^[A-Za-z0-9.:[\]-]{1,255}$/.test(given) ? given : 'invalid.invalid';
      c.header('cache-control', 'no-store');
      // The page talks only to this origin (HTTP and its WebSocket); nothing else may frame or script it.
      c.header(
        'content-security-policy',
        `default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws://${host} wss://${host}; frame-ancestors 'none'`,
      );
      return c.html(await page);
    });
}
