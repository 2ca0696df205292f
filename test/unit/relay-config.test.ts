import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

const base = MINIMAL_ENV;

describe('relay configuration', () => {
  it('has documented defaults, and user JWTs off until a key is given', () => {
    const c = loadConfig(base);
    expect(c.relay).toEqual({
      retentionHours: 168,
      pingIntervalMs: 30_000,
      maxMessageBytes: 65_536,
      maxBufferedBytes: 1_048_576,
      ratePerSecond: 10,
      rateBurst: 30,
      gapSweep: true,
      maxSocketsPerUser: 10,
      maxSocketsPerAddress: 100,
      handshakesPerSecond: 100,
      addressHandshakesPerSecond: 10,
      httpRatePerSecond: 10,
      httpRateBurst: 30,
      trustedProxies: [],
    });
    expect(loadConfig({ ...base, RELAY_TRUSTED_PROXIES: ' 10.0.0.0/8, ::1 ,192.0.2.7' }).relay.trustedProxies).toEqual([
      '10.0.0.0/8',
      '::1',
      '192.0.2.7',
    ]);
    expect(loadConfig({ ...base, RELAY_GAP_SWEEP: 'false' }).relay.gapSweep).toBe(false);
    expect(c.userJwt).toEqual({
      secret: null,
      jwksUrl: null,
      audience: 'matrix-orchestrator-realtime',
      issuer: null,
      maxAgeSeconds: 86_400,
    });
    expect(c.matrix.appserviceId).toBe('matrix-orchestrator');
    expect(loadConfig({ ...base, USER_JWT_JWKS_URL: 'https://idp.example/jwks' }).userJwt.jwksUrl?.href).toBe(
      'https://idp.example/jwks',
    );
  });

  it.each([
    [{ USER_JWT_SECRET: 'short' }, /USER_JWT_SECRET must be at least 32 bytes/],
    [
      { USER_JWT_SECRET: 'y'.repeat(32), USER_JWT_JWKS_URL: 'https://idp.example/jwks' },
      /USER_JWT_SECRET and USER_JWT_JWKS_URL are exclusive/,
    ],
    [{ USER_JWT_JWKS_URL: 'not a url' }, /USER_JWT_JWKS_URL must be an http\(s\) URL/],
    [{ RELAY_RETENTION_HOURS: '0' }, /RELAY_RETENTION_HOURS must be between 1 and 8760/],
    [{ RELAY_MAX_MESSAGE_BYTES: 'big' }, /RELAY_MAX_MESSAGE_BYTES must be a whole number/],
    [{ RELAY_MAX_BUFFERED_BYTES: '100' }, /RELAY_MAX_BUFFERED_BYTES must be between/],
    [{ RELAY_RATE_PER_SECOND: '0' }, /RELAY_RATE_PER_SECOND must be between/],
    [{ RELAY_PING_INTERVAL_MS: '10' }, /RELAY_PING_INTERVAL_MS must be between/],
    [{ RELAY_GAP_SWEEP: 'sometimes' }, /RELAY_GAP_SWEEP must be true or false/],
    [{ RELAY_MAX_SOCKETS_PER_USER: '0' }, /RELAY_MAX_SOCKETS_PER_USER must be between 1 and/],
    [{ RELAY_MAX_SOCKETS_PER_ADDRESS: '-1' }, /RELAY_MAX_SOCKETS_PER_ADDRESS must be a whole number/],
    [{ RELAY_HANDSHAKES_PER_SECOND: '0' }, /RELAY_HANDSHAKES_PER_SECOND must be between 1 and/],
    [{ RELAY_ADDRESS_HANDSHAKES_PER_SECOND: 'lots' }, /RELAY_ADDRESS_HANDSHAKES_PER_SECOND must be a whole number/],
    [{ RELAY_HTTP_RATE_PER_SECOND: '0' }, /RELAY_HTTP_RATE_PER_SECOND must be between/],
    [{ RELAY_HTTP_RATE_BURST: '0' }, /RELAY_HTTP_RATE_BURST must be between/],
    [
      { RELAY_TRUSTED_PROXIES: '10.0.0.0/33' },
      /RELAY_TRUSTED_PROXIES must list IP addresses or CIDR ranges, got "10.0.0.0\/33"/,
    ],
    [{ RELAY_TRUSTED_PROXIES: 'proxy.local' }, /RELAY_TRUSTED_PROXIES must list IP addresses or CIDR ranges/],
  ])('fails fast naming the variable: %j', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });
});
