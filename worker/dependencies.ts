import { connectTemporal } from '../adapters/temporal.js';
import type { ActivityDeps } from '../activities/index.js';
import { createSynapseAdmin } from '../adapters/matrix/admin.js';
import { createMatrixBot } from '../adapters/matrix/client.js';
import { createDb, migrate, type Db } from '../adapters/store/db.js';
import { verifyTokenKeys } from '../adapters/store/keys.js';
import { createRoomStore } from '../adapters/store/rooms.js';
import { sentNotifier } from '../adapters/store/sent-notices.js';
import { createUserStore } from '../adapters/store/users.js';
import { createUserSessions } from '../activities/user-session.js';
import type { Config } from '../lib/config.js';
import { TokenCipher } from '../lib/token-cipher.js';
import { createWorkflowGateway } from './gateway.js';

export interface WorkerDependencies {
  db: Db;
  activities: ActivityDeps;
  close(): Promise<void>;
}

/** Builds the real dependencies of the activities from configuration, applying migrations first. */
export async function createWorkerDependencies(config: Config): Promise<WorkerDependencies> {
  const db = createDb(config.databaseUrl, 10, config.database);
  await migrate(db);
  const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
  await verifyTokenKeys(db, cipher);
  const users = createUserStore(db, cipher);
  const { client, close: closeTemporal } = await connectTemporal(config);
  return {
    db,
    activities: {
      admin: createSynapseAdmin({
        homeserverUrl: config.matrix.homeserverUrl,
        adminUserId: config.matrix.adminUserId,
        adminPassword: config.matrix.adminPassword,
      }),
      bot: createMatrixBot({
        homeserverUrl: config.matrix.homeserverUrl,
        asToken: config.matrix.asToken,
        userId: `@${config.matrix.botLocalpart}:${config.matrix.serverName}`,
      }),
      users,
      sessions: createUserSessions(users),
      rooms: createRoomStore(db),
      gateway: createWorkflowGateway(client, config),
      homeserverUrl: config.matrix.homeserverUrl,
      announceSent: sentNotifier(db),
      userPrefix: config.matrix.userPrefix,
      serverName: config.matrix.serverName,
      identityMode: config.matrix.identityMode,
      powerLevels: config.rooms.powerLevels,
      purgeOnArchive: config.rooms.purgeOnArchive,
    },
    async close() {
      await closeTemporal();
      await db.end();
    },
  };
}
