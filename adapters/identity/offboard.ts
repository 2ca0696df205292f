/**
 * What offboarding does to an account on the homeserver, in each identity mode (decision 0056).
 * Admin mode: the Synapse Admin API locks, deactivates, erases and reactivates. Appservice mode has
 * no Admin API: the appservice logs the user's devices out (its "lock"; the service itself refuses
 * to provision them meanwhile) and deactivates or erases through the client API, which lets an
 * appservice deactivate its own users without interactive auth — and which nothing can undo there.
 */
import type { Config } from '../../lib/config.js';
import type { MatrixAdmin } from '../matrix/admin.js';
import { matrixCall, MatrixHttpError } from '../matrix/errors.js';
import { matrixRequest, type MatrixRequest } from '../matrix/http.js';

export interface AccountOffboarding {
  /** Whether a deactivation can be undone in this mode (only the Admin API reactivates). */
  readonly reversible: boolean;
  /** The account can no longer be used. `token`: the service's own stored token for the user, logged out first. */
  lock(userId: string, token: string | null): Promise<void>;
  /** Deactivates; `erase`: the homeserver's GDPR erasure too. Repeating it is harmless. */
  deactivate(userId: string, erase: boolean): Promise<void>;
  /** Undoes lock and deactivation (same Matrix id), setting the display name the deactivation cleared. */
  restore(userId: string, displayName: string): Promise<void>;
  /**
   * Deletes the files the user uploaded (the erasure leaves them); how many, or null where the mode
   * has no way to (appservice mode: only the Admin API deletes another user's media).
   */
  deleteUploads(userId: string): Promise<number | null>;
}

/** A logout of a token that is already gone is done. */
async function logout(homeserverUrl: string, req: Omit<MatrixRequest, 'method' | 'body'>): Promise<void> {
  try {
    await matrixRequest(homeserverUrl, { method: 'POST', body: {}, ...req });
  } catch (err) {
    if (err instanceof MatrixHttpError && err.status === 401) return;
    throw err;
  }
}

function adminOffboarding(homeserverUrl: string, admin: MatrixAdmin): AccountOffboarding {
  return {
    reversible: true,
    async lock(userId, token) {
      // The stored token first: a locked user's token is refused, but it would work again on unlock.
      if (token) await matrixCall(() => logout(homeserverUrl, { path: '/_matrix/client/v3/logout', token }));
      await matrixCall(() => admin.setLocked(userId, true));
    },
    deactivate: (userId, erase) => matrixCall(() => admin.deactivate(userId, erase)),
    async restore(userId, displayName) {
      await matrixCall(() => admin.setLocked(userId, false));
      const account = await matrixCall(() => admin.getUser(userId));
      await matrixCall(() => admin.upsertUser(userId, { displayName, reactivate: account?.deactivated === true }));
    },
    deleteUploads: (userId) => matrixCall(() => admin.deleteUploads(userId)),
  };
}

function appserviceOffboarding(homeserverUrl: string, asToken: string): AccountOffboarding {
  const asUser = (userId: string) => ({ token: asToken, query: { user_id: userId } });
  return {
    reversible: false,
    lock: (userId) => matrixCall(() => logout(homeserverUrl, { path: '/_matrix/client/v3/logout/all', ...asUser(userId) })),
    deactivate: (userId, erase) =>
      matrixCall(() =>
        matrixRequest(homeserverUrl, {
          method: 'POST',
          path: '/_matrix/client/v3/account/deactivate',
          ...asUser(userId),
          body: { erase },
        }),
      ),
    // Never deactivated while it could still be cancelled (the workflow defers it): nothing to undo.
    restore: async () => undefined,
    deleteUploads: async () => null,
  };
}

/** The configured mode's way; `admin` is the Admin API of admin mode (null in appservice mode). */
export function accountOffboarding(config: Pick<Config, 'matrix'>, admin: MatrixAdmin | null): AccountOffboarding {
  const m = config.matrix;
  return admin ? adminOffboarding(m.homeserverUrl, admin) : appserviceOffboarding(m.homeserverUrl, m.asToken);
}
