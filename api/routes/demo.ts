import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { ApiEnv } from '../context.js';
import { operation, type Answer } from '../spec/operation.js';

// Read at runtime from dist/api/relay/ as ../../../api/static/ (the Dockerfile copies it beside dist/).
const PAGE = fileURLToPath(new URL('../../../api/static/index.html', import.meta.url));

const html = (description: string): Answer => ({ description, content: { 'text/html': { type: 'string' } } });
const redirect = (description: string): Answer => ({ description, headers: { Location: '`/demo/`' } });
const demoOp = { method: 'get', tags: ['demo'], security: 'public' } as const;
const ops = {
  root: operation({
    ...demoOp,
    path: '/',
    operationId: 'root',
    summary: 'Points at the demo page',
    responses: { 302: redirect('To `/demo/`.') },
  }),
  bare: operation({
    ...demoOp,
    path: '/demo',
    operationId: 'demoRedirect',
    summary: 'Points at the demo page',
    responses: { 301: redirect('To `/demo/`.') },
  }),
  page: operation({
    ...demoOp,
    path: '/demo/',
    operationId: 'demoPage',
    summary: "The realtime relay's demo page (signs in with a user JWT)",
    responses: { 200: html('The page.') },
  }),
};
export const demoOperations = Object.values(ops);

/**
 * `GET /demo/`: the relay's demo page (static, no build step): sign in with a user JWT, see your
 * rooms with unread counts, live messages, typing, attachments, replies, edits, reactions, deleting and search. `GET /` points there.
 */
export function demoRoutes() {
  let page: Promise<string> | null = null;
  return new Hono<ApiEnv>()
    .get(ops.root.path, (c) => c.redirect('/demo/', 302))
    .get(ops.bare.path, (c) => c.redirect('/demo/', 301))
    .get(ops.page.path, async (c) => {
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
        `default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self'; connect-src 'self' ws://${host} wss://${host}; frame-ancestors 'none'`,
      );
      return c.html(await page);
    });
}
