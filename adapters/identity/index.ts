/** The identity adapter of the configured mode (MATRIX_IDENTITY_MODE), chosen once at worker start. */
import type { IdentityScope } from '../../vocabulary/identity.js';
import type { Config } from '../../lib/config.js';
import { configuredAdmin, type MatrixAdmin } from '../matrix/admin.js';
import type { UserStore } from '../store/users.js';
import { adminIdentity } from './admin.js';
import { appserviceIdentity } from './appservice.js';
import type { Identity } from './types.js';

export type { AccountChange, AccountState, ActingAs, Identity } from './types.js';
export { adoptedAccountMissing, notManaged } from './refusals.js';

/**
 * Whom the configured mode can act as (vocabulary/identity.ts canActAs): what the API and the CLI
 * need of the mode, without the adapter's account calls.
 */
export function identityScope(config: Pick<Config, 'matrix'>): IdentityScope {
  const m = config.matrix;
  return { mode: m.identityMode, serverName: m.serverName, userPrefix: m.userPrefix };
}

/**
 * The identity, and the Synapse Admin API where the mode uses it (admin mode: accounts, tokens, and
 * room purges on archive); null in appservice mode, where nothing calls it.
 */
export function identityFor(
  config: Pick<Config, 'matrix'>,
  users: UserStore,
): { identity: Identity; admin: MatrixAdmin | null } {
  const m = config.matrix;
  const scope = identityScope(config);
  if (m.identityMode === 'appservice') {
    return {
      identity: appserviceIdentity({ homeserverUrl: m.homeserverUrl, asToken: m.asToken, users, scope }),
      admin: null,
    };
  }
  const admin = configuredAdmin(m);
  return { identity: adminIdentity({ admin, users, scope }), admin };
}
