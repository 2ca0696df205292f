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
import type { Identity } from '../adapters/identity/index.js';
import type { UserStore } from '../adapters/store/users.js';

export interface UserActivityDeps {
  /** How accounts are made and acted as, in the configured identity mode (adapters/identity/). */
  identity: Identity;
  users: UserStore;
  gateway: WorkflowGateway;
  userPrefix: string;
  serverName: string;
}

/** The two steps of provisioning: provisionMatrixUser runs both, and each is an activity of its own too. */
function createProvisionSteps(deps: UserActivityDeps) {
  /**
   * Creates the Matrix user, updates the display name when it differs, reactivates a user who
   * was deactivated on the homeserver where the identity mode can; otherwise changes nothing.
   */
  async function ensureMatrixUser(input: EnsureUserInput): Promise<EnsureUserResult> {
    const userId = matrixUserId(deps.userPrefix, deps.serverName, input.tenant, input.slug);
    const account = await deps.identity.ensureAccount(userId, input.displayName);
    await deps.users.upsert({ tenant: input.tenant, slug: input.slug, userId, displayName: input.displayName });
    return {
      userId,
      created: account.created,
      displayNameChanged: account.displayNameChanged,
      reactivated: account.reactivated,
    };
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

  return { ensureMatrixUser, ensureUserCredential };
}

/** Provisioning activities. Each is idempotent: it reads the homeserver's state before changing it. */
export function createUserActivities(deps: UserActivityDeps) {
  const { ensureMatrixUser, ensureUserCredential } = createProvisionSteps(deps);
  return {
    /**
     * Both steps of provisioning in one activity (one task round trip through Temporal instead of
     * two): the account as ensureMatrixUser makes it, then the credential as ensureUserCredential
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
