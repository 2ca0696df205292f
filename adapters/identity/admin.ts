/**
 * The admin identity mode (the original design, docs/decisions/0002 and 0008): accounts through the
 * Synapse Admin API, one Admin-API login token per user stored encrypted, renewed by generation
 * when the homeserver refuses it.
 */
import { ApplicationFailure } from '@temporalio/common';
import type {
  EnsureCredentialResult,
  ReauthUserInput,
  ReauthUserResult,
  UnknownTokenDetails,
  UserRef,
} from '../../vocabulary/contract.js';
import { FailureType } from '../../vocabulary/failures.js';
import { canActAs, type IdentityScope } from '../../vocabulary/identity.js';
import { UndecryptableTokenError } from '../../lib/token-cipher.js';
import type { MatrixAdmin } from '../matrix/admin.js';
import { matrixCall } from '../matrix/errors.js';
import type { StoredUser, UserStore } from '../store/users.js';
import { adoptedAccountMissing, notManaged } from './refusals.js';
import type { AccountChange, AccountState, ActingAs, Identity } from './types.js';

export interface AdminIdentityDeps {
  admin: MatrixAdmin;
  users: UserStore;
  scope: IdentityScope;
}

/**
 * Creates the account, updates its display name, or reactivates it (same localpart); else changes
 * nothing. Synapse refuses a creation racing another (M_USER_IN_USE: a batch beside the user's own
 * workflow, decision 0035): the account is there now, so it is read again and left or updated.
 */
async function ensureAccount(
  admin: MatrixAdmin,
  userId: string,
  displayName: string,
  reread = false,
): Promise<AccountChange> {
  const existing = await matrixCall(() => admin.getUser(userId));
  const reactivated = existing?.deactivated === true;
  const displayNameChanged = existing !== null && !reactivated && existing.displayName !== displayName;
  if (!existing || reactivated || displayNameChanged) {
    try {
      await matrixCall(() => admin.upsertUser(userId, { displayName, reactivate: reactivated }));
    } catch (err) {
      if (existing || reread || (err as ApplicationFailure).type !== FailureType.UserInUse) throw err;
      return ensureAccount(admin, userId, displayName, true);
    }
  }
  return { created: !existing, reactivated, displayNameChanged };
}

/** The account as the Admin API has it; nothing is changed. */
async function accountState(admin: MatrixAdmin, userId: string): Promise<AccountState> {
  const account = await matrixCall(() => admin.getUser(userId));
  return !account ? 'missing' : account.deactivated ? 'deactivated' : 'active';
}

/**
 * A token for the user, stored encrypted. An existing token is kept (it is validated when a call
 * fails with it, not on every use), so repeats create no new token; `renew` replaces it (after a
 * reactivation, which invalidated it). `input.stored`: the row as just read by the caller; the
 * writes are conditional (no token yet / still that generation), so a writer racing in between
 * is never overwritten.
 */
async function ensureToken(
  deps: AdminIdentityDeps,
  input: UserRef & { userId: string; renew?: boolean; stored?: StoredUser | null },
): Promise<EnsureCredentialResult> {
  const stored = input.stored !== undefined ? input.stored : await deps.users.get(input.tenant, input.slug);
  if (stored?.hasToken && !input.renew) return { issued: false };
  // Someone the service cannot act as (an account of another server) gets no token.
  if (!canActAs(deps.scope, input.userId)) return { issued: false };
  const token = await matrixCall(() => deps.admin.loginAs(input.userId));
  if (stored?.hasToken) {
    return {
      issued: (await deps.users.replaceToken(input.tenant, input.slug, token, stored.tokenGeneration)) !== null,
    };
  }
  return { issued: await deps.users.storeTokenIfAbsent(input.tenant, input.slug, token, stored?.slug) };
}

/** An adopted account is only ever logged in as: never created or reactivated (decision 0029). */
async function adoptedAccount(admin: MatrixAdmin, userId: string): Promise<AccountChange> {
  const state = await accountState(admin, userId);
  if (state !== 'active') throw adoptedAccountMissing(userId, state);
  return { created: false, reactivated: false, displayNameChanged: false };
}

/**
 * Replaces the token of generation `staleGeneration`, keeping the Matrix user id; reactivates the
 * same user if the homeserver no longer has them active (never an adopted one). A token already replaced is left alone:
 * one re-login per dead token.
 */
async function renewToken(deps: AdminIdentityDeps, input: ReauthUserInput): Promise<ReauthUserResult> {
  const stored = await deps.users.get(input.tenant, input.slug);
  if (!stored) {
    throw ApplicationFailure.create({
      type: FailureType.NotFound,
      message: `${input.tenant}/${input.slug} was never provisioned`,
      nonRetryable: true,
    });
  }
  if (stored.tokenGeneration !== input.staleGeneration) {
    return { userId: stored.userId, renewed: false, reprovisioned: false, generation: stored.tokenGeneration };
  }
  if (!canActAs(deps.scope, stored.userId)) throw notManaged(stored.userId, input.slug);
  const account = stored.adopted
    ? await adoptedAccount(deps.admin, stored.userId)
    : await ensureAccount(deps.admin, stored.userId, stored.displayName ?? input.slug);
  const token = await matrixCall(() => deps.admin.loginAs(stored.userId));
  const generation = await deps.users.replaceToken(input.tenant, input.slug, token, input.staleGeneration);
  return {
    userId: stored.userId,
    renewed: generation !== null,
    reprovisioned: account.reactivated || account.created,
    generation: generation ?? (await deps.users.get(input.tenant, input.slug))!.tokenGeneration,
  };
}

/**
 * Hands the stored token to `fn`. When the homeserver no longer accepts it (or none is stored) it
 * fails with `MatrixUnknownToken` carrying the token's generation, so the workflow renews exactly
 * that token once (workflows/as-user.ts) and retries.
 */
async function actWithToken<T>(
  { users, scope }: AdminIdentityDeps,
  user: UserRef,
  fn: (as: ActingAs) => Promise<T>,
): Promise<T> {
  const { tenant, slug } = user;
  let credential;
  try {
    credential = await users.getCredential(tenant, slug);
  } catch (err) {
    if (err instanceof UndecryptableTokenError) {
      throw ApplicationFailure.create({
        type: FailureType.CredentialUndecryptable,
        message: err.message,
        nonRetryable: true,
      });
    }
    throw err;
  }
  if (credential && !canActAs(scope, credential.userId)) throw notManaged(credential.userId, slug);
  const details: UnknownTokenDetails = { tenant, slug, generation: credential?.generation ?? 0 };
  const token = credential?.accessToken;
  if (!credential || !token) {
    throw ApplicationFailure.create({
      type: FailureType.UnknownToken,
      message: `no token stored for ${tenant}/${slug}`,
      nonRetryable: true,
      details: [details],
    });
  }
  try {
    return await matrixCall(() => fn({ userId: credential.userId, token }));
  } catch (err) {
    const f = err as ApplicationFailure;
    if (f.type === FailureType.UnknownToken) {
      throw ApplicationFailure.create({
        type: FailureType.UnknownToken,
        message: f.message,
        nonRetryable: true,
        details: [details],
      });
    }
    throw err;
  }
}

export function adminIdentity(deps: AdminIdentityDeps): Identity {
  return {
    mode: 'admin',
    canActAs: (userId) => canActAs(deps.scope, userId),
    ensureAccount: (userId, displayName) => ensureAccount(deps.admin, userId, displayName),
    isProvisioned: (stored) => stored?.hasToken === true,
    // Admin-login tokens keep working for a deactivated user, so no failure would ever tell us: ask.
    accountActive: async (userId) => {
      const account = await matrixCall(() => deps.admin.getUser(userId));
      return account !== null && !account.deactivated;
    },
    inactiveWithin: async (idPart) => {
      const ids = await matrixCall(() => deps.admin.deactivatedUsers(idPart));
      return ids && new Set(ids);
    },
    accountState: (userId) => accountState(deps.admin, userId),
    ensureCredential: (input) => ensureToken(deps, input),
    renewCredential: (input) => renewToken(deps, input),
    actAs: (user, fn) => actWithToken(deps, user, fn),
  };
}
