/**
 * How the service acts as platform users on the homeserver: the one adapter that differs between the
 * identity modes (vocabulary/identity.ts, docs/decisions/0027). Workflows, activities, the relay and
 * the API never ask which mode runs; they ask this.
 */
import type { EnsureCredentialResult, ReauthUserInput, ReauthUserResult, UserRef } from '../../vocabulary/contract.js';
import type { IdentityMode } from '../../vocabulary/identity.js';
import type { RequestAuth } from '../matrix/http.js';
import type { StoredUser } from '../store/users.js';

/** One request's worth of acting as a Matrix user: who, and the credentials that say so. */
export interface ActingAs extends RequestAuth {
  userId: string;
}

/** What ensuring an account did. */
export interface AccountChange {
  created: boolean;
  /** The account had been deactivated and was brought back (same id): admin mode only. */
  reactivated: boolean;
  displayNameChanged: boolean;
}

/** An existing account as the homeserver has it. */
export type AccountState = 'active' | 'deactivated' | 'missing';

export interface Identity {
  readonly mode: IdentityMode;
  /** Whether the service can act as this Matrix id at all in this mode (vocabulary/identity.ts canActAs). */
  canActAs(userId: string): boolean;
  /**
   * An account for a user id the service owns: there, usable, with this display name, set only when
   * it differs. Fails non-retryably (`MatrixUserDeactivated`) for an account the mode cannot bring back.
   */
  ensureAccount(userId: string, displayName: string): Promise<AccountChange>;
  /** Whether what is stored for a user is all acting as them needs (else they are provisioned first). */
  isProvisioned(stored: StoredUser | null): boolean;
  /**
   * Right before a provisioned user is brought into a room: whether their account is still active,
   * as far as this mode can tell without a cost per join (false: provision them again first).
   */
  accountActive(userId: string): Promise<boolean>;
  /**
   * For many users about to be brought in at once: the deactivated accounts whose id contains
   * `idPart` (a tenant's namespace), found with one request; null when the mode or the homeserver
   * cannot list them (then ask `accountActive` per user). An account gone altogether is not listed.
   */
  inactiveWithin(idPart: string): Promise<Set<string> | null>;
  /**
   * An account the service must never create, rename or reactivate (an adopted one, decision 0029)
   * and can act as: whether it is there and active, as far as this mode can tell, changing nothing.
   */
  accountState(userId: string): Promise<AccountState>;
  /**
   * Stores what acting as the user needs, if the mode stores anything; `renew` replaces it. Nothing
   * for an account the service cannot act as (their own client is how they take part). `stored`:
   * the user's row as the caller read it just before (null: none), which spares reading it again.
   */
  ensureCredential(
    user: UserRef & { userId: string; renew?: boolean; stored?: StoredUser | null },
  ): Promise<EnsureCredentialResult>;
  /**
   * Replaces a credential the homeserver refused (`MatrixUnknownToken` from actAs), once per
   * generation; never creates or reactivates an adopted account (`AccountMissing` instead).
   */
  renewCredential(input: ReauthUserInput): Promise<ReauthUserResult>;
  /**
   * Runs `fn` with the credentials of one request as the stored user (their Matrix id from the
   * store) and translates whatever it throws into an activity failure; `UserNotManaged` for a user
   * the service cannot act as (an adopted account outside its reach). A refused per-user token
   * fails as `MatrixUnknownToken` with its generation, which workflows/as-user.ts renews once.
   */
  actAs<T>(user: UserRef, fn: (as: ActingAs) => Promise<T>): Promise<T>;
}
