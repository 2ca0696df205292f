/** The service JWT's age: `iat` required, and no older than SERVICE_JWT_MAX_AGE_SECONDS (default 24 h). */
import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { serviceLessApp } from '../helpers/unit-app.js';

const { app, config } = serviceLessApp({ SERVICE_JWT_MAX_AGE_SECONDS: '3600' });
const { app: byDefault } = serviceLessApp();

function serviceJwt(iat: number | null): Promise<string> {
  const jwt = new SignJWT({ tenants: ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(config.serviceJwt.issuer)
    .setAudience(config.serviceJwt.audience)
    // Still valid by its own exp: the age limit holds whatever lifetime the issuer chose.
    .setExpirationTime(Math.floor(Date.now() / 1000) + 30 * 86_400);
  if (iat !== null) jwt.setIssuedAt(iat);
  return jwt.sign(config.serviceJwt.secret!);
}

/** A request that gets past authentication answers 404 here (no such route), not 401. */
async function answer(a: typeof app, token: string): Promise<{ status: number; body: unknown }> {
  const res = await a.request('/v1/tenants/acme/users/-bad', { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

describe('service JWT age', () => {
  const now = Math.floor(Date.now() / 1000);

  it('refuses a token without iat, naming the claim', async () => {
    expect(await answer(app, await serviceJwt(null))).toEqual({
      status: 401,
      body: { errcode: 'M_UNKNOWN_TOKEN', error: 'service JWT rejected: claim "iat" is missing' },
    });
  });

  it('refuses a token issued longer ago than SERVICE_JWT_MAX_AGE_SECONDS, naming the limit', async () => {
    expect(await answer(app, await serviceJwt(now - 3700))).toEqual({
      status: 401,
      body: {
        errcode: 'M_UNKNOWN_TOKEN',
        error: 'service JWT rejected: token was issued more than 3600 s (SERVICE_JWT_MAX_AGE_SECONDS) ago',
      },
    });
    expect((await answer(app, await serviceJwt(now - 3500))).status).not.toBe(401);
  });

  it('takes an iat a little in the future (clock skew), not one far ahead', async () => {
    expect((await answer(app, await serviceJwt(now + 5))).status).not.toBe(401);
    expect(await answer(app, await serviceJwt(now + 3600))).toEqual({
      status: 401,
      body: { errcode: 'M_UNKNOWN_TOKEN', error: 'service JWT rejected: claim "iat" is in the future' },
    });
  });

  it('allows 24 hours by default', async () => {
    expect((await answer(byDefault, await serviceJwt(now - 86_400 + 120))).status).not.toBe(401);
    expect((await answer(byDefault, await serviceJwt(now - 86_400 - 120))).status).toBe(401);
  });
});

describe('service JWT signature (the HS256 key imported once, not per request)', () => {
  const sign = (alg: string, secret: Uint8Array): Promise<string> =>
    new SignJWT({ tenants: ['*'] })
      .setProtectedHeader({ alg })
      .setIssuer(config.serviceJwt.issuer)
      .setAudience(config.serviceJwt.audience)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(secret);

  it('takes the secret’s HS256 signature, again and again', async () => {
    for (let i = 0; i < 3; i++) expect((await answer(app, await sign('HS256', config.serviceJwt.secret!))).status).toBe(404);
  });

  it('refuses another secret’s signature and another algorithm, naming which', async () => {
    const other = new TextEncoder().encode('another-secret-of-at-least-32-bytes!!');
    expect(await answer(app, await sign('HS256', other))).toEqual({
      status: 401,
      body: { errcode: 'M_UNKNOWN_TOKEN', error: 'service JWT rejected: signature does not verify' },
    });
    expect(await answer(app, await sign('HS512', config.serviceJwt.secret!))).toEqual({
      status: 401,
      body: { errcode: 'M_UNKNOWN_TOKEN', error: 'service JWT rejected: algorithm not allowed' },
    });
  });
});
