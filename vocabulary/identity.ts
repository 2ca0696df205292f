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
  const colon = userId.indexOf(':');
  if (!userId.startsWith('@') || colon < 2) return false;
  if (userId.slice(colon + 1) !== scope.serverName) return false;
  if (scope.mode === 'admin') return true;
  return userId.slice(1, colon).startsWith(`${scope.userPrefix}_`);
}
