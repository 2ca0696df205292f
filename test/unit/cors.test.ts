/**
 * CORS on `/v1` (API_CORS_ORIGINS): browsers of the configured origins may call the message,
 * typing, receipt and history routes; any other origin gets no CORS header; preflights are answered
 * without a token; refusals carry the headers so the browser can read them. (A 200 with them on the
 * real stack: test/integration/platform-events.test.ts.)
 */
import { describe, expect, it } from '@jest/globals';
import { serviceToken } from '../helpers/api.js';
import { serviceLessApp } from '../helpers/unit-app.js';

const APP = 'https://app.example';
const OTHER = 'https://evil.example';
const { app, config } = serviceLessApp({ API_CORS_ORIGINS: `${APP}, http://127.0.0.1:5173`, CODEC_CORS_ORIGINS: 'http://127.0.0.1:8233' });
const { app: closed } = serviceLessApp();
const token = await serviceToken(config);
const ROOM = '/v1/tenants/acme/rooms/event/meetup';

const preflight = (target: typeof app, path: string, origin: string, method = 'POST') =>
  target.request(path, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  });

describe('CORS on /v1', () => {
  it.each([
    [`${ROOM}/messages`, 'POST'],
    [`${ROOM}/messages`, 'GET'],
    [`${ROOM}/typing`, 'PUT'],
    [`${ROOM}/receipts`, 'POST'],
  ])('answers the preflight of %s %s for an allowed origin, without a token', async (path, method) => {
    const res = await preflight(app, path, APP, method);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')?.split(',')).toEqual(['GET', 'POST', 'PUT', 'DELETE']);
    expect(res.headers.get('access-control-allow-headers')?.split(',')).toEqual(['authorization', 'content-type', 'x-request-id']);
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('vary')).toContain('Origin');
    // A bearer token needs no credentials mode, and the API reads no cookie.
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('gives another origin, and every origin when none is configured, no Access-Control-Allow-Origin', async () => {
    expect((await preflight(app, `${ROOM}/messages`, OTHER)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(app, `${ROOM}/messages`, `${APP}.evil.example`)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(closed, `${ROOM}/messages`, APP)).headers.get('access-control-allow-origin')).toBeNull();
    const get = await app.request(`${ROOM}/messages`, { headers: { origin: OTHER } });
    expect(get.status).toBe(401);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refusals carry the headers, so the browser can read them: 401, 400, 403, 404', async () => {
    const headers = { origin: APP, 'content-type': 'application/json' };
    const answers = [
      await app.request(`${ROOM}/messages?limit=20`, { headers: { origin: APP } }),
      await app.request(`${ROOM}/typing`, { method: 'PUT', headers: { ...headers, authorization: `Bearer ${token}` }, body: '{"typing":"yes"}' }),
      await app.request(`${ROOM}/receipts`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${await serviceToken(config, { tenants: ['beta'] })}` },
        body: JSON.stringify({ eventId: '$e', userSlug: 'alice' }),
      }),
      await app.request('/v1/nothing-here', { headers: { origin: APP, authorization: `Bearer ${token}` } }),
    ];
    const seen = await Promise.all(answers.map(async (r) => [r.status, ((await r.json()) as { errcode: string }).errcode]));
    expect(seen).toEqual([
      [401, 'M_MISSING_TOKEN'],
      [400, 'M_BAD_JSON'],
      [403, 'M_FORBIDDEN'],
      [404, 'M_UNRECOGNIZED'],
    ]);
    for (const r of answers) {
      expect(r.headers.get('access-control-allow-origin')).toBe(APP);
      expect(r.headers.get('access-control-expose-headers')).toBe('x-request-id,location,retry-after');
    }
  });

  it('leaves the codec its own origins and credentials', async () => {
    const ui = await preflight(app, '/codec/decode', 'http://127.0.0.1:8233');
    expect(ui.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect(ui.headers.get('access-control-allow-credentials')).toBe('true');
    expect((await preflight(app, '/codec/decode', APP)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(app, `${ROOM}/messages`, 'http://127.0.0.1:8233')).headers.get('access-control-allow-origin')).toBeNull();
  });
});
