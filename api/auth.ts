import type { MiddlewareHandler } from 'hono';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../lib/config.js';
import { ApiError } from './errors.js';

/** What a verified service JWT grants: the tenants the platform backend may act for. */
export interface ServicePrincipal {
  subject: string | null;
  tenants: readonly string[] | '*';
}

export type AuthVariables = { principal: ServicePrincipal };

/**
 * Verifies the platform backend's service JWT: signature (HS256 secret or JWKS), `aud`, `iss`, a
 * required `exp`, and a `tenants` claim listing tenants or `["*"]`.
 */
export function serviceAuth(cfg: Config['serviceJwt']): MiddlewareHandler<{ Variables: AuthVariables }> {
  const jwks: JWTVerifyGetKey | null = cfg.jwksUrl ? createRemoteJWKSet(cfg.jwksUrl) : null;
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw new ApiError('M_MISSING_TOKEN', 'missing Authorization: Bearer <service JWT>');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new ApiError('M_MISSING_TOKEN', 'Authorization header must be "Bearer <service JWT>"');
    let payload: JWTPayload;
    try {
      const options = { audience: cfg.audience, issuer: cfg.issuer, requiredClaims: ['exp'] };
      const result = jwks ? await jwtVerify(m[1]!, jwks, options) : await jwtVerify(m[1]!, cfg.secret!, { ...options, algorithms: ['HS256'] });
      payload = result.payload;
    } catch (err) {
      throw new ApiError('M_UNKNOWN_TOKEN', `service JWT rejected: ${describeJoseError(err)}`);
    }
    const tenants = payload.tenants;
    if (!Array.isArray(tenants) || tenants.length === 0 || !tenants.every((t) => typeof t === 'string')) {
      throw new ApiError('M_UNKNOWN_TOKEN', 'service JWT rejected: claim "tenants" must be a non-empty array of strings');
    }
    c.set('principal', { subject: payload.sub ?? null, tenants: tenants.includes('*') ? '*' : (tenants as string[]) });
    await next();
  };
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim "${err.claim}" ${err.reason === 'missing' ? 'is missing' : 'is invalid'}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed token';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no matching key in the JWKS';
  return 'invalid token';
}

/** Throws 403 unless the principal may act for the tenant. */
export function assertTenant(principal: ServicePrincipal, tenant: string): void {
  if (principal.tenants !== '*' && !principal.tenants.includes(tenant)) {
    throw new ApiError('M_FORBIDDEN', `this service token may not act for tenant "${tenant}"`);
  }
}
