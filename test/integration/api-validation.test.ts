/**
 * Bad input is answered with 4xx and a Matrix-style `{ errcode, error }` naming the problem, and
 * never reaches Temporal. Runs the real app against the real Temporal server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { createTestApi, serviceToken, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTenant } from '../helpers/env.js';

const config = testConfig({ TEMPORAL_TASK_QUEUE: 'no-worker-listens-here' });
let api: TestApi;
const tenant = uniqueTenant('val');

beforeAll(async () => {
  api = await createTestApi(config);
});
afterAll(async () => {
  await api.close();
});

async function expectError(res: Response, status: number, errcode: string, message: RegExp): Promise<void> {
  const body = (await res.json()) as { errcode: string; error: string };
  expect({ status: res.status, errcode: body.errcode }).toEqual({ status, errcode });
  expect(body.error).toMatch(message);
}

describe('service JWT', () => {
  const path = `/v1/tenants/${tenant}/users`;
  const body = JSON.stringify({ slug: 'alice', displayName: 'Alice' });
  const send = (authorization?: string) =>
    api.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body });

  it('401 M_MISSING_TOKEN without a token', async () => {
    await expectError(await send(), 401, 'M_MISSING_TOKEN', /missing Authorization/);
  });
  it('401 for a header that is not Bearer', async () => {
    await expectError(await send('Basic abc'), 401, 'M_MISSING_TOKEN', /Bearer/);
  });
  it('401 for garbage', async () => {
    await expectError(await send('Bearer not.a.jwt'), 401, 'M_UNKNOWN_TOKEN', /malformed|invalid/);
  });
  it('401 for an expired token', async () => {
    await expectError(await send(`Bearer ${await serviceToken(config, { tenants: ['*'] }, { expiresIn: -60 })}`), 401, 'M_UNKNOWN_TOKEN', /expired/);
  });
  it('401 for a token without exp', async () => {
    const t = await new SignJWT({ tenants: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(config.serviceJwt.issuer)
      .setAudience(config.serviceJwt.audience)
      .setIssuedAt()
      .sign(config.serviceJwt.secret!);
    await expectError(await send(`Bearer ${t}`), 401, 'M_UNKNOWN_TOKEN', /"exp" is missing/);
  });
  it('401 for the wrong audience, issuer or key', async () => {
    await expectError(await send(`Bearer ${await serviceToken(config, { tenants: ['*'] }, { audience: 'other' })}`), 401, 'M_UNKNOWN_TOKEN', /"aud"/);
    await expectError(await send(`Bearer ${await serviceToken(config, { tenants: ['*'] }, { issuer: 'other' })}`), 401, 'M_UNKNOWN_TOKEN', /"iss"/);
    const wrongKey = new TextEncoder().encode('y'.repeat(40));
    await expectError(await send(`Bearer ${await serviceToken(config, { tenants: ['*'] }, { secret: wrongKey })}`), 401, 'M_UNKNOWN_TOKEN', /signature/);
  });
  it('401 for a token without a tenants claim', async () => {
    await expectError(await send(`Bearer ${await serviceToken(config, { scope: 'x' })}`), 401, 'M_UNKNOWN_TOKEN', /"tenants"/);
  });
  it('403 for a token of another tenant', async () => {
    await expectError(await send(`Bearer ${await serviceToken(config, { tenants: ['someone-else'] })}`), 403, 'M_FORBIDDEN', new RegExp(`tenant "${tenant}"`));
  });
});

describe('POST /v1/tenants/{tenant}/users input', () => {
  const path = `/v1/tenants/${tenant}/users`;

  it('400 M_NOT_JSON for malformed JSON', async () => {
    await expectError(await api.post(path, '{"slug": "alice",'), 400, 'M_NOT_JSON', /not valid JSON/);
  });
  it('400 M_NOT_JSON for a body that is not declared as JSON', async () => {
    const res = await api.app.request(path, { method: 'POST', headers: { authorization: `Bearer ${api.token}`, 'content-type': 'text/plain' }, body: 'x' });
    await expectError(res, 400, 'M_NOT_JSON', /Content-Type: application\/json/);
  });
  it('400 M_BAD_JSON for a JSON array or null', async () => {
    await expectError(await api.post(path, '[1,2]'), 400, 'M_BAD_JSON', /JSON object/);
    await expectError(await api.post(path, 'null'), 400, 'M_BAD_JSON', /JSON object/);
  });
  it('400 naming unknown fields', async () => {
    await expectError(await api.post(path, { slug: 'alice', displayName: 'A', admin: true, x: 1 }), 400, 'M_BAD_JSON', /unknown fields: "admin", "x"/);
  });
  it('400 naming missing and mistyped fields', async () => {
    await expectError(await api.post(path, { displayName: 'A' }), 400, 'M_BAD_JSON', /missing field "slug"/);
    await expectError(await api.post(path, { slug: 42, displayName: 'A' }), 400, 'M_BAD_JSON', /"slug" must be a string/);
    await expectError(await api.post(path, { slug: 'alice' }), 400, 'M_BAD_JSON', /missing field "displayName"/);
  });
  it('400 for empty, too long and unmappable slugs', async () => {
    await expectError(await api.post(path, { slug: '', displayName: 'A' }), 400, 'M_INVALID_PARAM', /"slug" must not be empty/);
    await expectError(await api.post(path, { slug: 'a'.repeat(101), displayName: 'A' }), 400, 'M_INVALID_PARAM', /longer than 100/);
    await expectError(await api.post(path, { slug: 'al ice', displayName: 'A' }), 400, 'M_INVALID_PARAM', /cannot be mapped to a Matrix localpart/);
    await expectError(await api.post(path, { slug: 'bob:evil', displayName: 'A' }), 400, 'M_INVALID_PARAM', /character ":"/);
  });
  it('400 for bad display names', async () => {
    await expectError(await api.post(path, { slug: 'alice', displayName: '   ' }), 400, 'M_INVALID_PARAM', /"displayName" must not be empty/);
    await expectError(await api.post(path, { slug: 'alice', displayName: 'x'.repeat(300) }), 400, 'M_INVALID_PARAM', /longer than 256/);
    await expectError(await api.post(path, { slug: 'alice', displayName: 'a\u0000b' }), 400, 'M_INVALID_PARAM', /control characters/);
  });
  it('400 for a tenant outside the grammar', async () => {
    await expectError(await api.post('/v1/tenants/Bad_Tenant/users', { slug: 'alice', displayName: 'A' }), 400, 'M_INVALID_PARAM', /tenant must be/);
  });
  it('413 for a huge body', async () => {
    await expectError(await api.post(path, { slug: 'alice', displayName: 'x'.repeat(100_000) }), 413, 'M_TOO_LARGE', /exceeds/);
  });
  it('404 M_UNRECOGNIZED for unknown routes', async () => {
    await expectError(await api.get(`/v1/tenants/${tenant}/nothing`), 404, 'M_UNRECOGNIZED', /no route/);
  });
});

describe('GET /v1/operations/{workflowId}', () => {
  it('400 for an id that is not ours', async () => {
    await expectError(await api.get('/v1/operations/something-else'), 400, 'M_INVALID_PARAM', /not a workflow id/);
  });
  it('403 for another tenant', async () => {
    const t = await serviceToken(config, { tenants: ['other'] });
    await expectError(await api.get(`/v1/operations/user:${tenant}:alice`, t), 403, 'M_FORBIDDEN', /may not act/);
  });
  it('404 for a workflow that never ran', async () => {
    await expectError(await api.get(`/v1/operations/user:${tenant}:nobody`), 404, 'M_NOT_FOUND', /no workflow/);
  });
});
