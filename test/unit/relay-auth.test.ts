import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { ApiError } from '../../api/errors.js';
import { createUserVerifier, relayAuthenticates, socketToken } from '../../api/relay/user-auth.js';
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

const env = {
  ...MINIMAL_ENV,
  SERVICE_JWT_SECRET: 's'.repeat(32),
  USER_JWT_SECRET: 'u'.repeat(32),
};
const config = loadConfig(env);
const secret = new TextEncoder().encode('u'.repeat(32));

function token(
  claims: Record<string, unknown>,
  opts: { aud?: string; exp?: number; iat?: number | null; sub?: string | null; iss?: string; key?: Uint8Array } = {},
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience(opts.aud ?? 'matrix-orchestrator-realtime');
  if (opts.sub !== null) jwt.setSubject(opts.sub ?? 'alice');
  if (opts.iss) jwt.setIssuer(opts.iss);
  if (opts.iat !== null) jwt.setIssuedAt(opts.iat);
  jwt.setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 60);
  return jwt.sign(opts.key ?? secret);
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return `${(err as ApiError).errcode}: ${(err as ApiError).message}`;
  }
  throw new Error('expected a rejection');
}

describe('user JWT verification', () => {
  const verify = createUserVerifier(config);

  it('turns sub and tenant into the Matrix user the token speaks for', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    expect(await verify(await token({ tenant: 'acme' }, { sub: 'Bob_1', exp }))).toEqual({
      tenant: 'acme',
      userSlug: 'Bob_1',
      userId: '@om_acme__bob__1:localhost',
      canActAs: true,
      expiresAt: exp,
    });
  });

  it.each([
    [
      'expired',
      token({ tenant: 'acme' }, { exp: Math.floor(Date.now() / 1000) - 5 }),
      'M_UNKNOWN_TOKEN: user JWT rejected: token has expired',
    ],
    [
      'another audience',
      token({ tenant: 'acme' }, { aud: 'matrix-orchestrator' }),
      'M_UNKNOWN_TOKEN: user JWT rejected: claim "aud" is invalid',
    ],
    [
      'another key',
      token({ tenant: 'acme' }, { key: new TextEncoder().encode('x'.repeat(32)) }),
      'M_UNKNOWN_TOKEN: user JWT rejected: signature does not verify',
    ],
    ['no sub', token({ tenant: 'acme' }, { sub: null }), 'M_UNKNOWN_TOKEN: user JWT rejected: claim "sub" is missing'],
    ['no tenant', token({}), 'M_UNKNOWN_TOKEN: user JWT rejected: claim "tenant" must be a tenant id'],
    [
      'a bad tenant',
      token({ tenant: 'ac_me' }),
      'M_UNKNOWN_TOKEN: user JWT rejected: claim "tenant" must be a tenant id',
    ],
    [
      'a sub that is no slug',
      token({ tenant: 'acme' }, { sub: 'al ice' }),
      'M_UNKNOWN_TOKEN: user JWT rejected: claim "sub" must be a user slug',
    ],
    ['garbage', Promise.resolve('not.a.jwt'), 'M_UNKNOWN_TOKEN: user JWT rejected: malformed token'],
    ['no iat', token({ tenant: 'acme' }, { iat: null }), 'M_UNKNOWN_TOKEN: user JWT rejected: claim "iat" is missing'],
    [
      'one issued more than 24 h ago, though not expired',
      token({ tenant: 'acme' }, { iat: Math.floor(Date.now() / 1000) - 86_400 - 60 }),
      'M_UNKNOWN_TOKEN: user JWT rejected: token was issued more than 86400 s (USER_JWT_MAX_AGE_SECONDS) ago',
    ],
    [
      'one issued in the future',
      token({ tenant: 'acme' }, { iat: Math.floor(Date.now() / 1000) + 600 }),
      'M_UNKNOWN_TOKEN: user JWT rejected: claim "iat" is in the future',
    ],
  ])('refuses %s, naming why', async (_what, t, message) => {
    expect(await rejection(verify(await t))).toBe(message);
  });

  it('reads a tenant claim in upper case as the same tenant in lower case (decision 0033)', async () => {
    expect(await verify(await token({ tenant: 'AcMe' }))).toMatchObject({ tenant: 'acme', userId: '@om_acme_alice:localhost' });
  });

  it('takes a token up to USER_JWT_MAX_AGE_SECONDS old, and no older', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await verify(await token({ tenant: 'acme' }, { iat: now - 86_400 + 60 }))).userSlug).toBe('alice');
    const short = createUserVerifier(loadConfig({ ...env, USER_JWT_MAX_AGE_SECONDS: '600' }));
    expect((await short(await token({ tenant: 'acme' }, { iat: now - 540 }))).userSlug).toBe('alice');
    expect(await rejection(short(await token({ tenant: 'acme' }, { iat: now - 660 })))).toMatch(
      /issued more than 600 s/,
    );
    // A socket opened with it closes when it ages out, if that comes before its exp.
    expect((await short(await token({ tenant: 'acme' }, { iat: now - 540, exp: now + 3600 }))).expiresAt).toBe(
      now + 60,
    );
    // The issuer's clock a little ahead of ours: a fresh token's iat a few seconds in our future is fine.
    expect((await verify(await token({ tenant: 'acme' }, { iat: now + 5 }))).userSlug).toBe('alice');
  });

  it('refuses a sub whose Matrix user id would be over 255 bytes on this server', async () => {
    // @om_acme_{slug}:{server}: 9 + slug + 1 + server bytes.
    const long = createUserVerifier(loadConfig({ ...env, MATRIX_SERVER_NAME: 's'.repeat(146) }));
    expect((await long(await token({ tenant: 'acme' }, { sub: 'u'.repeat(99) }))).userId).toHaveLength(255);
    expect(await rejection(long(await token({ tenant: 'acme' }, { sub: 'u'.repeat(100) })))).toMatch(
      /user JWT rejected: claim "sub" is too long: its Matrix user id would be 256 bytes, over Matrix's limit of 255/,
    );
  });

  it('checks the issuer only when one is configured', async () => {
    const strict = createUserVerifier(loadConfig({ ...env, USER_JWT_ISSUER: 'openmeet-api' }));
    expect(await rejection(strict(await token({ tenant: 'acme' }, { iss: 'someone-else' })))).toBe(
      'M_UNKNOWN_TOKEN: user JWT rejected: claim "iss" is invalid',
    );
    expect((await strict(await token({ tenant: 'acme' }, { iss: 'openmeet-api' }))).userSlug).toBe('alice');
  });

  it('says user JWTs are off when no key is configured', async () => {
    const off = createUserVerifier(loadConfig({ ...env, USER_JWT_SECRET: '' }));
    expect(await rejection(off(await token({ tenant: 'acme' })))).toMatch(
      /user JWTs are not enabled on this server \(set USER_JWT_SECRET or USER_JWT_JWKS_URL\)/,
    );
  });
});

describe('socketToken', () => {
  const from = (headers: Record<string, string>, query: Record<string, string> = {}) =>
    socketToken(
      (n) => headers[n],
      (n) => query[n],
    );
  it('prefers the Authorization header, then a bearer.<jwt> subprotocol, then ?access_token=', () => {
    expect(
      from(
        { authorization: 'Bearer h.h.h', 'sec-websocket-protocol': 'om-relay.v1, bearer.p.p.p' },
        { access_token: 'q' },
      ),
    ).toBe('h.h.h');
    expect(from({ 'sec-websocket-protocol': 'om-relay.v1, bearer.p.p.p' }, { access_token: 'q' })).toBe('p.p.p');
    expect(
      from({ authorization: 'Basic xyz', 'sec-websocket-protocol': 'om-relay.v1, bearer.' }, { access_token: 'q' }),
    ).toBe('q');
    expect(from({})).toBeNull();
  });
});

describe('relayAuthenticates', () => {
  it('covers the socket and the room message routes only', () => {
    expect(relayAuthenticates('/v1/realtime')).toBe(true);
    expect(relayAuthenticates('/v1/tenants/acme/rooms/event/x/messages')).toBe(true);
    expect(relayAuthenticates('/v1/tenants/acme/rooms/dm/a~b/typing')).toBe(true);
    expect(relayAuthenticates('/v1/tenants/acme/rooms/event/x/receipts')).toBe(true);
    expect(relayAuthenticates('/v1/tenants/acme/rooms/event/x/members/bob')).toBe(false);
    expect(relayAuthenticates('/v1/tenants/acme/users')).toBe(false);
    expect(relayAuthenticates('/v1/realtime/extra')).toBe(false);
  });
});
