import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../vocabulary/failures.js';
import { matrixUserId } from '../vocabulary/ids.js';
import type {
  EnsureCredentialResult,
  EnsureUserInput,
  EnsureUserResult,
  ProvisionMatrixUserResult,
  ReauthUserInput,
  ReauthUserResult,
  UserRef,
} from '../vocabulary/contract.js';
import type { WorkflowGateway } from './gateway.js';
import { adoptedAccountMissing, type Identity } from '../adapters/identity/index.js';
import type { StoredUser, UserStore } from '../adapters/store/users.js';

export interface UserActivityDeps {
  /** How accounts are made and acted as, in the configured identity mode (adapters/identity/). */
  identity: Identity;
  users: UserStore;
  gateway: WorkflowGateway;
  userPrefix: string;
  serverName: string;
  /** Whether an offboarding holds the account back (decision 0056); absent: nothing does. */
  offboardingHolds?: (tenant: string, userId: string) => Promise<boolean>;
}

const failure = (type: string, message: string): ApplicationFailure =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

/**
 * An adopted account (docs/decisions/0029): bound to the user, never created, renamed, deactivated
 * or reactivated. One the service acts as (identity.canActAs) must exist and be active.
 */
async function adopt(
  deps: UserActivityDeps,
  input: EnsureUserInput,
  bound: StoredUser | null,
): Promise<EnsureUserResult> {
  const userId = input.matrixUserId ?? bound!.userId;
  if (bound && bound.userId !== userId)
    throw failure(FailureType.UserBindingConflict, `${input.slug} is bound to ${bound.userId}, not ${userId}`);
  if (deps.identity.canActAs(userId)) {
    const state = await deps.identity.accountState(userId);
    if (state !== 'active') throw adoptedAccountMissing(userId, state);
  }
  if (!bound) {
    const now = await deps.users.bindAdopted(input.tenant, input.slug, userId);
    if (now && (now.tenant !== input.tenant || now.slug !== input.slug || now.userId !== userId))
      throw failure(
        FailureType.UserBindingConflict,
        now.userId !== userId
          ? `${input.slug} is bound to ${now.userId}, not ${userId}`
          : `${userId} is already bound to ${now.tenant === input.tenant ? `user ${now.slug}` : 'a user of another tenant'}`,
      );
  }
  return { userId, created: false, displayNameChanged: false, reactivated: false, adopted: true };
}

/**
 * The two steps of provisioning, and both in one go (`provision`). `known`, in each: the user's row
 * as read just before by the caller (null: none; a batch reads its chunk's rows in one query),
 * which spares reading it again; absent, it is read.
 */
export function createProvisionSteps(deps: UserActivityDeps) {
  /**
   * Creates the Matrix user, updates the display name when it differs, reactivates a user who
   * was deactivated on the homeserver where the identity mode can; otherwise changes nothing. The
   * user's stored binding is their account (a renamed user keeps theirs); an adopted one is only
   * ever bound (`adopt`). Also says what is stored for the user now.
   */
  async function ensureUser(
    input: EnsureUserInput,
    known?: StoredUser | null,
  ): Promise<{ user: EnsureUserResult; stored?: StoredUser }> {
    const bound = known !== undefined ? known : await deps.users.get(input.tenant, input.slug);
    const derived = matrixUserId(deps.userPrefix, deps.serverName, input.tenant, input.slug);
    const adopting = input.matrixUserId !== undefined && input.matrixUserId !== (bound?.userId ?? derived);
    const accountId = input.matrixUserId ?? bound?.userId ?? derived;
    if (await deps.offboardingHolds?.(input.tenant, accountId))
      throw failure(FailureType.UserOffboarded, `${input.tenant}/${input.slug} is offboarded: the service does not provision them again`);
    // adopt() may bind the user: what is stored then is read again by whoever needs it.
    if (bound?.adopted || adopting) return { user: await adopt(deps, input, bound) };
    const userId = bound?.userId ?? derived;
    const account = await deps.identity.ensureAccount(userId, input.displayName);
    const slug = bound?.slug ?? input.slug;
    // Read before write: a row that already says all this is left as it is.
    if (bound?.displayName !== input.displayName) {
      await deps.users.upsert({ tenant: input.tenant, slug, userId, displayName: input.displayName });
    }
    const user = {
      userId,
      created: account.created,
      displayNameChanged: account.displayNameChanged,
      reactivated: account.reactivated,
    };
    // What is stored now (the upsert keeps any token and binding).
    const stored: StoredUser = bound
      ? { ...bound, displayName: input.displayName }
      : { tenant: input.tenant, slug, userId, displayName: input.displayName, hasToken: false, tokenGeneration: 0, adopted: false };
    return { user, stored };
  }

  async function ensureMatrixUser(input: EnsureUserInput): Promise<EnsureUserResult> {
    return (await ensureUser(input)).user;
  }

  /**
   * Stores what acting as the user needs, if the identity mode stores anything (admin mode: a
   * login token, encrypted; kept when there is one, replaced when `renew`; appservice mode: nothing).
   */
  async function ensureUserCredential(
    input: UserRef & { userId: string; renew?: boolean },
  ): Promise<EnsureCredentialResult> {
    return deps.identity.ensureCredential(input);
  }

  /**
   * Both steps: the account as ensureMatrixUser makes it, then the credential as
   * ensureUserCredential stores it — a reactivated user's old token is replaced.
   */
  async function provision(input: EnsureUserInput, known?: StoredUser | null): Promise<ProvisionMatrixUserResult> {
    const { user, stored } = await ensureUser(input, known);
    const credential = await deps.identity.ensureCredential({
      tenant: input.tenant,
      slug: input.slug,
      userId: user.userId,
      renew: user.reactivated,
      ...(stored !== undefined ? { stored } : {}),
    });
    return { ...user, tokenIssued: credential.issued };
  }

  return { ensureMatrixUser, ensureUserCredential, provision };
}

/** Provisioning activities. Each is idempotent: it reads the homeserver's state before changing it. */
export function createUserActivities(deps: UserActivityDeps) {
  const { ensureMatrixUser, ensureUserCredential, provision } = createProvisionSteps(deps);
  return {
    /**
     * Both steps of provisioning in one activity (one task round trip through Temporal instead of
     * two): the account as ensureMatrixUser makes it, then the credential as ensureUserCredential
     * stores it — a reactivated user's old token is replaced. Idempotent like each of them.
     */
    async provisionMatrixUser(input: EnsureUserInput): Promise<ProvisionMatrixUserResult> {
      return provision(input);
    },
    // The two steps alone: what runs started before provisionMatrixUser replay and complete with.
    ensureMatrixUser,
    ensureUserCredential,

    /**
     * Replaces the credential of generation `staleGeneration`, which the homeserver refused, keeping
     * the Matrix user id (admin mode; see the identity adapter). A credential that was already
     * replaced is left alone: one renewal per dead token.
     */
    async renewUserToken(input: ReauthUserInput): Promise<ReauthUserResult> {
      return deps.identity.renewCredential(input);
    },

    /** Runs (or joins the running) `user-auth:{tenant}:{slug}` workflow and waits for it. */
    async reauthUser(input: ReauthUserInput): Promise<ReauthUserResult> {
      return deps.gateway.reauthUser(input);
    },
  };
}

export type UserActivities = ReturnType<typeof createUserActivities>;
