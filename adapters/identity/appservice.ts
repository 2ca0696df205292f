/**
 * The appservice identity mode: platform users live in the application service's exclusive user
 * namespace, are registered by the appservice registration flow and acted as with the `as_token`
 * and the `user_id` query parameter (identity assertion). No per-user token is stored or renewed and
 * nothing calls the Admin API, so it works where the homeserver delegates login to an OIDC provider.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import { canActAs, type IdentityScope } from '../../vocabulary/identity.js';
import { MatrixHttpError, toActivityFailure } from '../matrix/errors.js';
import type { UserStore } from '../store/users.js';
import { appserviceAccounts, type AppserviceAccounts } from './appservice-accounts.js';
import { notManaged } from './refusals.js';
import type { AccountChange, AccountState, Identity } from './types.js';

export interface AppserviceIdentityDeps {
  homeserverUrl: string;
  asToken: string;
  users: UserStore;
  scope: IdentityScope;
}

/**
 * Runs a homeserver call made with the as_token and translates its failure. M_UNKNOWN_TOKEN here is
 * not a user's token going stale (there is none to renew): the homeserver refuses the appservice
 * token itself, which no retry and no renewal can cure.
 */
async function withAsToken<T>(what: string, scope: IdentityScope, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MatrixHttpError && err.errcode === 'M_EXCLUSIVE') {
      throw ApplicationFailure.create({
        type: FailureType.BadRequest,
        message: `${what}: the user id is outside the appservice's user namespace; its registration must claim @${scope.userPrefix}_.*:${scope.serverName} exclusively (${err.message})`,
        nonRetryable: true,
      });
    }
    const f = toActivityFailure(err);
    if (f.type !== FailureType.UnknownToken) throw f;
    throw ApplicationFailure.create({
      type: FailureType.AppserviceTokenRefused,
      message: `${what}: the homeserver refused the appservice token (MATRIX_AS_TOKEN does not match the as_token of the appservice registration it loaded): ${f.message}`,
      nonRetryable: true,
    });
  }
}

function deactivatedFailure(userId: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.UserDeactivated,
    message: `${userId} is deactivated on the homeserver, and the appservice identity mode cannot reactivate an account (that takes the Synapse Admin API): reactivate it there, then provision the user again`,
    nonRetryable: true,
  });
}

/** Registers the account (M_USER_IN_USE: it is there); refuses a deactivated one; sets the display name where it differs. */
async function ensureAccount(
  accounts: AppserviceAccounts,
  scope: IdentityScope,
  userId: string,
  displayName: string,
): Promise<AccountChange> {
  const call = <T>(what: string, fn: () => Promise<T>) => withAsToken(`${what} ${userId}`, scope, fn);
  const created = await call('registering', () => accounts.register(userId.slice(1, userId.indexOf(':'))));
  if (!created && (await call('checking', () => accounts.deactivated(userId))) === true)
    throw deactivatedFailure(userId);
  const current = created ? null : await call('reading the display name of', () => accounts.displayName(userId));
  const displayNameChanged = !created && current !== displayName;
  // A new account carries its localpart as display name: always set ours.
  if (created || displayNameChanged) {
    await call('setting the display name of', () => accounts.setDisplayName(userId, displayName));
  }
  return { created, reactivated: false, displayNameChanged };
}

/** Registered, and not deactivated as far as the homeserver tells (the check of ensureAccount); nothing changed. */
async function accountState(accounts: AppserviceAccounts, scope: IdentityScope, userId: string): Promise<AccountState> {
  const call = <T>(what: string, fn: () => Promise<T>) => withAsToken(`${what} ${userId}`, scope, fn);
  if (!(await call('looking up', () => accounts.exists(userId)))) return 'missing';
  return (await call('checking', () => accounts.deactivated(userId))) === true ? 'deactivated' : 'active';
}

export function appserviceIdentity(deps: AppserviceIdentityDeps): Identity {
  const { scope, users } = deps;
  const accounts = appserviceAccounts(deps.homeserverUrl, deps.asToken);
  return {
    mode: 'appservice',
    canActAs: (userId) => canActAs(scope, userId),
    ensureAccount: (userId, displayName) => ensureAccount(accounts, scope, userId, displayName),
    // The account is registered before the user's row is written: a row is all acting needs.
    isProvisioned: (stored) => stored !== null,
    // Deactivation is checked when the user is provisioned (one login and logout); before every join
    // that would cost a device per join. Identity assertion keeps working for a deactivated account.
    accountActive: async () => true,
    inactiveWithin: async () => new Set<string>(),
    accountState: (userId) => accountState(accounts, scope, userId),
    ensureCredential: async () => ({ issued: false }),
    renewCredential: async (input) => {
      throw ApplicationFailure.create({
        type: FailureType.AppserviceTokenRefused,
        message: `${input.tenant}/${input.slug}: no per-user token exists in the appservice identity mode, so none is renewed; a token the homeserver refuses here is the appservice token (MATRIX_AS_TOKEN)`,
        nonRetryable: true,
      });
    },
    async actAs(user, fn) {
      const stored = await users.get(user.tenant, user.slug);
      if (!stored) {
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `${user.tenant}/${user.slug} was never provisioned`,
          nonRetryable: true,
        });
      }
      const { userId } = stored;
      if (!canActAs(scope, userId)) throw notManaged(userId, user.slug);
      return withAsToken(`acting as ${userId}`, scope, () =>
        fn({ userId, token: deps.asToken, query: { user_id: userId } }),
      );
    },
  };
}
