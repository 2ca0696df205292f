/**
 * The client-server calls an application service makes about the accounts in its user namespace,
 * all with its `as_token` (acting as the user by the `user_id` query parameter where the call is the
 * user's own). No Admin API: these work on a homeserver that delegates login to an OIDC provider.
 * Homeserver answers come back as MatrixHttpError, for the caller to translate.
 */
import { MatrixHttpError } from '../matrix/errors.js';
import { enc, matrixRequest } from '../matrix/http.js';

export interface AppserviceAccounts {
  /** Registers the localpart in the namespace; false when it exists already (M_USER_IN_USE). */
  register(localpart: string): Promise<boolean>;
  /**
   * Whether the account is deactivated: true or false where the homeserver tells, null where it
   * cannot (see `deactivated` below).
   */
  deactivated(userId: string): Promise<boolean | null>;
  /**
   * Whether the account of a user id in the namespace is registered: the homeserver refuses to
   * assert an unregistered one (403).
   */
  exists(userId: string): Promise<boolean>;
  /** The user's display name (null: none set). */
  displayName(userId: string): Promise<string | null>;
  /** Sets the display name as the user (the homeserver updates their membership in every room). */
  setDisplayName(userId: string, displayName: string): Promise<void>;
}

/** The device of the deactivation check's short-lived login: one fixed id, so a lost logout leaves one device, not many. */
export const ACCOUNT_CHECK_DEVICE = 'OM_ACCOUNT_CHECK';

/**
 * Identity assertion works for a deactivated account too (Synapse checks only that the account
 * exists), so nothing else would tell. The appservice login does check: it is refused with
 * M_USER_DEACTIVATED, and otherwise answers a token that is logged out at once (its device goes
 * with it). A homeserver without that login (Matrix Authentication Service answers
 * M_APPSERVICE_LOGIN_UNSUPPORTED) cannot tell: null.
 */
async function deactivated(homeserverUrl: string, asToken: string, userId: string): Promise<boolean | null> {
  let token: string;
  try {
    const r = await matrixRequest<{ access_token: string }>(homeserverUrl, {
      method: 'POST',
      path: '/_matrix/client/v3/login',
      token: asToken,
      body: {
        type: 'm.login.application_service',
        identifier: { type: 'm.id.user', user: userId },
        device_id: ACCOUNT_CHECK_DEVICE,
        initial_device_display_name: 'matrix-orchestrator account check',
      },
    });
    token = r.access_token;
  } catch (err) {
    if (!(err instanceof MatrixHttpError)) throw err;
    if (err.errcode === 'M_USER_DEACTIVATED') return true;
    // 401 (the as_token refused), 429 and 5xx are the caller's to translate or retry.
    if (err.status === 401 || err.status === 429 || err.status >= 500) throw err;
    return null;
  }
  await matrixRequest(homeserverUrl, { method: 'POST', path: '/_matrix/client/v3/logout', token, body: {} });
  return false;
}

export function appserviceAccounts(homeserverUrl: string, asToken: string): AppserviceAccounts {
  const asUser = (userId: string) => ({ token: asToken, query: { user_id: userId } });
  return {
    async register(localpart) {
      try {
        await matrixRequest(homeserverUrl, {
          method: 'POST',
          path: '/_matrix/client/v3/register',
          token: asToken,
          // inhibit_login: no device, no token (the homeserver of a delegated login insists on it).
          body: { type: 'm.login.application_service', username: localpart, inhibit_login: true },
        });
        return true;
      } catch (err) {
        if (err instanceof MatrixHttpError && err.errcode === 'M_USER_IN_USE') return false;
        throw err;
      }
    },

    deactivated: (userId) => deactivated(homeserverUrl, asToken, userId),

    async exists(userId) {
      try {
        await matrixRequest(homeserverUrl, {
          method: 'GET',
          path: '/_matrix/client/v3/account/whoami',
          ...asUser(userId),
        });
        return true;
      } catch (err) {
        if (err instanceof MatrixHttpError && err.status === 403) return false;
        throw err;
      }
    },

    async displayName(userId) {
      try {
        const r = await matrixRequest<{ displayname?: string | null }>(homeserverUrl, {
          method: 'GET',
          path: `/_matrix/client/v3/profile/${enc(userId)}/displayname`,
          ...asUser(userId),
        });
        return r.displayname ?? null;
      } catch (err) {
        if (err instanceof MatrixHttpError && err.status === 404) return null;
        throw err;
      }
    },

    async setDisplayName(userId, displayName) {
      await matrixRequest(homeserverUrl, {
        method: 'PUT',
        path: `/_matrix/client/v3/profile/${enc(userId)}/displayname`,
        ...asUser(userId),
        body: { displayname: displayName },
      });
    },
  };
}
