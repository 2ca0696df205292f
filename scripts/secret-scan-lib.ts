/** The search behind `scripts/secret-scan.ts`, separate so a test can prove it finds what it should. */

export interface Finding {
  where: string;
  secret: string;
}

/** Secrets shorter than this are not searched (they would match by accident). */
const MIN_SECRET_LENGTH = 12;

/** The forms a secret may take in stored text: as is, hex (bytea), base64 (payload data). */
export function secretForms(secret: string): string[] {
  const b = Buffer.from(secret);
  return [secret, b.toString('hex'), b.toString('base64').replace(/=+$/, '')];
}

/** Every secret (by name) that occurs in `text` in any of its forms. */
export function findSecrets(text: string, secrets: ReadonlyMap<string, string>, where: string): Finding[] {
  const found: Finding[] = [];
  for (const [name, value] of secrets) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    if (secretForms(value).some((f) => text.includes(f))) found.push({ where, secret: name });
  }
  return found;
}

/**
 * A JSON document (a Temporal history) with every base64 `data` field also decoded, so a secret
 * inside an unencrypted payload is found even though the JSON shows it base64-encoded.
 */
export function withDecodedData(json: unknown): string {
  const parts: string[] = [JSON.stringify(json)];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'data' && typeof v === 'string') parts.push(Buffer.from(v, 'base64').toString('latin1'));
        else walk(v);
      }
    }
  };
  walk(json);
  return parts.join('\n');
}

/** The secrets of a configuration environment: tokens, passwords, JWT secrets, key material. */
export function secretsOfEnv(env: Record<string, string | undefined>): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value || !/(TOKEN|SECRET|PASSWORD|_KEYS)$/.test(name) || name === 'TOKEN_ENCRYPTION_ACTIVE_KEY') continue;
    if (name.endsWith('_KEYS')) {
      for (const entry of value.split(',')) {
        const key = entry.slice(entry.indexOf(':') + 1);
        if (key) secrets.set(`${name}[${entry.slice(0, entry.indexOf(':'))}]`, key);
      }
    } else secrets.set(name, value);
  }
  return secrets;
}
