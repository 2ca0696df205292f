/**
 * The codec endpoint the Temporal UI calls: round trip, CORS for the UI's origin, and the credential
 * CODEC_AUTH asks for (a shared token, or a JWT verified against a JWKS served here on loopback).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultPayloadConverter } from '@temporalio/common';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { serve } from '@hono/node-server';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig } from '../helpers/env.js';

const UI = 'http://127.0.0.1:18233';
const TOKEN = 'ui-codec-secret-of-at-least-32-bytes';
let open: TestApi;
let guarded: TestApi;
let viaJwt: TestApi;
let unset: TestApi;
let jwksServer: Server;
let signing: CryptoKey;
let stranger: CryptoKey;

beforeAll(async () => {
  const ui = await generateKeyPair('ES256');
  signing = ui.privateKey;
  stranger = (await generateKeyPair('ES256')).privateKey;
  const other: JWK = { ...(await exportJWK((await generateKeyPair('ES256')).publicKey)), kid: 'other' };
  // The identity provider's keys: the UI's signing key (kid "ui") beside another, as a real JWKS lists several.
  const keys = [{ ...(await exportJWK(ui.publicKey)), kid: 'ui', alg: 'ES256' }, other];
  jwksServer = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })),
  );
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;

  open = await createTestApi(testConfig({ CODEC_CORS_ORIGINS: UI, CODEC_AUTH: 'none' }));
  guarded = await createTestApi(testConfig({ CODEC_CORS_ORIGINS: UI, CODEC_AUTH: '', CODEC_ACCESS_TOKEN: TOKEN }));
  viaJwt = await createTestApi(
    testConfig({
      CODEC_CORS_ORIGINS: UI,
      CODEC_AUTH: '',
      CODEC_JWKS_URL: jwksUrl,
      CODEC_JWT_AUDIENCE: 'temporal-ui',
      CODEC_JWT_ISSUER: 'https://idp.example',
    }),
  );
  unset = await createTestApi(testConfig({ CODEC_CORS_ORIGINS: UI, CODEC_AUTH: '' }));
});
afterAll(async () => {
  await Promise.all([open.close(), guarded.close(), viaJwt.close(), unset.close()]);
  await new Promise((resolve) => jwksServer.close(resolve));
});

function uiJwt(opts: { key?: CryptoKey; exp?: number; aud?: string; kid?: string } = {}): Promise<string> {
  return new SignJWT({ email: 'operator@example.org' })
    .setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? 'ui' })
    .setIssuer('https://idp.example')
    .setAudience(opts.aud ?? 'temporal-ui')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 300)
    .sign(opts.key ?? signing);
}

const json = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data!).toString('base64'),
});

async function call(api: TestApi, op: string, body: unknown, headers: Record<string, string> = {}) {
  return api.app.request(`/codec/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: UI, ...headers },
    body: JSON.stringify(body),
  });
}

/** A real encrypted payload, as `temporal workflow show` prints it. */
async function secretPayload() {
  const plain = json(defaultPayloadConverter.toPayload({ tenant: 'acme', slug: 'alice' })!);
  const enc = await call(open, 'encode', { payloads: [plain] });
  return { plain, encoded: (await enc.json()) as { payloads: unknown[] } };
}

async function expectRefused(res: Response, status: number, errcode: string, error: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { errcode: string; error: string };
  expect(body).toEqual({ errcode, error: expect.stringMatching(error) });
  expect(JSON.stringify(body)).not.toContain('alice');
}

describe('/codec', () => {
  it("encodes and decodes payloads in the UI's proto-JSON format, with CORS for the UI", async () => {
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
    const ok = await open.app.request('/codec/decode', {
      method: 'OPTIONS',
      headers: { origin: UI, 'access-control-request-method': 'POST' },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    const other = await open.app.request('/codec/decode', {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await call(open, 'decode', { payloads: [] }, { origin: 'http://evil.example' })).status).toBe(403);
  });

  it('with no credential configured, decodes for nobody (the API would not even start: loadApiConfig)', async () => {
    const { encoded } = await secretPayload();
    await expectRefused(await call(unset, 'decode', encoded), 403, 'M_FORBIDDEN', /no credential is configured/);
    await expectRefused(await call(unset, 'decode', encoded, { origin: '' }), 403, 'M_FORBIDDEN', /CODEC_AUTH/);
  });

  it('with CODEC_ACCESS_TOKEN, refuses a caller without it or with another, and decodes for the token', async () => {
    const { plain, encoded } = await secretPayload();
    // No credentials and no Origin: what `curl` sends, the request of the defect.
    const bare = await guarded.app.request('/codec/decode', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(encoded),
    });
    await expectRefused(bare, 401, 'M_MISSING_TOKEN', /missing Authorization/);
    await expectRefused(
      await call(guarded, 'decode', encoded, { authorization: 'Bearer wrong' }),
      401,
      'M_UNKNOWN_TOKEN',
      /wrong access token/,
    );
    const ok = await call(guarded, 'decode', encoded, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { payloads: unknown[] }).payloads).toEqual([plain]);
  });

  it('with CODEC_JWKS_URL, decodes for a JWT the identity provider signed, and refuses a wrong key, an expired token or another audience', async () => {
    const { plain, encoded } = await secretPayload();
    const bearer = async (t: Promise<string>) => ({ authorization: `Bearer ${await t}` });
    const ok = await call(viaJwt, 'decode', encoded, await bearer(uiJwt()));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { payloads: unknown[] }).payloads).toEqual([plain]);

    await expectRefused(await call(viaJwt, 'decode', encoded), 401, 'M_MISSING_TOKEN', /missing Authorization/);
    await expectRefused(
      await call(viaJwt, 'decode', encoded, await bearer(uiJwt({ key: stranger }))),
      401,
      'M_UNKNOWN_TOKEN',
      /signature does not verify/,
    );
    await expectRefused(
      await call(viaJwt, 'decode', encoded, await bearer(uiJwt({ key: stranger, kid: 'nobody' }))),
      401,
      'M_UNKNOWN_TOKEN',
      /no matching key/,
    );
    const expired = uiJwt({ exp: Math.floor(Date.now() / 1000) - 10 });
    await expectRefused(
      await call(viaJwt, 'decode', encoded, await bearer(expired)),
      401,
      'M_UNKNOWN_TOKEN',
      /expired/,
    );
    await expectRefused(
      await call(viaJwt, 'decode', encoded, await bearer(uiJwt({ aud: 'someone-else' }))),
      401,
      'M_UNKNOWN_TOKEN',
      /claim "aud"/,
    );
    // The shared-token way is not accepted in JWT mode.
    await expectRefused(
      await call(viaJwt, 'decode', encoded, { authorization: `Bearer ${TOKEN}` }),
      401,
      'M_UNKNOWN_TOKEN',
      /malformed/,
    );
  });

  it("answers 503, not 401, while the identity provider's keys cannot be fetched", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = await createTestApi(
      testConfig({ CODEC_CORS_ORIGINS: UI, CODEC_AUTH: 'jwt', CODEC_JWKS_URL: `http://127.0.0.1:${port}/jwks` }),
    );
    try {
      const { encoded } = await secretPayload();
      await expectRefused(
        await call(down, 'decode', encoded, { authorization: `Bearer ${await uiJwt()}` }),
        503,
        'OM_UNAVAILABLE',
        /CODEC_JWKS_URL/,
      );
      // A token that is no JWT at all is still the caller's problem.
      await expectRefused(
        await call(down, 'decode', encoded, { authorization: 'Bearer nonsense' }),
        401,
        'M_UNKNOWN_TOKEN',
        /malformed/,
      );
    } finally {
      await down.close();
    }
  });

  it('refuses a streamed body (chunked, no Content-Length) past 8 MiB with 413, without reading it to its end', async () => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    // 32 MiB offered chunk by chunk: a server that reads the whole body before checking takes it all.
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 32 * 1024 * 1024) return controller.close();
        pulled += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await guarded.app.request('/codec/decode', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: endless,
      duplex: 'half',
    } as RequestInit);
    expect(res.headers.get('content-length')).toBeNull();
    await expectRefused(res, 413, 'M_TOO_LARGE', /exceeds 8388608 bytes/);
    expect(pulled).toBeGreaterThan(8 * 1024 * 1024);
    expect(pulled).toBeLessThan(9 * 1024 * 1024);
  }, 30_000);

  it('over a real socket, answers a chunked upload with 413 while the client is still sending', async () => {
    const server = serve({ fetch: guarded.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const LIMIT = 64 * 1024 * 1024;
    let written = 0;
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        // No Content-Length: Node sends the body with Transfer-Encoding: chunked.
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/codec/decode',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        });
        let answered = false;
        req.once('response', (res) => {
          answered = true;
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.once('end', () => {
            resolve({ status: res.statusCode!, body });
            req.destroy();
          });
        });
        req.once('error', (err) => (answered ? undefined : reject(err)));
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = (): void => {
          while (!answered && written < LIMIT) {
            written += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          if (!answered) req.end();
        };
        pump();
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({ errcode: 'M_TOO_LARGE', error: 'request body exceeds 8388608 bytes' });
      expect(written).toBeLessThan(LIMIT);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);

  it('reads no body at all for a caller without the credential', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1024;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const res = await guarded.app.request('/codec/decode', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: endless,
      duplex: 'half',
    } as RequestInit);
    await expectRefused(res, 401, 'M_MISSING_TOKEN', /missing/);
    expect(pulled).toBeLessThan(1024 * 1024);
  }, 30_000);

  it('rejects malformed bodies with 400', async () => {
    const empty = await call(open, 'decode', {});
    expect(await empty.json()).toEqual({ payloads: [] }); // what the temporal CLI sends for "no payloads"
    const res = await call(open, 'decode', { payloads: 'nope' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/"payloads" must be an array/);
  });
});
