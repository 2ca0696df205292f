import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { describeValue } from '../../vocabulary/describe.js';
import type { ApiEnv } from '../context.js';
import { ApiError } from '../errors.js';
import { operation, type Operation } from '../spec/operation.js';
import type { JsonSchema } from '../spec/schema.js';

/** swagger-ui-dist's files, from node_modules: the docs page works offline, without a CDN. */
const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>matrix-orchestrator API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/** The files the page loads: name → content type (and our own initializer). */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'init.js': 'text/javascript; charset=utf-8',
};

const docsOp = { method: 'get', tags: ['docs'], security: 'public' } as const;
const ops = {
  spec: operation({
    ...docsOp,
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document: the OpenAPI 3.1 spec of the API',
    responses: { 200: { description: 'The spec.', json: { type: 'object' } } },
  }),
  page: operation({
    ...docsOp,
    path: '/docs',
    operationId: 'docsPage',
    summary: 'The browsable API docs (Swagger UI)',
    responses: { 200: { description: 'The page.', content: { 'text/html': { type: 'string' } } } },
  }),
  asset: operation({
    ...docsOp,
    path: '/docs/:asset',
    operationId: 'docsAsset',
    summary: "A file of the docs page (Swagger UI's, served from the installed package)",
    responses: { 200: { description: 'The file.', content: { '*/*': { type: 'string' } } } },
    errors: ['M_NOT_FOUND'],
  }),
};
export const docsOperations: Operation[] = Object.values(ops);

/** `GET /openapi.json` and the docs page at `GET /docs`: public, outside `/v1`. */
export function docsRoutes(spec: () => JsonSchema) {
  let json: string | null = null;
  const files = new Map<string, Promise<Buffer>>();
  const load = (name: string): Promise<Buffer> => {
    if (name === 'init.js') return Promise.resolve(Buffer.from(INIT));
    let file = files.get(name);
    if (!file) {
      file = readFile(join(SWAGGER_UI, name)).catch((err: unknown) => {
        files.delete(name);
        throw err;
      });
      files.set(name, file);
    }
    return file;
  };
  return new Hono<ApiEnv>()
    .get(ops.spec.path, (c) => {
      json ??= JSON.stringify(spec());
      return c.body(json, 200, { 'content-type': 'application/json; charset=utf-8' });
    })
    .get(ops.page.path, (c) => {
      c.header(
        'content-security-policy',
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
      );
      return c.html(PAGE);
    })
    .get(ops.asset.path, async (c) => {
      const name = c.req.param('asset');
      const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
      if (!type) throw new ApiError('M_NOT_FOUND', `no docs file ${describeValue(name)}`);
      return c.body(new Uint8Array(await load(name)), 200, {
        'content-type': type,
        'cache-control': 'public, max-age=3600',
      });
    });
}
