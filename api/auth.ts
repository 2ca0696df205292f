import type { MiddlewareHandler } from 'hono';
import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../lib/config.js';
import { canonicalTenant, tenantProblem } from '../vocabulary/ids.js';
import { ApiError } from './errors.js';

/** What a verified service JWT grants: the tenants the platform backend may act for. */
export interface ServicePrincipal {
  subject: string | null;
  tenants: readonly string[] | '*';
}

export type AuthVariables = { principal: ServicePrincipal };

/**
 * Verifies the platform backend's service JWT: signature (HS256 secret or JWKS), `aud`, `iss`, a
 * required `exp`, a required `iat` no older than SERVICE_JWT_MAX_AGE_SECONDS, and a `tenants`
 * claim listing tenants or `["*"]`.
 */
export function serviceAuth(cfg: Config['serviceJwt']): MiddlewareHandler<{ Variables: AuthVariables }> {
  const jwks: JWTVerifyGetKey | null = cfg.jwksUrl ? createRemoteJWKSet(cfg.jwksUrl) : null;
  // The HS256 key imported once: given the raw secret, jose imports it again on every request.
  const hmac = cfg.secret ? hmacVerifyKey(cfg.secret) : null;
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw new ApiError('M_MISSING_TOKEN', 'missing Authorization: Bearer <service JWT>');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new ApiError('M_MISSING_TOKEN', 'Authorization header must be "Bearer <service JWT>"');
    let payload: JWTPayload;
    try {
      // `iat` required: a long-lived token without it would never age out (tokenAgeProblem).
      const options = { audience: cfg.audience, issuer: cfg.issuer, requiredClaims: ['exp', 'iat'] };
      const result = jwks ? await jwtVerify(m[1]!, jwks, options) : await jwtVerify(m[1]!, await hmac!, { ...options, algorithms: ['HS256'] });
      payload = result.payload;
    } catch (err) {
      throw new ApiError('M_UNKNOWN_TOKEN', `service JWT rejected: ${describeJoseError(err)}`);
    }
    const tooOld = tokenAgeProblem(payload.iat, cfg.maxAgeSeconds, 'SERVICE_JWT_MAX_AGE_SECONDS');
    if (tooOld) throw new ApiError('M_UNKNOWN_TOKEN', `service JWT rejected: ${tooOld}`);
    const tenants = payload.tenants;
    if (!Array.isArray(tenants) || tenants.length === 0 || !tenants.every((t) => typeof t === 'string')) {
      throw new ApiError('M_UNKNOWN_TOKEN', 'service JWT rejected: claim "tenants" must be a non-empty array of strings');
    }
    // Compared in their canonical form, like the paths' tenants (decision 0033).
    const listed = tenants.includes('*') ? '*' : (tenants as string[]).map(canonicalTenant);
    c.set('principal', { subject: payload.sub ?? null, tenants: listed });
    await next();
  };
}

/** An HS256 verification key from the shared secret (WebCrypto, not extractable). */
function hmacVerifyKey(secret: Uint8Array): Promise<webcrypto.CryptoKey> {
  const key = webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  // Awaited by every request: a failure is told there, never as an unhandled rejection.
  key.catch(() => undefined);
  return key;
}

/** A jose verification failure in words a caller can act on (never the token itself). */
export function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim "${err.claim}" ${err.reason === 'missing' ? 'is missing' : 'is invalid'}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed token';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no matching key in the JWKS';
  return 'invalid token';
}

/**
 * How far ahead of ours the issuer's clock may be. `iat` is in whole seconds, so even a few
 * milliseconds of skew put a fresh token's `iat` a second in our future now and then; jose's
 * maxTokenAge would refuse those (it allows no skew unless exp gets the same leeway).
 */
const CLOCK_SKEW_SECONDS = 60;

/**
 * Why a verified token is too old — issued (`iat`) more than `maxAgeSeconds` ago, whatever its
 * `exp` — or dated in the future beyond the clock skew; null when its age is fine.
 */
export function tokenAgeProblem(iat: unknown, maxAgeSeconds: number, variable: string): string | null {
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'claim "iat" is missing';
  const age = Date.now() / 1000 - iat;
  if (age > maxAgeSeconds) return `token was issued more than ${maxAgeSeconds} s (${variable}) ago`;
  if (age < -CLOCK_SKEW_SECONDS) return 'claim "iat" is in the future';
  return null;
}

/**
 * A tenant as a request names it (upper case allowed), in its canonical form (decision 0033),
 * once the principal may act for it: a 400 naming what is wrong with it, or a 403.
 */
export function authorizedTenant(principal: ServicePrincipal, raw: string): string {
  const tenant = canonicalTenant(raw);
  const problem = tenantProblem(tenant);
  if (problem) throw new ApiError('M_INVALID_PARAM', problem);
  assertTenant(principal, tenant);
  return tenant;
}

/** Throws 403 unless the principal may act for the tenant (canonical, as authorizedTenant gives it). */
export function assertTenant(principal: ServicePrincipal, tenant: string): void {
  if (principal.tenants !== '*' && !principal.tenants.includes(tenant)) {
    throw new ApiError('M_FORBIDDEN', `this service token may not act for tenant "${tenant}"`);
  }
}
