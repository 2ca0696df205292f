import { describe, expect, it } from '@jest/globals';
import { loadApiConfig, loadConfig } from '../../lib/config.js';
import { ROLES_BY_KIND, ROOM_KINDS } from '../../vocabulary/ids.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

const base = MINIMAL_ENV;

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const c = loadConfig(base);
    expect(c.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'matrix-orchestrator' });
    expect(c.matrix.homeserverUrl).toBe('http://127.0.0.1:8008');
    expect(c.matrix.adminUserId).toBe('@admin:localhost');
    expect(c.api).toEqual({ host: '127.0.0.1', port: 8080, waitMs: 10000, acceptTimeoutMs: 30000, shutdownGraceMs: 15000, corsOrigins: [] });
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
    [{ CODEC_AUTH: 'open' }, /CODEC_AUTH must be token, jwt or none, got "open"/],
    [{ CODEC_AUTH: 'token' }, /CODEC_ACCESS_TOKEN is required when CODEC_AUTH=token/],
    [{ CODEC_ACCESS_TOKEN: 'short' }, /CODEC_ACCESS_TOKEN must be at least 32 bytes/],
    [{ CODEC_AUTH: 'jwt' }, /CODEC_JWKS_URL is required when CODEC_AUTH=jwt/],
    [{ CODEC_JWKS_URL: 'idp.example/jwks' }, /CODEC_JWKS_URL must be an http\(s\) URL/],
    [{ CODEC_AUTH: 'none', CODEC_ACCESS_TOKEN: 'c'.repeat(32) }, /CODEC_ACCESS_TOKEN is set but CODEC_AUTH is "none"/],
    [{ CODEC_ACCESS_TOKEN: 'c'.repeat(32), CODEC_JWKS_URL: 'https://idp.example/jwks' }, /CODEC_JWKS_URL is set but CODEC_AUTH is "token"/],
    [{ USER_JWT_AUDIENCE: 'matrix-orchestrator' }, /USER_JWT_AUDIENCE must differ from SERVICE_JWT_AUDIENCE/],
    [{ SERVICE_JWT_AUDIENCE: 'shared', USER_JWT_AUDIENCE: 'shared' }, /USER_JWT_AUDIENCE must differ from SERVICE_JWT_AUDIENCE \(both are "shared"\)/],
    [{ SERVICE_JWT_MAX_AGE_SECONDS: '0' }, /SERVICE_JWT_MAX_AGE_SECONDS must be between 60 and 2592000/],
    [{ USER_JWT_MAX_AGE_SECONDS: '1d' }, /USER_JWT_MAX_AGE_SECONDS must be a whole number/],
    [{ API_CORS_ORIGINS: '*' }, /API_CORS_ORIGINS must name each origin; "\*" is not allowed/],
    [{ API_CORS_ORIGINS: 'https://app.example, *' }, /API_CORS_ORIGINS must name each origin/],
    [{ API_CORS_ORIGINS: 'app.example' }, /API_CORS_ORIGINS must be an http\(s\) URL, got "app.example"/],
    [{ API_CORS_ORIGINS: 'https://app.example/chat' }, /API_CORS_ORIGINS lists "https:\/\/app.example\/chat", which is not an origin/],
    [{ CODEC_CORS_ORIGINS: '*' }, /CODEC_CORS_ORIGINS must name each origin/],
    [{ POWER_LEVELS: '{"event":{"attendee":10}}' }, /POWER_LEVELS has an unknown event role "attendee"/],
    [{ POWER_LEVELS: '{"group":{"guest":101}}' }, /POWER_LEVELS group.guest must be an integer from 0 to 100/],
  ])('fails fast naming the variable: %j', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });

  it('reads API_CORS_ORIGINS as the origins browsers send (several, comma-separated), none by default', () => {
    const c = loadConfig({ ...base, API_CORS_ORIGINS: 'https://app.example, http://127.0.0.1:5173' });
    expect(c.api.corsOrigins).toEqual(['https://app.example', 'http://127.0.0.1:5173']);
    expect(loadConfig({ ...base, API_CORS_ORIGINS: 'HTTPS://App.Example:443' }).api.corsOrigins).toEqual(['https://app.example']);
  });

  it("gives every role of each room kind a power level, the platform's own roles included, patchable by POWER_LEVELS", () => {
    for (const mode of ['default', 'simple']) {
      const table = loadConfig({ ...base, POWER_LEVEL_MODE: mode }).rooms.powerLevels;
      for (const kind of ROOM_KINDS) expect(Object.keys(table[kind]).sort()).toEqual([...ROLES_BY_KIND[kind]].sort());
    }
    const patched = loadConfig({ ...base, POWER_LEVELS: '{"event":{"participant":10},"group":{"guest":5}}' }).rooms.powerLevels;
    expect(patched.event).toMatchObject({ participant: 10, guest: 0, host: 100 });
    expect(patched.group).toMatchObject({ guest: 5, member: 0, owner: 100 });
  });

  it('limits service and user JWTs to 24 hours since their iat by default', () => {
    const c = loadConfig(base);
    expect(c.serviceJwt.maxAgeSeconds).toBe(86_400);
    expect(c.userJwt.maxAgeSeconds).toBe(86_400);
    expect(loadConfig({ ...base, USER_JWT_MAX_AGE_SECONDS: '3600' }).userJwt.maxAgeSeconds).toBe(3600);
  });

  it('derives the codec credential from what is set, and leaves it unchosen when nothing is', () => {
    expect(loadConfig(base).codec.auth).toBeNull();
    expect(loadConfig({ ...base, CODEC_ACCESS_TOKEN: 'c'.repeat(32) }).codec.auth).toEqual({ mode: 'token', token: 'c'.repeat(32) });
    const jwt = loadConfig({ ...base, CODEC_JWKS_URL: 'https://idp.example/jwks', CODEC_JWT_AUDIENCE: 'ui' }).codec.auth;
    expect(jwt).toMatchObject({ mode: 'jwt', audience: 'ui', issuer: null });
    expect(jwt?.mode === 'jwt' && jwt.jwksUrl.href).toBe('https://idp.example/jwks');
    expect(loadConfig({ ...base, CODEC_AUTH: 'none' }).codec.auth).toEqual({ mode: 'none' });
  });

  it('refuses an API configuration with no codec credential, naming the ways to give one', () => {
    expect(() => loadApiConfig(base)).toThrow(/CODEC_AUTH is not set, nor CODEC_ACCESS_TOKEN or CODEC_JWKS_URL.*CODEC_AUTH=none/);
    expect(loadApiConfig({ ...base, CODEC_AUTH: 'none' }).codec.auth?.mode).toBe('none');
  });
});

describe('loadConfig: database bounds', () => {
  it('defaults to bounds that never cut a request-path query, the client waiting 2 s past the server', () => {
    expect(loadConfig(base).database).toEqual({
      connectTimeoutMs: 5000,
      statementTimeoutMs: 10000,
      lockTimeoutMs: 5000,
      idleInTransactionTimeoutMs: 60000,
      queryTimeoutMs: 12000,
    });
    expect(Object.isFrozen(loadConfig(base).database)).toBe(true);
  });

  it('reads each variable, and derives the query timeout from the statement timeout unless set', () => {
    const c = loadConfig({
      ...base,
      DATABASE_CONNECT_TIMEOUT_MS: '250',
      DATABASE_STATEMENT_TIMEOUT_MS: '800',
      DATABASE_LOCK_TIMEOUT_MS: '300',
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1500',
    });
    expect(c.database).toEqual({
      connectTimeoutMs: 250,
      statementTimeoutMs: 800,
      lockTimeoutMs: 300,
      idleInTransactionTimeoutMs: 1500,
      queryTimeoutMs: 2800,
    });
    const explicit = loadConfig({ ...base, DATABASE_STATEMENT_TIMEOUT_MS: '800', DATABASE_QUERY_TIMEOUT_MS: '900' });
    expect(explicit.database.queryTimeoutMs).toBe(900);
    // Empty means the default (compose passes `${DATABASE_QUERY_TIMEOUT_MS:-}`).
    expect(loadConfig({ ...base, DATABASE_QUERY_TIMEOUT_MS: '' }).database.queryTimeoutMs).toBe(12000);
  });

  it.each([
    [{ DATABASE_CONNECT_TIMEOUT_MS: '5s' }, /DATABASE_CONNECT_TIMEOUT_MS must be a whole number, got "5s"/],
    [{ DATABASE_CONNECT_TIMEOUT_MS: '0' }, /DATABASE_CONNECT_TIMEOUT_MS must be between 100 and 600000/],
    [{ DATABASE_STATEMENT_TIMEOUT_MS: '0' }, /DATABASE_STATEMENT_TIMEOUT_MS must be between 100/],
    [{ DATABASE_STATEMENT_TIMEOUT_MS: '-1' }, /DATABASE_STATEMENT_TIMEOUT_MS must be a whole number/],
    [{ DATABASE_LOCK_TIMEOUT_MS: '1.5' }, /DATABASE_LOCK_TIMEOUT_MS must be a whole number/],
    [{ DATABASE_LOCK_TIMEOUT_MS: '99' }, /DATABASE_LOCK_TIMEOUT_MS must be between 100/],
    [
      { DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '999' },
      /DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS must be between 1000 and/,
    ],
    [{ DATABASE_QUERY_TIMEOUT_MS: 'never' }, /DATABASE_QUERY_TIMEOUT_MS must be a whole number/],
    [
      { DATABASE_STATEMENT_TIMEOUT_MS: '5000', DATABASE_QUERY_TIMEOUT_MS: '4000' },
      /DATABASE_QUERY_TIMEOUT_MS must be at least DATABASE_STATEMENT_TIMEOUT_MS \(5000\), got 4000/,
    ],
  ])('fails fast naming the database variable: %j', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });
});
