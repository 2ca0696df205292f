import { createSynapseAdmin, type MatrixAdmin } from '../../activities/matrix/admin.js';
import { matrixRequest } from '../../activities/matrix/http.js';
import type { Config } from '../../lib/config.js';

/** Independent eyes on the homeserver: what Synapse itself says, not what our database believes. */
export function adminFor(config: Config): MatrixAdmin {
  return createSynapseAdmin({
    homeserverUrl: config.matrix.homeserverUrl,
    adminUserId: config.matrix.adminUserId,
    adminPassword: config.matrix.adminPassword,
    deviceId: 'TEST_OBSERVER',
  });
}

export async function whoami(config: Config, token: string): Promise<string> {
  const r = await matrixRequest<{ user_id: string }>(config.matrix.homeserverUrl, {
    method: 'GET',
    path: '/_matrix/client/v3/account/whoami',
    token,
  });
  return r.user_id;
}

/** Logs in as the admin (observer device) and returns the raw token, for Admin API checks. */
export async function adminToken(config: Config): Promise<string> {
  const r = await matrixRequest<{ access_token: string }>(config.matrix.homeserverUrl, {
    method: 'POST',
    path: '/_matrix/client/v3/login',
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: config.matrix.adminUserId },
      password: config.matrix.adminPassword,
      device_id: 'TEST_OBSERVER',
    },
  });
  return r.access_token;
}

/** Users on the homeserver whose id starts with `@{localpartPrefix}`, per the Admin API. */
export async function listUsers(config: Config, token: string, localpartPrefix: string): Promise<string[]> {
  const r = await matrixRequest<{ users: { name: string }[] }>(config.matrix.homeserverUrl, {
    method: 'GET',
    path: '/_synapse/admin/v2/users',
    token,
    query: { name: localpartPrefix, limit: '1000', guests: 'false' },
  });
  return r.users.map((u) => u.name).filter((n) => n.startsWith(`@${localpartPrefix}`));
}
