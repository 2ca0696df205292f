import type { TokenCipher } from '../../lib/token-cipher.js';
import { createUserLookup, CURRENT_SLUG, type UserBinding } from './user-bindings.js';
import type { Db } from './db.js';

export interface StoredUser {
  tenant: string;
  /** The user's current slug: the one asked for, or the one it was renamed to. */
  slug: string;
  userId: string;
  displayName: string | null;
  hasToken: boolean;
  tokenGeneration: number;
  /** Bound to an account that existed before the service (never created, renamed or deactivated by it). */
  adopted: boolean;
}

/**
 * Matrix users and their encrypted access tokens. Every lookup by slug follows a rename (the old slug
 * finds the user under their new one), so work accepted under the old slug still reaches the account.
 */
export interface UserStore {
  get(tenant: string, slug: string): Promise<StoredUser | null>;
  /** What `get` says of each of many slugs, in one query, by the slug asked for; unknown ones are absent. */
  getMany(tenant: string, slugs: readonly string[]): Promise<Map<string, StoredUser>>;
  /** The bindings of many slugs at once (renames followed), by the slug asked for; unbound ones are absent. */
  bindings(tenant: string, slugs: readonly string[]): Promise<Map<string, UserBinding>>;
  /** Records the user (creating the tenant on first use); keeps any stored token and an existing binding. */
  upsert(user: { tenant: string; slug: string; userId: string; displayName: string }): Promise<void>;
  /**
   * Binds the user to an adopted account unless the slug or the account is bound already; returns
   * what is bound now (this binding, or the one that was there).
   */
  bindAdopted(tenant: string, slug: string, userId: string): Promise<{ tenant: string; slug: string; userId: string } | null>;
  /**
   * Stores a token only if none is stored yet; returns whether this call stored it. `currentSlug`:
   * the slug the row is known to have now (from a read just before), which saves reading it again;
   * should the row have moved meanwhile (a rename), it is read again as without it.
   */
  storeTokenIfAbsent(tenant: string, slug: string, accessToken: string, currentSlug?: string): Promise<boolean>;
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

/** The associated data of a user's sealed token: it binds the ciphertext to the row (a rename re-seals it). */
export const tokenAad = (tenant: string, slug: string): string => `matrix-token:${tenant}:${slug}`;

interface UserRow {
  slug: string;
  user_id: string;
  display_name: string | null;
  has_token: boolean;
  token_generation: number;
  adopted: boolean;
  token_ciphertext: Buffer | null;
  token_key_id: string | null;
}

/** A row as the store answers it. */
const stored = (tenant: string, u: Omit<UserRow, 'token_ciphertext' | 'token_key_id'>): StoredUser => ({
  tenant,
  slug: u.slug,
  userId: u.user_id,
  displayName: u.display_name,
  hasToken: u.has_token,
  tokenGeneration: u.token_generation,
  adopted: u.adopted,
});

/** UserStore.getMany's rows, by the slug asked for (renames followed). */
async function manyRows(db: Db, tenant: string, slugs: readonly string[]): Promise<Map<string, UserRow>> {
  if (slugs.length === 0) return new Map();
  const r = await db.query<UserRow & { asked: string }>(
    `SELECT s.asked, u.slug, u.user_id, u.display_name, u.token_ciphertext IS NOT NULL AS has_token,
       u.token_generation, u.adopted
     FROM unnest($2::text[]) AS s(asked)
     LEFT JOIN user_renames n ON n.tenant = $1 AND n.old_slug = s.asked
     JOIN matrix_users u ON u.tenant = $1 AND u.slug = COALESCE(n.new_slug, s.asked)`,
    [tenant, [...new Set(slugs)]],
  );
  return new Map(r.rows.map((u) => [u.asked, u]));
}

/** UserStore.bindAdopted: both keys are unique, so whichever is taken keeps its binding; the caller compares. */
async function bindAdopted(db: Db, tenant: string, slug: string, userId: string) {
  await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
  await db.query(
    `INSERT INTO matrix_users (tenant, slug, user_id, adopted) VALUES ($1, $2, $3, true) ON CONFLICT DO NOTHING`,
    [tenant, slug, userId],
  );
  const r = await db.query<{ tenant: string; slug: string; user_id: string }>(
    `SELECT tenant, slug, user_id FROM matrix_users WHERE (tenant = $1 AND slug = $2) OR user_id = $3
     ORDER BY (tenant = $1 AND slug = $2) DESC LIMIT 1`,
    [tenant, slug, userId],
  );
  const bound = r.rows[0];
  return bound ? { tenant: bound.tenant, slug: bound.slug, userId: bound.user_id } : null;
}

/** Seals the token for the row under `slug` and stores it there if it has none; whether it did. */
async function storeIfNone(db: Db, cipher: TokenCipher, tenant: string, slug: string, accessToken: string): Promise<boolean> {
  const sealed = cipher.seal(accessToken, tokenAad(tenant, slug));
  const r = await db.query(
    `UPDATE matrix_users SET token_ciphertext = $3, token_key_id = $4, token_issued_at = now(), updated_at = now(),
       token_generation = token_generation + 1
     WHERE tenant = $1 AND slug = $2 AND token_ciphertext IS NULL`,
    [tenant, slug, sealed.ciphertext, sealed.keyId],
  );
  return r.rowCount === 1;
}

export function createUserStore(db: Db, cipher: TokenCipher): UserStore {
  const row = async (tenant: string, slug: string): Promise<UserRow | null> => {
    const r = await db.query<UserRow>(
      `SELECT slug, user_id, display_name, token_ciphertext IS NOT NULL AS has_token, token_generation, adopted,
         token_ciphertext, token_key_id
       FROM matrix_users WHERE tenant = $1 AND slug = ${CURRENT_SLUG}`,
      [tenant, slug],
    );
    return r.rows[0] ?? null;
  };
  const lookup = createUserLookup(db);
  return {
    bindings: (tenant, slugs) => lookup.many(tenant, slugs),
    async get(tenant, slug) {
      const u = await row(tenant, slug);
      return u ? stored(tenant, u) : null;
    },
    getMany: async (tenant, slugs) => new Map([...(await manyRows(db, tenant, slugs))].map(([k, u]) => [k, stored(tenant, u)])),
    async upsert({ tenant, slug, userId, displayName }) {
      // One round trip: the tenant (on first use) and the user; the user row's foreign key is
      // checked at the end of the statement, when the tenant row is there.
      await db.query(
        `WITH t AS (INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING)
         INSERT INTO matrix_users (tenant, slug, user_id, display_name) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant, slug) DO UPDATE SET display_name = EXCLUDED.display_name, updated_at = now()
         WHERE matrix_users.display_name IS DISTINCT FROM EXCLUDED.display_name`,
        [tenant, slug, userId, displayName],
      );
    },
    bindAdopted: (tenant, slug, userId) => bindAdopted(db, tenant, slug, userId),
    async storeTokenIfAbsent(tenant, slug, accessToken, currentSlug) {
      if (currentSlug !== undefined && (await storeIfNone(db, cipher, tenant, currentSlug, accessToken))) return true;
      // Not stored under the slug known: read where the row is now, and whether it has a token.
      const u = await row(tenant, slug);
      if (!u || u.has_token) return false;
      return storeIfNone(db, cipher, tenant, u.slug, accessToken);
    },
    async getToken(tenant, slug) {
      return (await this.getCredential(tenant, slug))?.accessToken ?? null;
    },
    async getCredential(tenant, slug) {
      const u = await row(tenant, slug);
      if (!u) return null;
      const accessToken =
        u.token_ciphertext && u.token_key_id
          ? cipher.open({ keyId: u.token_key_id, ciphertext: u.token_ciphertext }, tokenAad(tenant, u.slug))
          : null;
      return { userId: u.user_id, accessToken, generation: u.token_generation };
    },
    async replaceToken(tenant, slug, accessToken, staleGeneration) {
      const u = await row(tenant, slug);
      if (!u) return null;
      const sealed = cipher.seal(accessToken, tokenAad(tenant, u.slug));
      const r = await db.query<{ token_generation: number }>(
        `UPDATE matrix_users SET token_ciphertext = $3, token_key_id = $4, token_issued_at = now(), updated_at = now(),
           token_generation = token_generation + 1
         WHERE tenant = $1 AND slug = $2 AND token_generation = $5
         RETURNING token_generation`,
        [tenant, u.slug, sealed.ciphertext, sealed.keyId, staleGeneration],
      );
      return r.rows[0]?.token_generation ?? null;
    },
  };
}
