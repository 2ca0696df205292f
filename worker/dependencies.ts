import type { Client } from '@temporalio/client';
import { connectTemporal } from '../adapters/temporal.js';
import { requireSearchAttributes } from '../adapters/search-attribute-check.js';
import type { ActivityDeps } from '../activities/index.js';
import { identityFor } from '../adapters/identity/index.js';
import { createMatrixAliases } from '../adapters/matrix/aliases.js';
import { createMatrixBot } from '../adapters/matrix/client.js';
import { createBotNotices } from '../adapters/matrix/bot-notices.js';
import { auditPseudonymKey } from '../adapters/store/audit.js';
import { createEventTimeStore } from '../adapters/store/event-times.js';
import { createMatrixSpaces } from '../adapters/matrix/spaces.js';
import { createSpaceStore } from '../adapters/store/spaces.js';
import { createDb, migrate, type Db } from '../adapters/store/db.js';
import { verifyTokenKeys } from '../adapters/store/keys.js';
import { createRoomSlugStore } from '../adapters/store/room-slugs.js';
import { createJoinRequestStore } from '../adapters/store/join-requests.js';
import { createRoomStore } from '../adapters/store/rooms.js';
import { createRoomMuteStore } from '../adapters/store/room-mutes.js';
import { createMessageOutbox } from '../adapters/store/outbox.js';
import { createRoomEncryption } from '../adapters/store/room-encryption.js';
import { sentNotifier } from '../adapters/store/sent-notices.js';
import { createUserStore } from '../adapters/store/users.js';
import { createOffboardingStore } from '../adapters/store/offboardings.js';
import { accountOffboarding } from '../adapters/identity/offboard.js';
import type { Config } from '../lib/config.js';
import { createWebhookStore } from '../adapters/store/webhooks.js';
import { TokenCipher } from '../lib/token-cipher.js';
import { createWorkflowGateway } from './gateway.js';

export interface WorkerDependencies {
  db: Db;
  /** The Temporal client the activities start other workflows with (and the outbox sweeper its sends). */
  client: Client;
  activities: ActivityDeps;
  close(): Promise<void>;
}

/**
 * Builds the real dependencies of the activities from configuration, applying migrations first
 * and checking that the Temporal namespace has our search attributes (`warn` hears what it cannot check).
 */
export async function createWorkerDependencies(
  config: Config,
  warn: (message: string) => void = () => undefined,
): Promise<WorkerDependencies> {
  const db = createDb(config.databaseUrl, 10, config.database);
  await migrate(db);
  const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
  await verifyTokenKeys(db, cipher);
  const users = createUserStore(db, cipher);
  // The one place the identity mode is looked at: everything else acts through `identity`.
  const { identity, admin } = identityFor(config, users);
  const { client, close: closeTemporal } = await connectTemporal(config);
  await requireSearchAttributes(client, config.temporal.namespace, warn).catch(async (err: unknown) => {
    await Promise.allSettled([closeTemporal(), db.end()]);
    throw err;
  });
  const outbox = createMessageOutbox(db);
  const encryption = createRoomEncryption(db);
  const offboardings = createOffboardingStore(db, config.tokens.keys, config.tokens.activeKeyId);
  return {
    db,
    client,
    activities: {
      identity,
      admin,
      bot: createMatrixBot({
        homeserverUrl: config.matrix.homeserverUrl,
        asToken: config.matrix.asToken,
        userId: `@${config.matrix.botLocalpart}:${config.matrix.serverName}`,
      }),
      users,
      // The audit trail's entries (decision 0060).
      audit: db,
      rooms: createRoomStore(db),
      gateway: createWorkflowGateway(client, config),
      homeserverUrl: config.matrix.homeserverUrl,
      announceSent: sentNotifier(db),
      recordSent: (key, eventId) => outbox.markSent(key, eventId),
      roomEncrypted: (roomId) => encryption.isEncrypted(roomId),
      userPrefix: config.matrix.userPrefix,
      serverName: config.matrix.serverName,
      powerLevels: config.rooms.powerLevels,
      purgeOnArchive: config.rooms.purgeOnArchive,
      aliases: createMatrixAliases({ homeserverUrl: config.matrix.homeserverUrl, asToken: config.matrix.asToken }),
      slugs: createRoomSlugStore(db),
      oldAliasKeepMs: config.rooms.oldAliasKeepSeconds * 1000,
      joinRequests: createJoinRequestStore(db),
      webhooks: createWebhookStore(db, cipher),
      mutes: createRoomMuteStore(db),
      eventTimes: createEventTimeStore(db),
      notices: createBotNotices({ homeserverUrl: config.matrix.homeserverUrl, asToken: config.matrix.asToken }),
      offboard: {
        store: offboardings,
        accounts: accountOffboarding(config, admin),
        db,
        auditKey: auditPseudonymKey(config.tokens.keys.find((k) => k.id === config.tokens.activeKeyId)!),
      },
      offboardingHolds: (tenant, userId) => offboardings.holds(tenant, userId),
      spaces: createMatrixSpaces({ homeserverUrl: config.matrix.homeserverUrl, asToken: config.matrix.asToken }),
      spaceStore: createSpaceStore(db),
    },
    async close() {
      await closeTemporal();
      await db.end();
    },
  };
}
