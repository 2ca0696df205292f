import type { ActivityDeps } from '../activities/index.js';
import { createSynapseAdmin } from '../activities/matrix/admin.js';
import { createDb, migrate, type Db } from '../activities/store/db.js';
import { createUserStore } from '../activities/store/users.js';
import type { Config } from '../lib/config.js';
import { TokenCipher } from '../lib/token-cipher.js';

export interface WorkerDependencies {
  db: Db;
  activities: ActivityDeps;
}

/** Builds the real dependencies of the activities from configuration, applying migrations first. */
export async function createWorkerDependencies(config: Config): Promise<WorkerDependencies> {
  const db = createDb(config.databaseUrl);
  await migrate(db);
  const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
  return {
    db,
    activities: {
      admin: createSynapseAdmin({
        homeserverUrl: config.matrix.homeserverUrl,
        adminUserId: config.matrix.adminUserId,
        adminPassword: config.matrix.adminPassword,
      }),
      users: createUserStore(db, cipher),
      userPrefix: config.matrix.userPrefix,
      serverName: config.matrix.serverName,
    },
  };
}
