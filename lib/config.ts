/**
 * The one place that reads the environment. Every variable is documented here with its default
 * and in the README's configuration table; a bad value fails fast with a message naming it.
 */

import { isIP } from 'node:net';
import { DEFAULT_POWER_LEVELS, SIMPLE_POWER_LEVELS, type PowerLevelTable } from './roles.js';

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

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
  matrix: {
    /** Client-server base URL of the homeserver, also serving the Synapse Admin API. */
    homeserverUrl: string;
    serverName: string;
    /** A server admin's Matrix user id; the worker logs in as it for the Admin API. */
    adminUserId: string;
    adminPassword: string;
    /** Prefix of every platform user's localpart: `{prefix}_{tenant}_{slug}`. */
    userPrefix: string;
    /** Application service tokens (the bot acts with asToken; Synapse pushes with hsToken). */
    asToken: string;
    hsToken: string;
    botLocalpart: string;
    /** The appservice registration's `id` (Synapse's ping endpoint names it). */
    appserviceId: string;
  };
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
  codec: {
    /** Origins allowed by CORS (the Temporal UI's), comma-separated. */
    corsOrigins: readonly string[];
    /**
     * How callers prove who they are (`CODEC_AUTH`, derived from the variables set when absent).
     * Null: nothing chosen — the API refuses to start (loadApiConfig) and the routes refuse every call.
     */
    auth: CodecAuth | null;
  };
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
  };
  /** User JWTs (minted by the platform backend) for the realtime relay; null secret and URL: disabled. */
  userJwt: {
    secret: Uint8Array | null;
    jwksUrl: URL | null;
    audience: string;
    /** Checked only when set. */
    issuer: string | null;
    /** Tokens issued (`iat`) longer ago than this are refused, whatever their `exp`. */
    maxAgeSeconds: number;
  };
  /** The realtime relay (api/relay/). */
  relay: RelayConfig;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

/**
 * The codec's credential: `token`, a shared bearer token (CODEC_ACCESS_TOKEN); `jwt`, the Temporal
 * UI user's access token verified against its identity provider's keys (CODEC_JWKS_URL); `none`,
 * no credential, only the CORS origin check — an explicit opt-out for a loopback-only stack.
 */
export type CodecAuth =
  | { mode: 'token'; token: string }
  | { mode: 'jwt'; jwksUrl: URL; audience: string | null; issuer: string | null }
  | { mode: 'none' };

export interface RelayConfig {
  /** How long events stay in the log; a client resuming from further back is told to refetch. */
  retentionHours: number;
  /** WebSocket ping interval; a socket that has not answered the previous ping is closed. */
  pingIntervalMs: number;
  /** Largest client frame accepted. */
  maxMessageBytes: number;
  /** Bytes queued to one socket beyond which it is cut off as a slow consumer. */
  maxBufferedBytes: number;
  /** Client frames per socket: sustained rate and burst. */
  ratePerSecond: number;
  rateBurst: number;
  /** Refuse a transaction that shows a gap in the homeserver's ids, once, so it sends what it held back (decision 0020). */
  gapSweep: boolean;
  /** Sockets one user may hold open on this instance (decision 0023). */
  maxSocketsPerUser: number;
  /** Sockets one client address may hold open on this instance; 0: no limit. */
  maxSocketsPerAddress: number;
  /** WebSocket handshakes this instance accepts per second, all clients together. */
  handshakesPerSecond: number;
  /** WebSocket handshakes per second from one client address; 0: no limit. */
  addressHandshakesPerSecond: number;
  /** HTTP sends, typing and receipts per user on this instance: sustained rate and burst. */
  httpRatePerSecond: number;
  httpRateBurst: number;
  /** Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client address; empty: none. */
  trustedProxies: readonly string[];
}

/**
 * How long we wait for our own database. The server-side settings stop work PostgreSQL is doing;
 * the client-side ones (connect, query) also hold when the server does not answer at all (paused,
 * partitioned). Migrations are exempt from the statement, lock and query bounds (activities/store/db.ts).
 */
export interface DatabaseConfig {
  /** Opening a connection, or waiting for a free one in the pool (`DATABASE_CONNECT_TIMEOUT_MS`, 5000). */
  connectTimeoutMs: number;
  /** PostgreSQL's `statement_timeout` (`DATABASE_STATEMENT_TIMEOUT_MS`, 10000). */
  statementTimeoutMs: number;
  /** PostgreSQL's `lock_timeout` (`DATABASE_LOCK_TIMEOUT_MS`, 5000). */
  lockTimeoutMs: number;
  /** PostgreSQL's `idle_in_transaction_session_timeout` (`DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`, 60000). */
  idleInTransactionTimeoutMs: number;
  /**
   * How long a query may go without an answer before the client gives up and drops the connection
   * (`DATABASE_QUERY_TIMEOUT_MS`, default the statement timeout + 2000: a slow statement is
   * cancelled by the server first, on a connection that stays usable).
   */
  queryTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new ConfigError(name, 'is required but not set');
  return v.trim();
}

function optional(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name, String(fallback));
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, name: string, value: string): URL {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u;
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got "${value}"`);
  }
}

/** `id:base64key[,id:base64key...]`, each key exactly 32 bytes (AES-256). */
export function parseKeys(name: string, raw: string): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const sep = part.indexOf(':');
    const id = sep > 0 ? part.slice(0, sep) : '';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new ConfigError(name, 'entries must look like "keyid:base64key"');
    const key = Buffer.from(part.slice(sep + 1), 'base64');
    if (key.length !== 32) throw new ConfigError(name, `key "${id}" must decode to 32 bytes, got ${key.length}`);
    if (keys.some((k) => k.id === id)) throw new ConfigError(name, `lists key "${id}" twice`);
    keys.push({ id, key });
  }
  if (keys.length === 0) throw new ConfigError(name, 'must list at least one key');
  return keys;
}

function powerLevels(env: Env): PowerLevelTable {
  const mode = optional(env, 'POWER_LEVEL_MODE', 'default');
  if (mode !== 'default' && mode !== 'simple') throw new ConfigError('POWER_LEVEL_MODE', 'must be "default" or "simple"');
  const base = mode === 'simple' ? SIMPLE_POWER_LEVELS : DEFAULT_POWER_LEVELS;
  const raw = env.POWER_LEVELS?.trim();
  if (!raw) return base;
  let patch: unknown;
  try {
    patch = JSON.parse(raw);
  } catch {
    throw new ConfigError('POWER_LEVELS', 'must be JSON like {"event":{"host":50}}');
  }
  const table: Record<string, Record<string, number>> = { event: { ...base.event }, group: { ...base.group }, dm: { ...base.dm } };
  for (const [kind, roles] of Object.entries(patch as Record<string, unknown>)) {
    const target = table[kind];
    if (!target || !roles || typeof roles !== 'object') throw new ConfigError('POWER_LEVELS', `has an unknown room kind "${kind}"`);
    for (const [role, level] of Object.entries(roles as Record<string, unknown>)) {
      if (!(role in target)) throw new ConfigError('POWER_LEVELS', `has an unknown ${kind} role "${role}"`);
      if (!Number.isInteger(level) || (level as number) < 0 || (level as number) > 100) {
        throw new ConfigError('POWER_LEVELS', `${kind}.${role} must be an integer from 0 to 100`);
      }
      target[role] = level as number;
    }
  }
  return table as unknown as PowerLevelTable;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = optional(env, name, String(fallback)).toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${v}"`);
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Parses an environment (default: the process's) into a frozen Config, or throws ConfigError. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const homeserverUrl = url(env, 'MATRIX_HOMESERVER_URL', optional(env, 'MATRIX_HOMESERVER_URL', 'http://127.0.0.1:8008'));
  const serverName = optional(env, 'MATRIX_SERVER_NAME', 'localhost');
  const adminUser = optional(env, 'MATRIX_ADMIN_USER', 'admin');
  const adminUserId = adminUser.startsWith('@') ? adminUser : `@${adminUser}:${serverName}`;
  const userPrefix = optional(env, 'MATRIX_USER_PREFIX', 'om');
  if (!/^[a-z0-9]{1,16}$/.test(userPrefix)) throw new ConfigError('MATRIX_USER_PREFIX', 'must be 1-16 of a-z0-9');

  const keys = parseKeys('TOKEN_ENCRYPTION_KEYS', required(env, 'TOKEN_ENCRYPTION_KEYS'));
  const activeKeyId = optional(env, 'TOKEN_ENCRYPTION_ACTIVE_KEY', keys[0]!.id);
  if (!keys.some((k) => k.id === activeKeyId)) {
    throw new ConfigError('TOKEN_ENCRYPTION_ACTIVE_KEY', `names "${activeKeyId}", which TOKEN_ENCRYPTION_KEYS does not list`);
  }

  const payloadKeys = parseKeys('PAYLOAD_ENCRYPTION_KEYS', required(env, 'PAYLOAD_ENCRYPTION_KEYS'));
  const payloadActive = optional(env, 'PAYLOAD_ENCRYPTION_ACTIVE_KEY', payloadKeys[0]!.id);
  if (!payloadKeys.some((k) => k.id === payloadActive)) {
    throw new ConfigError('PAYLOAD_ENCRYPTION_ACTIVE_KEY', `names "${payloadActive}", which PAYLOAD_ENCRYPTION_KEYS does not list`);
  }
  const secretRaw = env.SERVICE_JWT_SECRET?.trim() || '';
  const jwksRaw = env.SERVICE_JWT_JWKS_URL?.trim() || '';
  if (!secretRaw && !jwksRaw) throw new ConfigError('SERVICE_JWT_SECRET', 'or SERVICE_JWT_JWKS_URL must be set');
  if (secretRaw && jwksRaw) throw new ConfigError('SERVICE_JWT_SECRET', 'and SERVICE_JWT_JWKS_URL are exclusive');
  if (secretRaw && Buffer.byteLength(secretRaw) < 32) throw new ConfigError('SERVICE_JWT_SECRET', 'must be at least 32 bytes');

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
    matrix: {
      homeserverUrl: homeserverUrl.toString().replace(/\/$/, ''),
      serverName,
      adminUserId,
      adminPassword: required(env, 'MATRIX_ADMIN_PASSWORD'),
      userPrefix,
      asToken: required(env, 'MATRIX_AS_TOKEN'),
      hsToken: required(env, 'MATRIX_HS_TOKEN'),
      botLocalpart: optional(env, 'MATRIX_BOT_LOCALPART', 'openmeet-bot'),
      appserviceId: optional(env, 'MATRIX_APPSERVICE_ID', 'matrix-orchestrator'),
    },
    tokens: { keys, activeKeyId },
    payloads: { keys: payloadKeys, activeKeyId: payloadActive },
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
    },
    worker: {
      httpHost: optional(env, 'WORKER_HTTP_HOST', '127.0.0.1'),
      httpPort: integer(env, 'WORKER_HTTP_PORT', 9464, 0, 65535),
    },
    rooms: {
      powerLevels: powerLevels(env),
      purgeOnArchive: bool(env, 'ROOM_PURGE_ON_ARCHIVE', false),
      reconcileIntervalMinutes: integer(env, 'RECONCILE_INTERVAL_MINUTES', 15, 1, 10_080),
    },
    userJwt: userJwt(env),
    relay: relay(env),
    logLevel: logLevel as Config['logLevel'],
  };
  // relayAuth tells a user JWT from a service JWT by its audience: equal audiences would let one pass for the other.
  if (config.userJwt.audience === config.serviceJwt.audience) {
    throw new ConfigError('USER_JWT_AUDIENCE', `must differ from SERVICE_JWT_AUDIENCE (both are "${config.userJwt.audience}")`);
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

function codec(env: Env): Config['codec'] {
  const corsOrigins = optional(env, 'CODEC_CORS_ORIGINS', '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of corsOrigins) url(env, 'CODEC_CORS_ORIGINS', o);
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

function userJwt(env: Env): Config['userJwt'] {
  const secretRaw = env.USER_JWT_SECRET?.trim() || '';
  const jwksRaw = env.USER_JWT_JWKS_URL?.trim() || '';
  if (secretRaw && jwksRaw) throw new ConfigError('USER_JWT_SECRET', 'and USER_JWT_JWKS_URL are exclusive');
  if (secretRaw && Buffer.byteLength(secretRaw) < 32) throw new ConfigError('USER_JWT_SECRET', 'must be at least 32 bytes');
  return {
    secret: secretRaw ? new TextEncoder().encode(secretRaw) : null,
    jwksUrl: jwksRaw ? url(env, 'USER_JWT_JWKS_URL', jwksRaw) : null,
    audience: optional(env, 'USER_JWT_AUDIENCE', 'matrix-orchestrator-realtime'),
    issuer: optional(env, 'USER_JWT_ISSUER', '') || null,
    maxAgeSeconds: integer(env, 'USER_JWT_MAX_AGE_SECONDS', 86_400, 60, 2_592_000),
  };
}

/** Slack between the server's statement timeout and the client's own bound on a query. */
const QUERY_TIMEOUT_SLACK_MS = 2_000;

/** The database bounds of an empty environment, for tools that build a pool without a Config. */
export function defaultDatabaseConfig(): Readonly<DatabaseConfig> {
  return Object.freeze(database({}));
}

function database(env: Env): DatabaseConfig {
  const statementTimeoutMs = integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000);
  const queryTimeoutMs = integer(
    env,
    'DATABASE_QUERY_TIMEOUT_MS',
    statementTimeoutMs + QUERY_TIMEOUT_SLACK_MS,
    100,
    3_600_000 + QUERY_TIMEOUT_SLACK_MS,
  );
  if (queryTimeoutMs < statementTimeoutMs) {
    // The client would drop connections the server was about to answer on; say so instead.
    throw new ConfigError(
      'DATABASE_QUERY_TIMEOUT_MS',
      `must be at least DATABASE_STATEMENT_TIMEOUT_MS (${statementTimeoutMs}), got ${queryTimeoutMs}`,
    );
  }
  return {
    connectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5_000, 100, 600_000),
    statementTimeoutMs,
    lockTimeoutMs: integer(env, 'DATABASE_LOCK_TIMEOUT_MS', 5_000, 100, 3_600_000),
    idleInTransactionTimeoutMs: integer(env, 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, 1_000, 86_400_000),
    queryTimeoutMs,
  };
}

function relay(env: Env): RelayConfig {
  return {
    retentionHours: integer(env, 'RELAY_RETENTION_HOURS', 168, 1, 8760),
    pingIntervalMs: integer(env, 'RELAY_PING_INTERVAL_MS', 30_000, 1_000, 600_000),
    maxMessageBytes: integer(env, 'RELAY_MAX_MESSAGE_BYTES', 65_536, 1_024, 1_048_576),
    maxBufferedBytes: integer(env, 'RELAY_MAX_BUFFERED_BYTES', 1_048_576, 16_384, 67_108_864),
    ratePerSecond: integer(env, 'RELAY_RATE_PER_SECOND', 10, 1, 1_000),
    rateBurst: integer(env, 'RELAY_RATE_BURST', 30, 1, 10_000),
    gapSweep: bool(env, 'RELAY_GAP_SWEEP', true),
    maxSocketsPerUser: integer(env, 'RELAY_MAX_SOCKETS_PER_USER', 10, 1, 10_000),
    maxSocketsPerAddress: integer(env, 'RELAY_MAX_SOCKETS_PER_ADDRESS', 100, 0, 1_000_000),
    handshakesPerSecond: integer(env, 'RELAY_HANDSHAKES_PER_SECOND', 100, 1, 100_000),
    addressHandshakesPerSecond: integer(env, 'RELAY_ADDRESS_HANDSHAKES_PER_SECOND', 10, 0, 100_000),
    httpRatePerSecond: integer(env, 'RELAY_HTTP_RATE_PER_SECOND', 10, 1, 1_000),
    httpRateBurst: integer(env, 'RELAY_HTTP_RATE_BURST', 30, 1, 10_000),
    trustedProxies: trustedProxies(optional(env, 'RELAY_TRUSTED_PROXIES', '')),
  };
}

/** `RELAY_TRUSTED_PROXIES`: comma-separated IP addresses or CIDR ranges (`10.0.0.0/8`, `::1`). */
function trustedProxies(raw: string): string[] {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 6 ? 128 : 32;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!family || !prefixOk || rest.length > 0)
      throw new ConfigError('RELAY_TRUSTED_PROXIES', `must list IP addresses or CIDR ranges, got "${entry}"`);
  }
  return entries;
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === 'object' && !(o instanceof Uint8Array) && !(o instanceof URL)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
