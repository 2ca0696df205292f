/**
 * The one place that reads the environment (the sections in lib/config/ read the `env` handed to
 * them). Every variable is documented with its default here and in docs/configuration.md; a bad
 * value fails fast with a message naming it.
 */

import type { PowerLevelTable } from '../vocabulary/roles.js';
import { codec, userJwt, type CodecConfig, type UserJwtConfig } from './config/credentials.js';
import { database, type DatabaseConfig } from './config/database.js';
import { matrix, type MatrixConfig } from './config/matrix.js';
import { media, type MediaConfig } from './config/media.js';
import { offboarding, type OffboardingConfig } from './config/offboarding.js';
import { powerLevels } from './config/power-levels.js';
import {
  bool,
  ConfigError,
  integer,
  optional,
  keyring,
  origins,
  required,
  url,
  type EncryptionKey,
  type Env,
} from './config/read.js';
import { relay, type RelayConfig } from './config/relay.js';

export { ConfigError, parseKeys, type EncryptionKey } from './config/read.js';
export type { CodecAuth, CodecConfig, UserJwtConfig } from './config/credentials.js';
export { defaultDatabaseConfig, type DatabaseConfig } from './config/database.js';
export type { MatrixConfig } from './config/matrix.js';
export type { MediaConfig } from './config/media.js';
export type { AdoptedOffboarding, OffboardingConfig } from './config/offboarding.js';
export type { RelayConfig } from './config/relay.js';

export interface Config {
  /** PostgreSQL connection string. */
  databaseUrl: string;
  /** Bounds on every wait for PostgreSQL (decision 0024). */
  database: DatabaseConfig;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
  };
  matrix: MatrixConfig;
  tokens: {
    /** Keys for tokens at rest; `activeKeyId` encrypts, every listed key can decrypt. */
    keys: readonly EncryptionKey[];
    activeKeyId: string;
  };
  /** Keys of the Temporal payload codec (same format and rotation rules as the token keys). */
  payloads: {
    keys: readonly EncryptionKey[];
    activeKeyId: string;
  };
  /** The codec endpoint the Temporal UI calls to show decoded payloads. */
  codec: CodecConfig;
  serviceJwt: {
    /** HS256 shared secret, or (exclusive) a JWKS URL. */
    secret: Uint8Array | null;
    jwksUrl: URL | null;
    audience: string;
    issuer: string;
    /** Tokens issued (`iat`) longer ago than this are refused, whatever their `exp`. */
    maxAgeSeconds: number;
  };
  api: {
    host: string;
    port: number;
    /** How long a start endpoint waits for the outcome before answering 202. */
    waitMs: number;
    /** How long a write waits for a worker to accept it before answering 503 (no worker polling, or all overloaded). */
    acceptTimeoutMs: number;
    /** On SIGTERM, how long in-flight requests may take before their connections are cut. */
    shutdownGraceMs: number;
    /** Browser origins allowed to call `/v1` (CORS); empty: none. */
    corsOrigins: readonly string[];
  };
  worker: {
    /** Bind address and port of the worker's /metrics, /healthz, /readyz server (port 0: any free one). */
    httpHost: string;
    httpPort: number;
  };
  rooms: {
    /** Role → power level table (`POWER_LEVEL_MODE`, optionally patched by `POWER_LEVELS`). */
    powerLevels: PowerLevelTable;
    /** Purge archived rooms through the Admin API (history is deleted). */
    purgeOnArchive: boolean;
    /** How often each tenant's reconciliation schedule runs. */
    reconcileIntervalMinutes: number;
    /** How long a renamed room's old alias stays an alternative alias before it is removed. */
    oldAliasKeepSeconds: number;
  };
  /** User JWTs (minted by the platform backend) for the realtime relay; null secret and URL: disabled. */
  userJwt: UserJwtConfig;
  /** The realtime relay (api/relay/). */
  relay: RelayConfig;
  /** Attachments: uploads and signed download URLs (api/media/). */
  media: MediaConfig;
  /** The audit trail (decision 0060): entries older than this are deleted by the worker's sweeper. */
  audit: { retentionDays: number };
  /** Offboarding users: the erasure grace period, what is done to adopted accounts (decision 0056). */
  offboarding: OffboardingConfig;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Parses an environment (default: the process's) into a frozen Config, or throws ConfigError. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const tokens = keyring(
    ['TOKEN_ENCRYPTION_KEYS', required(env, 'TOKEN_ENCRYPTION_KEYS')],
    ['TOKEN_ENCRYPTION_ACTIVE_KEY', optional(env, 'TOKEN_ENCRYPTION_ACTIVE_KEY', '')],
  );
  const payloads = keyring(
    ['PAYLOAD_ENCRYPTION_KEYS', required(env, 'PAYLOAD_ENCRYPTION_KEYS')],
    ['PAYLOAD_ENCRYPTION_ACTIVE_KEY', optional(env, 'PAYLOAD_ENCRYPTION_ACTIVE_KEY', '')],
  );
  const secretRaw = env.SERVICE_JWT_SECRET?.trim() || '';
  const jwksRaw = env.SERVICE_JWT_JWKS_URL?.trim() || '';
  if (!secretRaw && !jwksRaw) throw new ConfigError('SERVICE_JWT_SECRET', 'or SERVICE_JWT_JWKS_URL must be set');
  if (secretRaw && jwksRaw) throw new ConfigError('SERVICE_JWT_SECRET', 'and SERVICE_JWT_JWKS_URL are exclusive');
  if (secretRaw && Buffer.byteLength(secretRaw) < 32)
    throw new ConfigError('SERVICE_JWT_SECRET', 'must be at least 32 bytes');

  const logLevel = optional(env, 'LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const config: Config = {
    databaseUrl: required(env, 'DATABASE_URL'),
    database: database(env),
    temporal: {
      address: optional(env, 'TEMPORAL_ADDRESS', '127.0.0.1:7233'),
      namespace: optional(env, 'TEMPORAL_NAMESPACE', 'default'),
      taskQueue: optional(env, 'TEMPORAL_TASK_QUEUE', 'matrix-orchestrator'),
    },
    matrix: matrix(env),
    tokens,
    payloads,
    codec: codec(env),
    serviceJwt: {
      secret: secretRaw ? new TextEncoder().encode(secretRaw) : null,
      jwksUrl: jwksRaw ? url(env, 'SERVICE_JWT_JWKS_URL', jwksRaw) : null,
      audience: optional(env, 'SERVICE_JWT_AUDIENCE', 'matrix-orchestrator'),
      issuer: optional(env, 'SERVICE_JWT_ISSUER', 'openmeet-api'),
      maxAgeSeconds: integer(env, 'SERVICE_JWT_MAX_AGE_SECONDS', 86_400, 60, 2_592_000),
    },
    api: {
      host: optional(env, 'API_HOST', '127.0.0.1'),
      port: integer(env, 'API_PORT', 8080, 0, 65535),
      waitMs: integer(env, 'API_WAIT_MS', 10_000, 0, 120_000),
      acceptTimeoutMs: integer(env, 'API_ACCEPT_TIMEOUT_MS', 30_000, 1_000, 600_000),
      shutdownGraceMs: integer(env, 'API_SHUTDOWN_GRACE_MS', 15_000, 0, 600_000),
      corsOrigins: origins(env, 'API_CORS_ORIGINS'),
    },
    worker: {
      httpHost: optional(env, 'WORKER_HTTP_HOST', '127.0.0.1'),
      httpPort: integer(env, 'WORKER_HTTP_PORT', 9464, 0, 65535),
    },
    rooms: {
      powerLevels: powerLevels(env),
      purgeOnArchive: bool(env, 'ROOM_PURGE_ON_ARCHIVE', false),
      reconcileIntervalMinutes: integer(env, 'RECONCILE_INTERVAL_MINUTES', 15, 1, 10_080),
      oldAliasKeepSeconds: integer(env, 'ROOM_OLD_ALIAS_KEEP_SECONDS', 2_592_000, 0, 315_360_000),
    },
    userJwt: userJwt(env),
    relay: relay(env),
    media: media(env),
    audit: { retentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 365, 1, 36_500) },
    offboarding: offboarding(env),
    logLevel: logLevel as Config['logLevel'],
  };
  if (config.rooms.purgeOnArchive && config.matrix.identityMode === 'appservice') {
    throw new ConfigError(
      'ROOM_PURGE_ON_ARCHIVE',
      'needs the Synapse Admin API, which MATRIX_IDENTITY_MODE=appservice does not use: leave it false (archived rooms are emptied and kept) or run in admin mode',
    );
  }
  // relayAuth tells a user JWT from a service JWT by its audience: equal audiences would let one pass for the other.
  if (config.userJwt.audience === config.serviceJwt.audience) {
    throw new ConfigError(
      'USER_JWT_AUDIENCE',
      `must differ from SERVICE_JWT_AUDIENCE (both are "${config.userJwt.audience}")`,
    );
  }
  return deepFreeze(config);
}

/**
 * loadConfig plus what only the API needs: a codec credential chosen. The codec decrypts every
 * workflow payload (message bodies, users' names), so it is never open by omission.
 */
export function loadApiConfig(env: Env = process.env): Readonly<Config> {
  const config = loadConfig(env);
  if (!config.codec.auth) {
    throw new ConfigError(
      'CODEC_AUTH',
      'is not set, nor CODEC_ACCESS_TOKEN or CODEC_JWKS_URL: /codec/* would decrypt payloads for anyone. ' +
        'Set CODEC_ACCESS_TOKEN or CODEC_JWKS_URL, or CODEC_AUTH=none to serve it without a credential (loopback only)',
    );
  }
  return config;
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === 'object' && !(o instanceof Uint8Array) && !(o instanceof URL)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** For a process's entry point: the configuration, or its one-line reason on stderr and exit code 2. */
export function configOrExit(load: () => Readonly<Config>): Readonly<Config> {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}
