/**
 * `user inspect`: the stored user (never the token: only whether one is stored, its generation,
 * key and age), what the homeserver says about the account (the Synapse Admin API in admin mode,
 * the appservice in appservice mode), and whether the stored token still acts as the user (admin
 * mode: the appservice mode stores none).
 */
import type { Db } from '../../adapters/store/db.js';
import { createUserStore } from '../../adapters/store/users.js';
import type { Config } from '../../lib/config.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { matrixUserId, provisionUserWorkflowId } from '../../vocabulary/ids.js';
import { adminUser, appserviceUser, tokenWorks, withAdmin, type AdminUserView } from './homeserver.js';
import { glance, type WorkflowGlance } from './temporal.js';

export interface StoredUserView {
  userId: string;
  displayName: string | null;
  token: { present: boolean; generation: number; keyId: string | null; issuedAt: string | null };
  createdAt: string;
  updatedAt: string;
}

export interface UserInspection {
  tenant: string;
  slug: string;
  userId: string;
  workflowId: string;
  /** How the service acts as users (MATRIX_IDENTITY_MODE): admin mode stores tokens, appservice mode none. */
  identityMode: Config['matrix']['identityMode'];
  workflow: WorkflowGlance | null | { error: string };
  stored: StoredUserView | null;
  /** The homeserver's view (Admin API, or the appservice's); null when it has no such user. */
  homeserver: AdminUserView | null;
  /** Whether the stored token still acts as the user (`whoami`); null when none is stored. */
  tokenWorks: boolean | null;
  /** Everything out of line; empty when stored user and homeserver agree and the token works. */
  problems: string[];
}

interface Row {
  user_id: string;
  display_name: string | null;
  has_token: boolean;
  token_generation: number;
  token_key_id: string | null;
  token_issued_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export async function inspectUser(config: Config, db: Db, tenant: string, slug: string): Promise<UserInspection> {
  // The ciphertext is not even selected: what is shown about the token is metadata only.
  const r = await db.query<Row>(
    `SELECT user_id, display_name, token_ciphertext IS NOT NULL AS has_token, token_generation, token_key_id, token_issued_at, created_at, updated_at
     FROM matrix_users WHERE tenant = $1 AND slug = $2`,
    [tenant, slug],
  );
  const row = r.rows[0];
  const stored: StoredUserView | null = row
    ? {
        userId: row.user_id,
        displayName: row.display_name,
        token: {
          present: row.has_token,
          generation: row.token_generation,
          keyId: row.token_key_id,
          issuedAt: row.token_issued_at?.toISOString() ?? null,
        },
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      }
    : null;
  const userId = stored?.userId ?? matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);
  const workflowId = provisionUserWorkflowId(tenant, slug);

  const appservice = config.matrix.identityMode === 'appservice';
  const [workflow, homeserver, works] = await Promise.all([
    glance(config, workflowId),
    appservice ? appserviceUser(config, userId) : withAdmin(config, (token) => adminUser(config, token, userId)),
    checkToken(config, db, tenant, slug, userId, stored?.token.present ?? false),
  ]);

  const problems: string[] = [];
  if (!stored) problems.push('not provisioned: no row in matrix_users');
  if (!homeserver) problems.push(`${userId} does not exist on the homeserver`);
  if (homeserver?.deactivated) problems.push(`${userId} is deactivated on the homeserver`);
  if (homeserver?.locked) problems.push(`${userId} is locked on the homeserver`);
  if (stored && homeserver && stored.displayName !== null && homeserver.displayName !== stored.displayName) {
    problems.push(
      `display name on the homeserver is ${JSON.stringify(homeserver.displayName)}, stored ${JSON.stringify(stored.displayName)}`,
    );
  }
  if (stored && !stored.token.present && !appservice) problems.push('no access token stored');
  if (works.works === false) problems.push(`the stored token does not work: ${works.reason}`);
  const identityMode = config.matrix.identityMode;
  return {
    tenant,
    slug,
    userId,
    workflowId,
    identityMode,
    workflow,
    stored,
    homeserver,
    tokenWorks: works.works,
    problems,
  };
}

async function checkToken(
  config: Config,
  db: Db,
  tenant: string,
  slug: string,
  userId: string,
  present: boolean,
): Promise<{ works: boolean | null; reason?: string }> {
  if (!present) return { works: null };
  let token: string | null;
  try {
    token = await createUserStore(db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId)).getToken(
      tenant,
      slug,
    );
  } catch (err) {
    return { works: false, reason: `cannot decrypt it with TOKEN_ENCRYPTION_KEYS (${(err as Error).message})` };
  }
  return token ? tokenWorks(config, token, userId) : { works: null };
}
