/** The codec endpoint the Temporal UI calls: round trip, CORS for the UI's origin, access token. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultPayloadConverter } from '@temporalio/common';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig } from '../helpers/env.js';

const UI = 'http://127.0.0.1:18233';
let open: TestApi;
let guarded: TestApi;

beforeAll(async () => {
  open = await createTestApi(testConfig({ CODEC_CORS_ORIGINS: UI }));
  guarded = await createTestApi(testConfig({ CODEC_CORS_ORIGINS: UI, CODEC_ACCESS_TOKEN: 'ui-codec-secret' }));
});
afterAll(async () => {
  await open.close();
  await guarded.close();
});

const json = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data!).toString('base64'),
});

async function call(api: TestApi, op: string, body: unknown, headers: Record<string, string> = {}) {
  return api.app.request(`/codec/${op}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: UI, ...headers }, body: JSON.stringify(body) });
}

describe('/codec', () => {
  it('encodes and decodes payloads in the UI\'s proto-JSON format, with CORS for the UI', async () => {
    const plain = json(defaultPayloadConverter.toPayload({ summary: 'Provision @om_acme_alice:localhost' })!);
    const enc = await call(open, 'encode', { payloads: [plain] });
    expect(enc.status).toBe(200);
    expect(enc.headers.get('access-control-allow-origin')).toBe(UI);
    const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    const dec = await call(open, 'decode', encoded);
    expect(((await dec.json()) as { payloads: unknown[] }).payloads).toEqual([plain]);
  });

  it('answers the browser preflight for the UI origin only', async () => {
    const ok = await open.app.request('/codec/decode', { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    const other = await open.app.request('/codec/decode', { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await call(open, 'decode', { payloads: [] }, { origin: 'http://evil.example' })).status).toBe(403);
  });

  it('requires the access token when one is configured', async () => {
    expect((await call(guarded, 'decode', { payloads: [] })).status).toBe(401);
    expect((await call(guarded, 'decode', { payloads: [] }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await call(guarded, 'decode', { payloads: [] }, { authorization: 'Bearer ui-codec-secret' })).status).toBe(200);
  });

  it('rejects malformed bodies with 400', async () => {
    const empty = await call(open, 'decode', {});
    expect(await empty.json()).toEqual({ payloads: [] }); // what the temporal CLI sends for "no payloads"
    const res = await call(open, 'decode', { payloads: 'nope' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/"payloads" must be an array/);
  });
});
