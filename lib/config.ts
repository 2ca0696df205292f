/**
 * The one place that reads the environment. Every variable is documented here with its default
 * and in the README's configuration table; a bad value fails fast with a message naming it.
 */

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface Config {
  /** PostgreSQL connection string. */
  databaseUrl: string;
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
  };
  tokens: {
    /** Keys for tokens at rest; `activeKeyId` encrypts, every listed key can decrypt. */
    keys: readonly EncryptionKey[];
    activeKeyId: string;
  };
  serviceJwt: {
    /** HS256 shared secret, or (exclusive) a JWKS URL. */
    secret: Uint8Array | null;
    jwksUrl: URL | null;
    audience: string;
    issuer: string;
  };
  api: {
    host: string;
    port: number;
    /** How long a start endpoint waits for the outcome before answering 202. */
    waitMs: number;
  };
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
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
    },
    tokens: { keys, activeKeyId },
    serviceJwt: {
      secret: secretRaw ? new TextEncoder().encode(secretRaw) : null,
      jwksUrl: jwksRaw ? url(env, 'SERVICE_JWT_JWKS_URL', jwksRaw) : null,
      audience: optional(env, 'SERVICE_JWT_AUDIENCE', 'matrix-orchestrator'),
      issuer: optional(env, 'SERVICE_JWT_ISSUER', 'openmeet-api'),
    },
    api: {
      host: optional(env, 'API_HOST', '127.0.0.1'),
      port: integer(env, 'API_PORT', 8080, 0, 65535),
      waitMs: integer(env, 'API_WAIT_MS', 10_000, 0, 120_000),
    },
    logLevel: logLevel as Config['logLevel'],
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === 'object' && !(o instanceof Uint8Array) && !(o instanceof URL)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
