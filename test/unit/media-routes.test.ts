/**
 * The media routes' refusals that need no backend (decision 0041): media off without
 * MEDIA_URL_SECRET; 415, 413 and 400 named before anything is read or streamed; signed URLs
 * refused for a forged signature or an expired one before membership is asked. The app's backends
 * throw when reached (test/helpers/unit-app.ts), so each answer here is the route's own check.
 */
import { describe, expect, it } from '@jest/globals';
import { mediaUrlSigner } from '../../api/media/signed-urls.js';
import { serviceToken } from '../helpers/api.js';
import { serviceLessApp } from '../helpers/unit-app.js';

const SECRET = 'm'.repeat(40);
const { app, config } = serviceLessApp({ MEDIA_URL_SECRET: SECRET, MEDIA_MAX_BYTES: '1000' });
const { app: off, config: offConfig } = serviceLessApp();
const path = '/v1/tenants/acme/rooms/event/meetup/media';

async function upload(
  a: typeof app,
  query: string,
  headers: Record<string, string>,
  body: string | null = 'hello',
): Promise<{ status: number; body: { errcode: string; error: string } }> {
  const token = await serviceToken(a === off ? offConfig : config);
  const res = await a.request(`${path}?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as { errcode: string; error: string } };
}
const ok = 'txnId=t1&filename=a.txt&userSlug=alice';

describe('POST …/media', () => {
  it('is off (404 M_UNRECOGNIZED) without MEDIA_URL_SECRET', async () => {
    expect(await upload(off, ok, { 'content-type': 'text/plain' })).toMatchObject({
      status: 404,
      body: { errcode: 'M_UNRECOGNIZED', error: expect.stringMatching(/MEDIA_URL_SECRET/) },
    });
  });

  it('refuses a type not allowed with 415, naming it and the allowed ones', async () => {
    for (const type of ['text/html', 'image/svg+xml', 'application/x-msdownload']) {
      const r = await upload(app, ok, { 'content-type': type });
      expect(r).toMatchObject({ status: 415, body: { errcode: 'M_UNSUPPORTED_MEDIA_TYPE' } });
      expect(r.body.error).toContain(`"${type}" are not accepted; allowed: image/png,`);
    }
  });

  it('refuses a Content-Length over the limit with 413 before reading the body, and a missing one with 400', async () => {
    expect(
      await upload(app, ok, { 'content-type': 'text/plain', 'content-length': '1001' }, 'x'.repeat(1001)),
    ).toMatchObject({
      status: 413,
      body: { errcode: 'M_TOO_LARGE', error: 'the file is 1001 bytes; the limit is 1000 bytes' },
    });
    expect(await upload(app, ok, { 'content-type': 'text/plain' }, null)).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/Content-Length is required/) },
    });
  });

  it.each([
    ['filename=a.txt&userSlug=alice', /txnId must be/],
    ['txnId=t1&userSlug=alice', /"filename" is required/],
    ['txnId=t1&filename=..%2Fetc&userSlug=alice', /without slashes or control characters/],
    ['txnId=t1&filename=a%0Ab&userSlug=alice', /without slashes or control characters/],
  ])('names a bad parameter (%s)', async (query, message) => {
    expect(await upload(app, query, { 'content-type': 'text/plain' })).toMatchObject({
      status: 400,
      body: { errcode: 'M_INVALID_PARAM', error: expect.stringMatching(message) },
    });
  });
});

describe('GET /v1/media/{server}/{mediaId}', () => {
  const mxc = { server: 'localhost', mediaId: 'abc' };
  const signed = (secret: string, atMs: number): string =>
    mediaUrlSigner(new TextEncoder().encode(secret), 600, () => atMs).url(
      mxc,
      '!r:localhost',
      '@om_acme_alice:localhost',
    );
  const get = async (url: string, a = app) => {
    const res = await a.request(url);
    return { status: res.status, body: (await res.json()) as { errcode: string; error: string } };
  };

  it('refuses a URL signed with another key, or expired, without asking anything else', async () => {
    expect(await get(signed('k'.repeat(40), Date.now()))).toMatchObject({
      status: 403,
      body: { errcode: 'M_FORBIDDEN', error: expect.stringMatching(/signature does not match/) },
    });
    expect(await get(signed(SECRET, Date.now() - 601_000))).toMatchObject({
      status: 403,
      body: { error: expect.stringMatching(/has expired/) },
    });
  });

  it('passes a valid URL on to the membership check (the backend, unreachable here)', async () => {
    expect((await get(signed(SECRET, Date.now()))).status).toBe(500);
  });

  it('refuses a URL missing its parts, and everything when media is off', async () => {
    expect(await get('/v1/media/localhost/abc?room=x')).toMatchObject({
      status: 400,
      body: { errcode: 'M_INVALID_PARAM' },
    });
    expect(await get(signed(SECRET, Date.now()), off)).toMatchObject({
      status: 404,
      body: { errcode: 'M_UNRECOGNIZED' },
    });
  });
});
