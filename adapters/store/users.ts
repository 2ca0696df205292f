import type { TokenCipher } from '../../lib/token-cipher.js';
import type { Db } from './db.js';

export interface StoredUser {
  tenant: string;
  slug: string;
  userId: string;
  displayName: string | null;
  hasToken: boolean;
  tokenGeneration: number;
}

/** Matrix users and their encrypted access tokens. */
export interface UserStore {
  get(tenant: string, slug: string): Promise<StoredUser | null>;
  /** Records the user (creating the tenant on first use); keeps any stored token. */
  upsert(user: { tenant: string; slug: string; userId: string; displayName: string }): Promise<void>;
  /** Stores a token only if none is stored yet; returns whether this call stored it. */
  storeTokenIfAbsent(tenant: string, slug: string, accessToken: string): Promise<boolean>;
  /** The decrypted token, or null when none is stored. */
  getToken(tenant: string, slug: string): Promise<string | null>;
  /** The user id, decrypted token (null when none) and its generation; null for an unknown user. */
  getCredential(tenant: string, slug: string): Promise<StoredCredential | null>;
  /**
   * Replaces the token only if the stored one is still of `staleGeneration` (compare-and-set);
   * returns the new generation, or null when someone else already replaced it.
   */
  replaceToken(tenant: string, slug: string, accessToken: string, staleGeneration: number): Promise<number | null>;
}

export interface StoredCredential {
  userId: string;
  accessToken: string | null;
  generation: number;
}

const aad = (tenant: string, slug: string): string => `matrix-token:${tenant}:${slug}`;

export function createUserStore(db: Db, cipher: TokenCipher): UserStore {
  return {
    async get(tenant, slug) {
      const r = await db.query<{ user_id: string; display_name: string | null; has_token: boolean; token_generation: number }>(
        `SELECT user_id, display_name, token_ciphertext IS NOT NULL AS has_token, token_generation
         FROM matrix_users WHERE tenant = $1 AND slug = $2`,
        [tenant, slug],
      );
      const row = r.rows[0];
      return row
        ? { tenant, slug, userId: row.user_id, displayName: row.display_name, hasToken: row.has_token, tokenGeneration: row.token_generation }
        : null;
    },
    async upsert({ tenant, slug, userId, displayName }) {
      await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
      await db.query(
        `INSERT INTO matrix_users (tenant, slug, user_id, display_name) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant, slug) DO UPDATE SET display_name = EXCLUDED.display_name, updated_at = now()
         WHERE matrix_users.display_name IS DISTINCT FROM EXCLUDED.display_name`,
        [tenant, slug, userId, displayName],
      );
    },
    async storeTokenIfAbsent(tenant, slug, accessToken) {
      const sealed = cipher.seal(accessToken, aad(tenant, slug));
      const r = await db.query(
        `UPDATE matrix_users SET token_ciphertext = $3, token_key_id = $4, token_issued_at = now(), updated_at = now(),
           token_generation = token_generation + 1
         WHERE tenant = $1 AND slug = $2 AND token_ciphertext IS NULL`,
        [tenant, slug, sealed.ciphertext, sealed.keyId],
      );
      return r.rowCount === 1;
    },
    async getToken(tenant, slug) {
      return (await this.getCredential(tenant, slug))?.accessToken ?? null;
    },
    async getCredential(tenant, slug) {
      const r = await db.query<{ user_id: string; token_ciphertext: Buffer | null; token_key_id: string | null; token_generation: number }>(
        'SELECT user_id, token_ciphertext, token_key_id, token_generation FROM matrix_users WHERE tenant = $1 AND slug = $2',
        [tenant, slug],
      );
      const row = r.rows[0];
      if (!row) return null;
      const accessToken =
        row.token_ciphertext && row.token_key_id ? cipher.open({ keyId: row.token_key_id, ciphertext: row.token_ciphertext }, aad(tenant, slug)) : null;
      return { userId: row.user_id, accessToken, generation: row.token_generation };
    },
    async replaceToken(tenant, slug, accessToken, staleGeneration) {
      const sealed = cipher.seal(accessToken, aad(tenant, slug));
      const r = await db.query<{ token_generation: number }>(
        `UPDATE matrix_users SET token_ciphertext = $3, token_key_id = $4, token_issued_at = now(), updated_at = now(),
           token_generation = token_generation + 1
         WHERE tenant = $1 AND slug = $2 AND token_generation = $5
         RETURNING token_generation`,
        [tenant, slug, sealed.ciphertext, sealed.keyId, staleGeneration],
      );
      return r.rows[0]?.token_generation ?? null;
    },
  };
}
