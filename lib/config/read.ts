/** Reading one variable: the helpers every section of the configuration (lib/config.ts) parses with. */

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new ConfigError(name, 'is required but not set');
  return v.trim();
}

export function optional(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name, String(fallback));
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function url(env: Env, name: string, value: string): URL {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u;
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got "${value}"`);
  }
}

/**
 * A comma-separated list of browser origins allowed by CORS (`https://app.example`, scheme, host
 * and port only), each written as browsers send it in `Origin`. `*` is refused: origins are
 * always named, so a credentialed request can never be allowed from anywhere. Empty: none.
 */
export function origins(env: Env, name: string): readonly string[] {
  const listed = optional(env, name, '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return listed.map((o) => {
    if (o === '*') throw new ConfigError(name, 'must name each origin; "*" is not allowed');
    const u = url(env, name, o);
    if (u.pathname !== '/' || u.search || u.hash || u.username)
      throw new ConfigError(name, `lists "${o.slice(0, 80)}", which is not an origin (scheme://host[:port], nothing after)`);
    return u.origin;
  });
}

/** One of a fixed set of words; anything else names the variable and the words it accepts. */
export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw.slice(0, 40)}"`);
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = optional(env, name, String(fallback)).toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${v}"`);
}

/** `id:base64key[,id:base64key...]`, each key exactly 32 bytes (AES-256). */
export function parseKeys(name: string, raw: string): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
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

/**
 * A keyring: the keys of `KEYS` (every one decrypts) and the one `ACTIVE` names (it encrypts; the
 * first listed when unset). Each pair is `[variable, value]`.
 */
export function keyring(
  [keysName, keysRaw]: [string, string],
  [activeName, activeRaw]: [string, string],
): { keys: EncryptionKey[]; activeKeyId: string } {
  const keys = parseKeys(keysName, keysRaw);
  const activeKeyId = activeRaw || keys[0]!.id;
  if (!keys.some((k) => k.id === activeKeyId))
    throw new ConfigError(activeName, `names "${activeKeyId}", which ${keysName} does not list`);
  return { keys, activeKeyId };
}
