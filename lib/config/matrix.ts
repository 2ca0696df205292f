/** The homeserver's section of the configuration (`MATRIX_*`), with what each identity mode needs. */
import { IDENTITY_MODES, type IdentityMode } from '../../vocabulary/identity.js';
import { ConfigError, oneOf, optional, required, url, type Env } from './read.js';

export interface MatrixConfig {
  /** Client-server base URL of the homeserver (in admin mode also serving the Synapse Admin API). */
  homeserverUrl: string;
  serverName: string;
  /** A server admin's Matrix user id; in admin mode the worker logs in as it for the Admin API. */
  adminUserId: string;
  /** Its password: required in admin mode, never used in appservice mode (null when unset there). */
  adminPassword: string | null;
  /** Prefix of every platform user's localpart: `{prefix}_{tenant}_{slug}`. */
  userPrefix: string;
  /** Application service tokens (the bot acts with asToken; Synapse pushes with hsToken). */
  asToken: string;
  hsToken: string;
  botLocalpart: string;
  /** The appservice registration's `id` (Synapse's ping endpoint names it). */
  appserviceId: string;
  /** How the service acts as users (vocabulary/identity.ts): `admin` (default) or `appservice`. */
  identityMode: IdentityMode;
}

export function matrix(env: Env): MatrixConfig {
  const homeserverUrl = url(
    env,
    'MATRIX_HOMESERVER_URL',
    optional(env, 'MATRIX_HOMESERVER_URL', 'http://127.0.0.1:8008'),
  );
  const serverName = optional(env, 'MATRIX_SERVER_NAME', 'localhost');
  const adminUser = optional(env, 'MATRIX_ADMIN_USER', 'admin');
  const userPrefix = optional(env, 'MATRIX_USER_PREFIX', 'om');
  if (!/^[a-z0-9]{1,16}$/.test(userPrefix)) throw new ConfigError('MATRIX_USER_PREFIX', 'must be 1-16 of a-z0-9');
  const identityMode = oneOf(env, 'MATRIX_IDENTITY_MODE', IDENTITY_MODES, 'admin');
  return {
    homeserverUrl: homeserverUrl.toString().replace(/\/$/, ''),
    serverName,
    adminUserId: adminUser.startsWith('@') ? adminUser : `@${adminUser}:${serverName}`,
    adminPassword: identityMode === 'admin' ? adminPassword(env) : optional(env, 'MATRIX_ADMIN_PASSWORD', '') || null,
    userPrefix,
    asToken: required(env, 'MATRIX_AS_TOKEN'),
    hsToken: required(env, 'MATRIX_HS_TOKEN'),
    botLocalpart: optional(env, 'MATRIX_BOT_LOCALPART', 'openmeet-bot'),
    appserviceId: optional(env, 'MATRIX_APPSERVICE_ID', 'matrix-orchestrator'),
    identityMode,
  };
}

/** Admin mode acts through the Synapse Admin API, as this admin: it cannot start without the password. */
function adminPassword(env: Env): string {
  const v = env.MATRIX_ADMIN_PASSWORD?.trim();
  if (!v) {
    throw new ConfigError(
      'MATRIX_ADMIN_PASSWORD',
      'is required but not set: MATRIX_IDENTITY_MODE=admin (the default) acts through the Synapse Admin API as MATRIX_ADMIN_USER. ' +
        'Set it, or MATRIX_IDENTITY_MODE=appservice to act with the appservice token alone',
    );
  }
  return v;
}
