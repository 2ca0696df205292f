import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../vocabulary/failures.js';
import { canActAs, type IdentityMode } from '../vocabulary/identity.js';
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
import type { MatrixAdmin } from '../adapters/matrix/admin.js';
import { matrixCall } from '../adapters/matrix/errors.js';
import type { StoredUser, UserStore } from '../adapters/store/users.js';

export interface UserActivityDeps {
  admin: MatrixAdmin;
  users: UserStore;
  gateway: WorkflowGateway;
  userPrefix: string;
  serverName: string;
  identityMode: IdentityMode;
}

/** Makes sure the account exists and is active (same localpart, reactivated if it was deactivated). */
async function ensureAccount(
  admin: MatrixAdmin,
  userId: string,
  displayName: string,
): Promise<{ created: boolean; reactivated: boolean; changed: boolean }> {
  const existing = await matrixCall(() => admin.getUser(userId));
  const reactivate = existing?.deactivated === true;
  const changed = !existing || reactivate || existing.displayName !== displayName;
  if (changed) await matrixCall(() => admin.upsertUser(userId, { displayName, reactivate }));
  return { created: !existing, reactivated: reactivate, changed };
}

async function login(admin: MatrixAdmin, userId: string): Promise<string> {
  return matrixCall(() => admin.loginAs(userId));
}

const failure = (type: string, message: string): ApplicationFailure =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

/** Whether the service can act as the account in its identity mode (vocabulary/identity.ts). */
const actable = (deps: UserActivityDeps, userId: string): boolean =>
  canActAs({ mode: deps.identityMode, serverName: deps.serverName, userPrefix: deps.userPrefix }, userId);

/**
 * An adopted account (vocabulary/identity.ts): bound to the user, never created, renamed,
 * deactivated or reactivated. One the service acts as must exist and be active.
 */
async function adopt(
  deps: UserActivityDeps,
  input: EnsureUserInput,
  bound: StoredUser | null,
): Promise<EnsureUserResult> {
  const userId = input.matrixUserId ?? bound!.userId;
  if (bound && bound.userId !== userId)
    throw failure(FailureType.UserBindingConflict, `${input.slug} is bound to ${bound.userId}, not ${userId}`);
  if (actable(deps, userId)) {
    const account = await matrixCall(() => deps.admin.getUser(userId));
    if (!account || account.deactivated)
      throw failure(
        FailureType.AccountMissing,
        `${userId} ${account ? 'is deactivated' : 'does not exist'} on this homeserver; adopted accounts are never created or reactivated`,
      );
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

/** The two steps of provisioning: provisionMatrixUser runs both, and each is an activity of its own too. */
function createProvisionSteps(deps: UserActivityDeps) {
  /**
   * Creates the Matrix user, updates the display name when it differs, reactivates a user who
   * was deactivated on the homeserver; otherwise changes nothing. The user's stored binding is
   * their account (a renamed user keeps theirs); an adopted one is only ever bound (`adopt`).
   */
  async function ensureMatrixUser(input: EnsureUserInput): Promise<EnsureUserResult> {
    const bound = await deps.users.get(input.tenant, input.slug);
    const derived = matrixUserId(deps.userPrefix, deps.serverName, input.tenant, input.slug);
    const adopting = input.matrixUserId !== undefined && input.matrixUserId !== (bound?.userId ?? derived);
    if (bound?.adopted || adopting) return adopt(deps, input, bound);
    const userId = bound?.userId ?? derived;
    const account = await ensureAccount(deps.admin, userId, input.displayName);
    await deps.users.upsert({
      tenant: input.tenant,
      slug: bound?.slug ?? input.slug,
      userId,
      displayName: input.displayName,
    });
    return {
      userId,
      created: account.created,
      displayNameChanged: !account.created && !account.reactivated && account.changed,
      reactivated: account.reactivated,
    };
  }

  /**
   * Makes sure a token for the user is stored, encrypted. An existing token is kept (it is
   * validated when a call fails with it, not on every use), so repeats create no new token;
   * `renew` replaces it (after a reactivation, which invalidated it).
   */
  async function ensureUserCredential(
    input: UserRef & { userId: string; renew?: boolean },
  ): Promise<EnsureCredentialResult> {
    const stored = await deps.users.get(input.tenant, input.slug);
    if (stored?.hasToken && !input.renew) return { issued: false };
    // Someone the service cannot act as gets no token: their own client is how they take part.
    if (!actable(deps, input.userId)) return { issued: false };
    const token = await login(deps.admin, input.userId);
    if (stored?.hasToken) {
      return {
        issued: (await deps.users.replaceToken(input.tenant, input.slug, token, stored.tokenGeneration)) !== null,
      };
    }
    return { issued: await deps.users.storeTokenIfAbsent(input.tenant, input.slug, token) };
  }

  return { ensureMatrixUser, ensureUserCredential };
}

/** Provisioning activities. Each is idempotent: it reads the homeserver's state before changing it. */
export function createUserActivities(deps: UserActivityDeps) {
  const { ensureMatrixUser, ensureUserCredential } = createProvisionSteps(deps);
  return {
    /**
     * Both steps of provisioning in one activity (one task round trip through Temporal instead of
     * two): the account as ensureMatrixUser makes it, then the token as ensureUserCredential
     * stores it — a reactivated user's old token is replaced. Idempotent like each of them.
     */
    async provisionMatrixUser(input: EnsureUserInput): Promise<ProvisionMatrixUserResult> {
      const user = await ensureMatrixUser(input);
      const credential = await ensureUserCredential({ ...input, userId: user.userId, renew: user.reactivated });
      return { ...user, tokenIssued: credential.issued };
    },
    // The two steps alone: what runs started before provisionMatrixUser replay and complete with.
    ensureMatrixUser,
    ensureUserCredential,

    /**
     * Replaces the token of generation `staleGeneration`, which the homeserver refused, keeping the
     * Matrix user id; re-provisions (reactivates) the same user if the homeserver no longer has
     * them active. A token that was already replaced is left alone: one re-login per dead token.
     */
    async renewUserToken(input: ReauthUserInput): Promise<ReauthUserResult> {
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
      if (!actable(deps, stored.userId))
        throw failure(
          FailureType.UserNotManaged,
          `the service cannot act as ${stored.userId} (${input.slug}): only their own Matrix client can`,
        );
      const account = stored.adopted
        ? await adopt(deps, { ...input, displayName: stored.displayName ?? input.slug }, stored)
        : await ensureAccount(deps.admin, stored.userId, stored.displayName ?? input.slug);
      const token = await login(deps.admin, stored.userId);
      const generation = await deps.users.replaceToken(input.tenant, input.slug, token, input.staleGeneration);
      return {
        userId: stored.userId,
        renewed: generation !== null,
        reprovisioned: account.reactivated || account.created,
        generation: generation ?? (await deps.users.get(input.tenant, input.slug))!.tokenGeneration,
      };
    },

    /** Runs (or joins the running) `user-auth:{tenant}:{slug}` workflow and waits for it. */
    async reauthUser(input: ReauthUserInput): Promise<ReauthUserResult> {
      return deps.gateway.reauthUser(input);
    },
  };
}

export type UserActivities = ReturnType<typeof createUserActivities>;
