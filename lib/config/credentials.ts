/** Who may call the codec, and how user JWTs are checked (`CODEC_*`, `USER_JWT_*`). */
import { ConfigError, integer, optional, origins, url, type Env } from './read.js';

/**
 * The codec's credential: `token`, a shared bearer token (CODEC_ACCESS_TOKEN); `jwt`, the Temporal
 * UI user's access token verified against its identity provider's keys (CODEC_JWKS_URL); `none`,
 * no credential, only the CORS origin check — an explicit opt-out for a loopback-only stack.
 */
export type CodecAuth =
  | { mode: 'token'; token: string }
  | { mode: 'jwt'; jwksUrl: URL; audience: string | null; issuer: string | null }
  | { mode: 'none' };

/** The codec endpoint the Temporal UI calls to show decoded payloads. */
export interface CodecConfig {
  /** Origins allowed by CORS (the Temporal UI's), comma-separated. */
  corsOrigins: readonly string[];
  /**
   * How callers prove who they are (`CODEC_AUTH`, derived from the variables set when absent).
   * Null: nothing chosen — the API refuses to start (loadApiConfig) and the routes refuse every call.
   */
  auth: CodecAuth | null;
}

/** User JWTs (minted by the platform backend) for the realtime relay; null secret and URL: disabled. */
export interface UserJwtConfig {
  secret: Uint8Array | null;
  jwksUrl: URL | null;
  audience: string;
  /** Checked only when set. */
  issuer: string | null;
  /** Tokens issued (`iat`) longer ago than this are refused, whatever their `exp`. */
  maxAgeSeconds: number;
}

export function codec(env: Env): CodecConfig {
  const corsOrigins = origins(env, 'CODEC_CORS_ORIGINS');
  const token = optional(env, 'CODEC_ACCESS_TOKEN', '');
  const jwksRaw = optional(env, 'CODEC_JWKS_URL', '');
  const mode = optional(env, 'CODEC_AUTH', token ? 'token' : jwksRaw ? 'jwt' : '');
  // The unused one would look like protection it is not.
  if (mode !== 'token' && token) throw new ConfigError('CODEC_ACCESS_TOKEN', `is set but CODEC_AUTH is "${mode}"`);
  if (mode !== 'jwt' && jwksRaw) throw new ConfigError('CODEC_JWKS_URL', `is set but CODEC_AUTH is "${mode}"`);
  const audience = optional(env, 'CODEC_JWT_AUDIENCE', '') || null;
  const issuer = optional(env, 'CODEC_JWT_ISSUER', '') || null;
  switch (mode) {
    case '':
      return { corsOrigins, auth: null };
    case 'none':
      return { corsOrigins, auth: { mode } };
    case 'token':
      if (!token) throw new ConfigError('CODEC_ACCESS_TOKEN', 'is required when CODEC_AUTH=token');
      if (Buffer.byteLength(token) < 32) throw new ConfigError('CODEC_ACCESS_TOKEN', 'must be at least 32 bytes');
      return { corsOrigins, auth: { mode, token } };
    case 'jwt':
      if (!jwksRaw) throw new ConfigError('CODEC_JWKS_URL', 'is required when CODEC_AUTH=jwt');
      return { corsOrigins, auth: { mode, jwksUrl: url(env, 'CODEC_JWKS_URL', jwksRaw), audience, issuer } };
    default:
      throw new ConfigError('CODEC_AUTH', `must be token, jwt or none, got "${mode}"`);
  }
}

export function userJwt(env: Env): UserJwtConfig {
  const secretRaw = env.USER_JWT_SECRET?.trim() || '';
  const jwksRaw = env.USER_JWT_JWKS_URL?.trim() || '';
  if (secretRaw && jwksRaw) throw new ConfigError('USER_JWT_SECRET', 'and USER_JWT_JWKS_URL are exclusive');
  if (secretRaw && Buffer.byteLength(secretRaw) < 32)
    throw new ConfigError('USER_JWT_SECRET', 'must be at least 32 bytes');
  return {
    secret: secretRaw ? new TextEncoder().encode(secretRaw) : null,
    jwksUrl: jwksRaw ? url(env, 'USER_JWT_JWKS_URL', jwksRaw) : null,
    audience: optional(env, 'USER_JWT_AUDIENCE', 'matrix-orchestrator-realtime'),
    issuer: optional(env, 'USER_JWT_ISSUER', '') || null,
    maxAgeSeconds: integer(env, 'USER_JWT_MAX_AGE_SECONDS', 86_400, 60, 2_592_000),
  };
}
