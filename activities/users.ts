import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../lib/failures.js';
import { matrixUserId } from '../workflows/ids.js';
import type { EnsureCredentialResult, EnsureUserInput, EnsureUserResult, UserRef } from '../workflows/messages.js';
import type { MatrixAdmin } from './matrix/admin.js';
import { matrixCall } from './matrix/errors.js';
import type { UserStore } from './store/users.js';

export interface UserActivityDeps {
  admin: MatrixAdmin;
  users: UserStore;
  userPrefix: string;
  serverName: string;
}

/** Provisioning activities. Each is idempotent: it reads the homeserver's state before changing it. */
export function createUserActivities(deps: UserActivityDeps) {
  return {
    /** Creates the Matrix user, or updates the display name when it differs; otherwise changes nothing. */
    async ensureMatrixUser(input: EnsureUserInput): Promise<EnsureUserResult> {
      const userId = matrixUserId(deps.userPrefix, deps.serverName, input.tenant, input.slug);
      const existing = await matrixCall(() => deps.admin.getUser(userId));
      if (existing?.deactivated) {
        throw ApplicationFailure.create({
          type: FailureType.Forbidden,
          message: `${userId} is deactivated on the homeserver`,
          nonRetryable: true,
        });
      }
      const changed = !existing || existing.displayName !== input.displayName;
      if (changed) await matrixCall(() => deps.admin.upsertUser(userId, { displayName: input.displayName }));
      await deps.users.upsert({ tenant: input.tenant, slug: input.slug, userId, displayName: input.displayName });
      return { userId, created: !existing, displayNameChanged: Boolean(existing) && changed };
    },

    /**
     * Makes sure a working token for the user is stored, encrypted. An existing token is kept (it is
     * validated when a call fails with it, not on every use), so repeats create no new token.
     */
    async ensureUserCredential(input: UserRef & { userId: string }): Promise<EnsureCredentialResult> {
      const stored = await deps.users.get(input.tenant, input.slug);
      if (stored?.hasToken) return { issued: false };
      const token = await matrixCall(() => deps.admin.loginAs(input.userId));
      const issued = await deps.users.storeTokenIfAbsent(input.tenant, input.slug, token);
      return { issued };
    },
  };
}

export type UserActivities = ReturnType<typeof createUserActivities>;
