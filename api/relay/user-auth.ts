/**
 * User JWTs: minted by the platform backend for one user of one tenant (`sub` = the user's slug,
 * `tenant`, `aud` = USER_JWT_AUDIENCE, a required `exp`, a required `iat` no older than
 * USER_JWT_MAX_AGE_SECONDS; `iss` checked when USER_JWT_ISSUER is set),
 * verified with jose against USER_JWT_SECRET (HS256) or the keys at USER_JWT_JWKS_URL.
 */
import type { MiddlewareHandler } from 'hono';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../../lib/config.js';
import { canActAs } from '../../vocabulary/identity.js';
import { canonicalTenant, matrixUserId, slugProblem, tenantProblem, userIdProblem } from '../../vocabulary/ids.js';
import { describeJoseError, serviceAuth, tokenAgeProblem, type ServicePrincipal } from '../auth.js';
import { identityScope } from '../../adapters/identity/index.js';
import type { UserDirectory } from '../user-directory.js';
import type { ApiEnv } from '../env.js';
import { ApiError } from '../errors.js';
import { TOKEN_PROTOCOL_PREFIX } from './protocol.js';

export interface UserPrincipal {
  tenant: string;
  userSlug: string;
  /** The user's Matrix account: their binding (adopted, renamed), else the id their slug derives. */
  userId: string;
  /** The service can send, type and read as the user; false: only their own client can (OM_USER_NOT_MANAGED). */
  canActAs: boolean;
  /** `exp`, or `iat` + USER_JWT_MAX_AGE_SECONDS when sooner, in seconds since the epoch. */
  expiresAt: number;
}

export type UserVerifier = (token: string) => Promise<UserPrincipal>;

/**
 * Verifies a user JWT into the user it speaks for; throws `M_UNKNOWN_TOKEN` naming the problem, or
 * `OM_USER_RENAMED` for a slug renamed since. The account is looked up in `directory` (without one,
 * in unit tests, it is the id the slug derives).
 */
export function createUserVerifier(
  config: Pick<Config, 'userJwt' | 'matrix'>,
  directory?: UserDirectory,
): UserVerifier {
  const cfg = config.userJwt;
  const jwks: JWTVerifyGetKey | null = cfg.jwksUrl ? createRemoteJWKSet(cfg.jwksUrl) : null;
  return async (token) => {
    if (!jwks && !cfg.secret)
      throw new ApiError(
        'M_UNKNOWN_TOKEN',
        'user JWTs are not enabled on this server (set USER_JWT_SECRET or USER_JWT_JWKS_URL)',
      );
    let payload: JWTPayload;
    try {
      const options = {
        audience: cfg.audience,
        // `iat` required: a long-lived token without it would never age out (tokenAgeProblem).
        requiredClaims: ['exp', 'sub', 'iat'],
        ...(cfg.issuer ? { issuer: cfg.issuer } : {}),
      };
      payload = (
        jwks
          ? await jwtVerify(token, jwks, options)
          : await jwtVerify(token, cfg.secret!, { ...options, algorithms: ['HS256'] })
      ).payload;
    } catch (err) {
      throw new ApiError('M_UNKNOWN_TOKEN', `user JWT rejected: ${describeJoseError(err)}`);
    }
    const tooOld = tokenAgeProblem(payload.iat, cfg.maxAgeSeconds, 'USER_JWT_MAX_AGE_SECONDS');
    if (tooOld) throw new ApiError('M_UNKNOWN_TOKEN', `user JWT rejected: ${tooOld}`);
    const { sub, exp } = payload;
    // The claim's tenant in its canonical form, as the paths' (decision 0033).
    const tenant = typeof payload.tenant === 'string' ? canonicalTenant(payload.tenant) : payload.tenant;
    if (typeof tenant !== 'string' || tenantProblem(tenant))
      throw new ApiError('M_UNKNOWN_TOKEN', 'user JWT rejected: claim "tenant" must be a tenant id');
    if (typeof sub !== 'string' || slugProblem(sub))
      throw new ApiError('M_UNKNOWN_TOKEN', 'user JWT rejected: claim "sub" must be a user slug');
    const tooLong = userIdProblem(config.matrix.userPrefix, config.matrix.serverName, tenant, sub, 'claim "sub"');
    if (tooLong) throw new ApiError('M_UNKNOWN_TOKEN', `user JWT rejected: ${tooLong}`);
    const user = directory
      ? await directory.resolve(tenant, sub)
      : ((id) => ({ userId: id, canActAs: canActAs(identityScope(config), id) }))(
          matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, sub),
        );
    return {
      tenant,
      userSlug: sub,
      userId: user.userId,
      canActAs: user.canActAs,
      // A socket lives on the token it opened with: it ends when the token ends or ages out, whichever is first.
      expiresAt: Math.min(exp!, (payload.iat as number) + cfg.maxAgeSeconds),
    };
  };
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The token of a WebSocket handshake, in order of preference: `Authorization: Bearer`, a
 * `bearer.<jwt>` entry of `Sec-WebSocket-Protocol` (what browsers can set), `?access_token=`.
 */
export function socketToken(
  header: (name: string) => string | undefined,
  query: (name: string) => string | undefined,
): string | null {
  const auth = header('authorization');
  const m = auth ? BEARER.exec(auth) : null;
  if (m) return m[1]!;
  const offered = (header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  const fromProtocol = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  if (fromProtocol && fromProtocol.length > TOKEN_PROTOCOL_PREFIX.length)
    return fromProtocol.slice(TOKEN_PROTOCOL_PREFIX.length);
  return query('access_token') || null;
}

/** Whom a relay HTTP request acts for: a user (user JWT) or the platform backend (service JWT). */
export type Actor = { kind: 'user'; user: UserPrincipal } | { kind: 'service'; principal: ServicePrincipal };
export type RelayEnv = { Variables: ApiEnv['Variables'] & { actor: Actor } };

/** Routes that authenticate themselves (user or service JWT) instead of the service-only `/v1/*` check. */
const RELAY_AUTH_PATHS =
  /^\/v1\/(realtime|tenants\/[^/]+\/(rooms\/[^/]+\/[^/]+\/(messages(\/[^/]+(\/reactions)?)?|typing|receipts|media)|me\/(rooms|search)))$|^\/v1\/media\//;
export const relayAuthenticates = (path: string): boolean => RELAY_AUTH_PATHS.test(path);

/**
 * Accepts a user JWT (recognised by its audience) or a service JWT (checked exactly as on every
 * other `/v1` route). So the two audiences must differ.
 */
export function relayAuth(
  config: Pick<Config, 'userJwt' | 'matrix' | 'serviceJwt'>,
  directory?: UserDirectory,
): MiddlewareHandler<RelayEnv> {
  const verifyUser = createUserVerifier(config, directory);
  const service = serviceAuth(config.serviceJwt);
  return async (c, next) => {
    const token = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
    let aud: unknown;
    try {
      aud = token ? decodeJwt(token).aud : undefined;
    } catch {
      aud = undefined;
    }
    if (token && (aud === config.userJwt.audience || (Array.isArray(aud) && aud.includes(config.userJwt.audience)))) {
      c.set('actor', { kind: 'user', user: await verifyUser(token) });
      return next();
    }
    // serviceAuth is typed for its own variables; the context is the same object.
    return service(c as unknown as Parameters<typeof service>[0], async () => {
      c.set('actor', { kind: 'service', principal: c.get('principal') });
      await next();
    });
  };
}
