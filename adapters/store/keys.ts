import type { TokenCipher } from '../../lib/token-cipher.js';
import { UndecryptableTokenError } from '../../lib/token-cipher.js';
import type { Db } from './db.js';
import { webhookSecretAad } from './webhooks.js';

const aad = (tenant: string, slug: string): string => `matrix-token:${tenant}:${slug}`;

/**
 * Fails (with a message naming the key) when stored tokens use a key that is not configured or
 * does not decrypt them: better to refuse to start than to fail every user action later.
 */
export async function verifyTokenKeys(db: Db, cipher: TokenCipher): Promise<void> {
  const r = await db.query<{ token_key_id: string; tenant: string; slug: string; token_ciphertext: Buffer }>(
    `SELECT DISTINCT ON (token_key_id) token_key_id, tenant, slug, token_ciphertext
     FROM matrix_users WHERE token_key_id IS NOT NULL ORDER BY token_key_id, updated_at DESC`,
  );
  for (const row of r.rows) {
    try {
      cipher.open({ keyId: row.token_key_id, ciphertext: row.token_ciphertext }, aad(row.tenant, row.slug));
    } catch (err) {
      if (!(err instanceof UndecryptableTokenError)) throw err;
      throw new Error(
        `TOKEN_ENCRYPTION_KEYS: stored tokens are sealed with key "${row.token_key_id}", which ${
          /not configured/.test(err.message) ? 'is not configured' : 'does not decrypt them (wrong key for that id)'
        }; configure it (rotate with \`npm run rotate-keys\` before removing it)`,
      );
    }
  }
}

export interface RotationReport {
  activeKeyId: string;
  rotated: number;
  alreadyActive: number;
}

/**
 * Re-encrypts every stored token under the active key, in batches, each row compare-and-set on
 * its old ciphertext so a token renewed meanwhile is never overwritten. Processes that know both
 * keys keep working throughout: no downtime.
 */
export async function rotateTokenKeys(db: Db, cipher: TokenCipher, batchSize = 500): Promise<RotationReport> {
  let rotated = 0;
  for (;;) {
    const r = await db.query<{ tenant: string; slug: string; token_key_id: string; token_ciphertext: Buffer }>(
      `SELECT tenant, slug, token_key_id, token_ciphertext FROM matrix_users
       WHERE token_key_id IS NOT NULL AND token_key_id <> $1 LIMIT $2`,
      [cipher.activeKey, batchSize],
    );
    if (r.rows.length === 0) break;
    for (const row of r.rows) {
      const plain = cipher.open({ keyId: row.token_key_id, ciphertext: row.token_ciphertext }, aad(row.tenant, row.slug));
      const sealed = cipher.seal(plain, aad(row.tenant, row.slug));
      const u = await db.query(
        `UPDATE matrix_users SET token_ciphertext = $3, token_key_id = $4
         WHERE tenant = $1 AND slug = $2 AND token_key_id = $5 AND token_ciphertext = $6`,
        [row.tenant, row.slug, sealed.ciphertext, sealed.keyId, row.token_key_id, row.token_ciphertext],
      );
      rotated += u.rowCount ?? 0;
    }
  }
  await rotateWebhookSecrets(db, cipher);
  const active = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM matrix_users WHERE token_key_id = $1', [cipher.activeKey]);
  return { activeKeyId: cipher.activeKey, rotated, alreadyActive: active.rows[0]!.n - rotated };
}

/** Webhook secrets are sealed with the same keys (migrations/014): re-sealed under the active one with the tokens. */
async function rotateWebhookSecrets(db: Db, cipher: TokenCipher): Promise<void> {
  const r = await db.query<{ tenant: string; secret_key_id: string; secret_ciphertext: Buffer }>(
    'SELECT tenant, secret_key_id, secret_ciphertext FROM webhook_subscriptions WHERE secret_key_id <> $1',
    [cipher.activeKey],
  );
  for (const row of r.rows) {
    const aad = webhookSecretAad(row.tenant);
    const sealed = cipher.seal(cipher.open({ keyId: row.secret_key_id, ciphertext: row.secret_ciphertext }, aad), aad);
    await db.query(
      `UPDATE webhook_subscriptions SET secret_ciphertext = $2, secret_key_id = $3 WHERE tenant = $1 AND secret_ciphertext = $4`,
      [row.tenant, sealed.ciphertext, sealed.keyId, row.secret_ciphertext],
    );
  }
}
