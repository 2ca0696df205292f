/**
 * The OpenAPI spec is a valid OpenAPI 3.1 document, lists exactly the app's routes (both ways), is
 * served without a token and without secrets, and has a docs page that works offline.
 * (What it says of request bodies: openapi-bodies.test.ts.)
 */
import { describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { apiOperations, openApiDocument } from '../../api/spec/openapi.js';
import { specPath } from '../../api/spec/operation.js';
import { serviceLessApp } from '../helpers/unit-app.js';

type Json = { [k: string]: unknown };

const SECRETS = {
  SERVICE_JWT_SECRET: 'service-secret-'.padEnd(40, 's'),
  MATRIX_HS_TOKEN: 'hs-token-secret-value',
  MATRIX_AS_TOKEN: 'as-token-secret-value',
  MATRIX_ADMIN_PASSWORD: 'admin-password-secret',
};
const { app, config } = serviceLessApp(SECRETS);
const doc = openApiDocument();

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc));
    expect(result).toEqual({ valid: true });
  });

  it('fails the same validation when broken (the check can fail)', async () => {
    const untitled = structuredClone(doc) as { info: Json };
    delete untitled.info.title;
    expect((await new Validator().validate(untitled)).valid).toBe(false);
    const badParam = structuredClone(doc) as { paths: Record<string, Record<string, { parameters: Json[] }>> };
    badParam.paths['/v1/operations/{workflowId}']!.get!.parameters[0]!.in = 'somewhere';
    expect((await new Validator().validate(badParam)).valid).toBe(false);
  });

  it('documents every route of the app, and routes every documented operation', () => {
    // `use()` middleware is registered as method ALL; a route with middleware appears once per handler.
    const routed = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${specPath(r.path)}`));
    const documented = new Set(
      Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
        Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect([...routed].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((d) => !routed.has(d))).toEqual([]);
    expect(routed.size).toBe(apiOperations().length);
  });

  it('is served at /openapi.json without a token, and holds no secret of the configuration', async () => {
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual(doc);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(text).not.toContain(config.databaseUrl);
  });

  it('has a docs page at /docs that loads Swagger UI from this server only', async () => {
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(2);
    for (const src of scripts) {
      expect(src).toMatch(/^\/docs\//);
      expect((await app.request(src)).status).toBe(200);
    }
    expect(await (await app.request('/docs/init.js')).text()).toContain("url: '/openapi.json'");
    expect((await app.request('/docs/package.json')).status).toBe(404);
    expect((await app.request('/docs/..%2F..%2Fpackage.json')).status).toBe(404);
  });
});
