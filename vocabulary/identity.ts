/**
 * How the service acts as platform users on the homeserver (issue #17), and whom it can act as.
 *
 * - `admin`: accounts created through the Synapse Admin API; the service logs in as a user with an
 *   Admin-API login token and keeps that token, encrypted, renewing it when the homeserver refuses it.
 * - `appservice`: accounts live in the application service's user namespace; the service acts with
 *   its `as_token` and the `user_id` query parameter (identity assertion). No per-user token, no
 *   Admin API: this works on a homeserver whose login is delegated to an OIDC provider (MSC3861).
 *
 * Adopted accounts (bound with `matrixUserId`) the service cannot act as join rooms by accepting an
 * invite from their own client.
 */
export const IDENTITY_MODES = ['admin', 'appservice'] as const;
export type IdentityMode = (typeof IDENTITY_MODES)[number];

export interface IdentityScope {
  mode: IdentityMode;
  /** The homeserver's server name: the part after the colon of its local user ids. */
  serverName: string;
  /** First part of the localparts of the users the service creates (`{prefix}_{tenant}_{slug}`). */
  userPrefix: string;
}

/**
 * Whether the service can act as `userId`. Admin mode: any account of its own homeserver (the Admin
 * API logs in as any local user). Appservice mode: only ids inside the appservice's user namespace,
 * `@{prefix}_…:{serverName}` (what scripts/stack.sh registers, and what an operator's registration must
 * cover).
 */
export function canActAs(scope: IdentityScope, userId: string): boolean {
  return scope.mode === 'admin' ? localTo(scope, userId) : inNamespace(scope, userId);
}

/** A user id of the service's own homeserver. */
function localTo(scope: Pick<IdentityScope, 'serverName'>, userId: string): boolean {
  const colon = userId.indexOf(':');
  return userId.startsWith('@') && colon >= 2 && userId.slice(colon + 1) === scope.serverName;
}

/**
 * A user id in the appservice's user namespace, `@{prefix}_…:{serverName}`, whatever the identity
 * mode: the accounts the service creates, and those the appservice may assert (`?user_id=`).
 */
export function inNamespace(scope: Omit<IdentityScope, 'mode'>, userId: string): boolean {
  return localTo(scope, userId) && userId.slice(1).startsWith(`${scope.userPrefix}_`);
}

/**
 * Matrix user ids as the spec's grammar has them: `@localpart:server`, the localpart any printable
 * ASCII but `:` (historical ids included), the server a host name, IPv4 or [IPv6] with an optional
 * port; at most 255 bytes.
 */
export const MATRIX_USER_ID = /^@[\x21-\x39\x3b-\x7e]+:(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The service's own accounts: never bound to a platform user. */
export interface OwnAccounts {
  botUserId: string;
  adminUserId: string;
}

/**
 * Why `userId` cannot be bound to the platform user (tenant, slug) as an adopted account, or null.
 * Ids in the service's own namespace (`@{prefix}_…:{serverName}`) are the accounts it creates for
 * platform users, so only this user's own derived id (`derivedId`, which is not an adoption) may
 * name one there.
 */
export function bindingProblem(
  scope: IdentityScope,
  own: OwnAccounts,
  userId: string,
  derivedId: string,
  field = 'matrixUserId',
): string | null {
  if (new TextEncoder().encode(userId).length > 255 || !MATRIX_USER_ID.test(userId)) {
    return `${field} must be a Matrix user id like "@alice:example.org" (at most 255 bytes)`;
  }
  if (userId === own.botUserId || userId === own.adminUserId) {
    return `${field} ${userId} is one of the service's own accounts, not a platform user's`;
  }
  if (inNamespace(scope, userId) && userId !== derivedId) {
    return `${field} ${userId} is in the service's own namespace (@${scope.userPrefix}_…:${scope.serverName}), where it creates the accounts of other platform users; bind an account outside it`;
  }
  return null;
}
