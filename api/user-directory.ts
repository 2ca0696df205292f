/**
 * Who a platform user is on the homeserver, for the API: their stored binding (an adopted account,
 * a renamed user's own), else — never provisioned yet — the id their slug derives. A slug that was
 * renamed is answered `409 OM_USER_RENAMED` with the slug it is now, wherever a request names it.
 */
import { identityScope } from '../adapters/identity/index.js';
import { createUserLookup, type UserBinding } from '../adapters/store/user-bindings.js';
import type { Db } from '../adapters/store/db.js';
import type { Config } from '../lib/config.js';
import { canActAs, type IdentityScope, type OwnAccounts } from '../vocabulary/identity.js';
import { matrixUserId } from '../vocabulary/ids.js';
import { ApiError } from './errors.js';

export interface ActingUser {
  userId: string;
  /** The service can act as the account (send, type, read as it); false: only the user's own client can. */
  canActAs: boolean;
  adopted: boolean;
  /** A stored binding exists (provisioned, adopted or renamed); false: the id is only derived. */
  bound: boolean;
}

export interface UserDirectory {
  readonly scope: IdentityScope;
  readonly own: OwnAccounts;
  /** The binding of `slug` (null: none yet); `409 OM_USER_RENAMED` for a slug renamed away. */
  current(tenant: string, slug: string): Promise<UserBinding | null>;
  /** The account the slug is, bound or derived, and whether the service can act as it (renamed: 409). */
  resolve(tenant: string, slug: string): Promise<ActingUser>;
  /** `409 OM_USER_RENAMED` for any of `slugs` that was renamed away; else their bindings (one query). */
  assertCurrent(tenant: string, slugs: readonly string[]): Promise<Map<string, UserBinding>>;
  /** Room ids of the tenant's active rooms where the user is a desired member. */
  memberRooms(tenant: string, slug: string): Promise<string[]>;
  /** The slug of the tenant's user bound to a Matrix id, or null. */
  slugBoundTo(tenant: string, userId: string): Promise<string | null>;
}

export const ownAccounts = (config: Pick<Config, 'matrix'>): OwnAccounts => ({
  botUserId: `@${config.matrix.botLocalpart}:${config.matrix.serverName}`,
  adminUserId: config.matrix.adminUserId,
});

export function userRenamedError(slug: string, newSlug: string): ApiError {
  return new ApiError('OM_USER_RENAMED', `user ${slug} was renamed to ${newSlug}: use the new slug`, { newSlug });
}

export function createUserDirectory(config: Pick<Config, 'matrix'>, db: Db): UserDirectory {
  const lookup = createUserLookup(db);
  const scope = identityScope(config);
  async function current(tenant: string, slug: string): Promise<UserBinding | null> {
    const { binding, renamedTo } = await lookup.find(tenant, slug);
    if (renamedTo !== null) throw userRenamedError(slug, renamedTo);
    return binding;
  }
  return {
    scope,
    own: ownAccounts(config),
    current,
    async resolve(tenant, slug) {
      const binding = await current(tenant, slug);
      const userId = binding?.userId ?? matrixUserId(scope.userPrefix, scope.serverName, tenant, slug);
      return { userId, canActAs: canActAs(scope, userId), adopted: binding?.adopted ?? false, bound: binding !== null };
    },
    async assertCurrent(tenant, slugs) {
      const bindings = await lookup.many(tenant, slugs);
      for (const slug of slugs) {
        const binding = bindings.get(slug);
        if (binding && binding.slug !== slug) throw userRenamedError(slug, binding.slug);
      }
      return bindings;
    },
    memberRooms: (tenant, slug) => lookup.memberRooms(tenant, slug),
    slugBoundTo: (tenant, userId) => lookup.slugOf(tenant, userId),
  };
}
