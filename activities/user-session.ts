import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../vocabulary/failures.js';
import { UndecryptableTokenError } from '../lib/token-cipher.js';
import { matrixCall } from '../adapters/matrix/errors.js';
import type { UserStore } from '../adapters/store/users.js';

export interface UserSession {
  userId: string;
  accessToken: string;
}

/** The details carried by a `MatrixUnknownToken` failure: which token generation stopped working. */
export interface UnknownTokenDetails {
  tenant: string;
  slug: string;
  generation: number;
}

/**
 * Acting as a platform user. `run` hands the user's stored token to `fn` and translates whatever
 * `fn` throws; when the homeserver no longer accepts the token (or none is stored) it fails with
 * `MatrixUnknownToken` carrying the token's generation, so the workflow renews exactly that token
 * once (workflows/as-user.ts) and retries. Tokens are validated on failure, never before each use.
 */
export interface UserSessions {
  run<T>(tenant: string, slug: string, fn: (session: UserSession) => Promise<T>): Promise<T>;
}

export function createUserSessions(users: UserStore): UserSessions {
  return {
    async run(tenant, slug, fn) {
      let credential;
      try {
        credential = await users.getCredential(tenant, slug);
      } catch (err) {
        if (err instanceof UndecryptableTokenError) {
          throw ApplicationFailure.create({ type: FailureType.CredentialUndecryptable, message: err.message, nonRetryable: true });
        }
        throw err;
      }
      const details: UnknownTokenDetails = { tenant, slug, generation: credential?.generation ?? 0 };
      if (!credential?.accessToken) {
        throw ApplicationFailure.create({ type: FailureType.UnknownToken, message: `no token stored for ${tenant}/${slug}`, nonRetryable: true, details: [details] });
      }
      try {
        return await matrixCall(() => fn({ userId: credential.userId, accessToken: credential.accessToken! }));
      } catch (err) {
        const f = err as ApplicationFailure;
        if (f.type === FailureType.UnknownToken) {
          throw ApplicationFailure.create({ type: FailureType.UnknownToken, message: f.message, nonRetryable: true, details: [details] });
        }
        throw err;
      }
    },
  };
}
