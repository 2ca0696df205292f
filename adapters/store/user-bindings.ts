/**
 * Which Matrix account a platform user is (the binding, table matrix_users), whatever slug names
 * them now: the source of truth wherever a user is looked up — never the id derived from a slug,
 * which an adopted or renamed user does not have. Needs no token key, so the API uses it too.
 */
import pg from 'pg';
import type { TokenCipher } from '../../lib/token-cipher.js';
import type { RoomKind } from '../../vocabulary/ids.js';
import type { Db } from './db.js';

/** SQL: the current slug of `$2` in tenant `$1`: itself, or the slug it was renamed to. */
export const CURRENT_SLUG = 'COALESCE((SELECT new_slug FROM user_renames WHERE tenant = $1 AND old_slug = $2), $2)';

export interface UserBinding {
  /** The user's current slug. */
  slug: string;
  userId: string;
  adopted: boolean;
}

export interface UserLookup {
  /**
   * The user's binding (null: never provisioned nor adopted) and, when `slug` was renamed, the slug
   * it is now (the binding is then that slug's).
   */
  find(tenant: string, slug: string): Promise<{ binding: UserBinding | null; renamedTo: string | null }>;
  /** The slug of the tenant's user bound to a Matrix id, or null. */
  slugOf(tenant: string, userId: string): Promise<string | null>;
  /** The bindings of many slugs at once (renames followed), by the slug asked for; unbound ones are absent. */
  many(tenant: string, slugs: readonly string[]): Promise<Map<string, UserBinding>>;
  /** Room ids of the tenant's active rooms where the user (under any of their slugs) is a desired member. */
  memberRooms(tenant: string, slug: string): Promise<string[]>;
}

interface BindingRow {
  asked: string;
  slug: string;
  user_id: string;
  adopted: boolean;
}

export function createUserLookup(db: Db): UserLookup {
  const many = async (tenant: string, slugs: readonly string[]): Promise<Map<string, UserBinding>> => {
    if (slugs.length === 0) return new Map();
    const r = await db.query<BindingRow>(
      `SELECT s.asked, u.slug, u.user_id, u.adopted FROM unnest($2::text[]) AS s(asked)
       LEFT JOIN user_renames n ON n.tenant = $1 AND n.old_slug = s.asked
       JOIN matrix_users u ON u.tenant = $1 AND u.slug = COALESCE(n.new_slug, s.asked)`,
      [tenant, [...new Set(slugs)]],
    );
    return new Map(r.rows.map((x) => [x.asked, { slug: x.slug, userId: x.user_id, adopted: x.adopted }]));
  };
  return {
    many,
    async find(tenant, slug) {
      const r = await db.query<{ new_slug: string }>(
        'SELECT new_slug FROM user_renames WHERE tenant = $1 AND old_slug = $2',
        [tenant, slug],
      );
      return { binding: (await many(tenant, [slug])).get(slug) ?? null, renamedTo: r.rows[0]?.new_slug ?? null };
    },
    async slugOf(tenant, userId) {
      const r = await db.query<{ slug: string }>('SELECT slug FROM matrix_users WHERE tenant = $1 AND user_id = $2', [
        tenant,
        userId,
      ]);
      return r.rows[0]?.slug ?? null;
    },
    async memberRooms(tenant, slug) {
      const r = await db.query<{ room_id: string }>(
        `WITH current AS (SELECT ${CURRENT_SLUG} AS slug),
           slugs AS (SELECT slug FROM current UNION SELECT old_slug FROM user_renames, current
                     WHERE user_renames.tenant = $1 AND user_renames.new_slug = current.slug)
         SELECT DISTINCT r.room_id FROM room_members m
         JOIN rooms r ON r.tenant = m.tenant AND r.kind = m.kind AND r.slug = m.slug
         WHERE m.tenant = $1 AND m.user_slug IN (SELECT slug FROM slugs) AND r.room_id IS NOT NULL AND r.status = 'active'`,
        [tenant, slug],
      );
      return r.rows.map((x) => x.room_id);
    },
  };
}

/** What a rename did, or why it could not. */
export type RenameOutcome =
  | { ok: true; userId: string; already: boolean; rooms: { kind: RoomKind; slug: string }[] }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'renamed'; newSlug: string }
  | { ok: false; reason: 'taken'; detail: string };

const aad = (tenant: string, slug: string): string => `matrix-token:${tenant}:${slug}`;

/** Why `newSlug` cannot become `slug`'s new name (another user's, or reserved), or null. */
async function takenBy(client: pg.PoolClient, tenant: string, slug: string, newSlug: string): Promise<string | null> {
  const bound = await client.query<{ user_id: string }>(
    'SELECT user_id FROM matrix_users WHERE tenant = $1 AND slug = $2',
    [tenant, newSlug],
  );
  if (bound.rows[0]) return `${newSlug} is already the user bound to ${bound.rows[0].user_id}`;
  const renamed = await client.query<{ new_slug: string }>(
    'SELECT new_slug FROM user_renames WHERE tenant = $1 AND old_slug = $2',
    [tenant, newSlug],
  );
  const to = renamed.rows[0]?.new_slug;
  if (to !== undefined && to !== slug)
    return `${newSlug} was renamed to ${to}; a slug renamed away stays reserved for its user`;
  const member = await client.query<{ kind: string; slug: string }>(
    'SELECT kind, slug FROM room_members WHERE tenant = $1 AND user_slug = $2 LIMIT 1',
    [tenant, newSlug],
  );
  if (member.rows[0])
    return `${newSlug} is already a member of ${member.rows[0].kind} ${member.rows[0].slug} (a user not provisioned yet)`;
  return null;
}

/** Rooms (other than DMs, which are named by their users' slugs) where `slug` is a desired member. */
async function roomsOf(client: pg.PoolClient, tenant: string, slug: string) {
  const r = await client.query<{ kind: RoomKind; slug: string }>(
    `SELECT kind, slug FROM room_members WHERE tenant = $1 AND user_slug = $2 AND kind <> 'dm' ORDER BY kind, slug`,
    [tenant, slug],
  );
  return r.rows;
}

/**
 * Renames a platform user in one transaction: the binding (same Matrix id, the same token re-sealed
 * for its new row), the old slug pointing to the new one, and the desired memberships. Repeating a
 * rename that is done answers `already` with the same rooms, so a caller can finish telling them.
 */
export async function renameUser(
  db: Db,
  cipher: TokenCipher,
  tenant: string,
  slug: string,
  newSlug: string,
): Promise<RenameOutcome> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const r = await client.query<{ user_id: string; token_ciphertext: Buffer | null; token_key_id: string | null }>(
      'SELECT user_id, token_ciphertext, token_key_id FROM matrix_users WHERE tenant = $1 AND slug = $2 FOR UPDATE',
      [tenant, slug],
    );
    const row = r.rows[0];
    if (!row || slug === newSlug) {
      const gone = await client.query<{ new_slug: string }>(
        'SELECT new_slug FROM user_renames WHERE tenant = $1 AND old_slug = $2',
        [tenant, slug],
      );
      const to = row ? slug : gone.rows[0]?.new_slug;
      await client.query('ROLLBACK');
      if (to === undefined) return { ok: false, reason: 'unknown' };
      if (to !== newSlug) return { ok: false, reason: 'renamed', newSlug: to };
      const now = await db.query<{ user_id: string }>(
        'SELECT user_id FROM matrix_users WHERE tenant = $1 AND slug = $2',
        [tenant, newSlug],
      );
      const rooms = await roomsOf(client, tenant, newSlug);
      return { ok: true, userId: now.rows[0]?.user_id ?? '', already: true, rooms };
    }
    const taken = await takenBy(client, tenant, slug, newSlug);
    if (taken) {
      await client.query('ROLLBACK');
      return { ok: false, reason: 'taken', detail: taken };
    }
    const sealed =
      row.token_ciphertext && row.token_key_id
        ? cipher.seal(
            cipher.open({ keyId: row.token_key_id, ciphertext: row.token_ciphertext }, aad(tenant, slug)),
            aad(tenant, newSlug),
          )
        : null;
    await client.query(
      `UPDATE matrix_users SET slug = $3, token_ciphertext = COALESCE($4, token_ciphertext),
         token_key_id = COALESCE($5, token_key_id), updated_at = now()
       WHERE tenant = $1 AND slug = $2`,
      [tenant, slug, newSlug, sealed?.ciphertext ?? null, sealed?.keyId ?? null],
    );
    // Renaming back frees the new slug's own pointer; every earlier slug now names the new one.
    await client.query('DELETE FROM user_renames WHERE tenant = $1 AND old_slug = $2', [tenant, newSlug]);
    await client.query('UPDATE user_renames SET new_slug = $3 WHERE tenant = $1 AND new_slug = $2', [
      tenant,
      slug,
      newSlug,
    ]);
    await client.query('INSERT INTO user_renames (tenant, old_slug, new_slug) VALUES ($1, $2, $3)', [
      tenant,
      slug,
      newSlug,
    ]);
    await client.query(
      `UPDATE room_members SET user_slug = $3, updated_at = now() WHERE tenant = $1 AND user_slug = $2 AND kind <> 'dm'`,
      [tenant, slug, newSlug],
    );
    const rooms = await roomsOf(client, tenant, newSlug);
    await client.query('COMMIT');
    return { ok: true, userId: row.user_id, already: false, rooms };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    // Two renames to the same new slug at once: the second finds it taken.
    if (err instanceof pg.DatabaseError && err.code === '23505')
      return { ok: false, reason: 'taken', detail: `${newSlug} was taken by another user meanwhile` };
    throw err;
  } finally {
    client.release();
  }
}
