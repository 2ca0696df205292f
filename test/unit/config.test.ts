import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

const base = MINIMAL_ENV;

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const c = loadConfig(base);
    expect(c.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'matrix-orchestrator' });
    expect(c.matrix.homeserverUrl).toBe('http://127.0.0.1:8008');
    expect(c.matrix.adminUserId).toBe('@admin:localhost');
    expect(c.api).toEqual({ host: '127.0.0.1', port: 8080, waitMs: 10000, acceptTimeoutMs: 30000, shutdownGraceMs: 15000 });
    expect(c.worker).toEqual({ httpHost: '127.0.0.1', httpPort: 9464 });
    expect(c.tokens.activeKeyId).toBe('k1');
    expect(Object.isFrozen(c.matrix)).toBe(true);
  });

  it.each([
    [{ DATABASE_URL: '' }, /DATABASE_URL is required/],
    [{ API_PORT: 'eighty' }, /API_PORT must be a whole number/],
    [{ API_PORT: '70000' }, /API_PORT must be between/],
    [{ TOKEN_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }, /TOKEN_ENCRYPTION_KEYS key "k1" must decode to 32 bytes/],
    [{ TOKEN_ENCRYPTION_KEYS: 'nokey' }, /TOKEN_ENCRYPTION_KEYS entries must look like/],
    [{ TOKEN_ENCRYPTION_ACTIVE_KEY: 'k9' }, /TOKEN_ENCRYPTION_ACTIVE_KEY names "k9"/],
    [{ SERVICE_JWT_SECRET: 'short' }, /SERVICE_JWT_SECRET must be at least 32 bytes/],
    [{ SERVICE_JWT_SECRET: '' }, /SERVICE_JWT_SECRET or SERVICE_JWT_JWKS_URL must be set/],
    [{ SERVICE_JWT_JWKS_URL: 'https://idp.example/jwks' }, /are exclusive/],
    [{ MATRIX_HOMESERVER_URL: 'ftp://x' }, /MATRIX_HOMESERVER_URL must be an http\(s\) URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ WORKER_HTTP_PORT: '-1' }, /WORKER_HTTP_PORT must be a whole number/],
    [{ API_SHUTDOWN_GRACE_MS: '1e4' }, /API_SHUTDOWN_GRACE_MS must be a whole number/],
  ])('fails fast naming the variable: %j', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });
});
