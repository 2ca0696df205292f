import type { RoomKind } from '../vocabulary/ids.js';
import { createAuditActivities, type AuditActivityDeps } from './audit.js';
import { createMessageActivities, type MessageActivityDeps } from './messages.js';
import { createOffboardActivities, type OffboardActivityDeps } from './offboard.js';
import { createRoomActivities, type RoomActivityDeps } from './rooms.js';
import { createUserActivities, type UserActivityDeps } from './users.js';
import { createUsersBatchActivities } from './users-batch.js';
import { createWebhookActivities, reconcileFindings, type WebhookActivityDeps } from './webhooks.js';

export type ActivityDeps = UserActivityDeps & RoomActivityDeps & MessageActivityDeps & WebhookActivityDeps &
  AuditActivityDeps & OffboardActivityDeps;

/** Every activity the worker registers, built from real dependencies handed in by the caller. */
export function createActivities(deps: ActivityDeps) {
  const rooms = createRoomActivities(deps);
  return {
    ...createUserActivities(deps),
    ...createUsersBatchActivities(deps),
    ...rooms,
    ...createMessageActivities(deps),
    ...createWebhookActivities(deps),
    ...createAuditActivities(deps),
    ...createOffboardActivities(deps),
    /** The run recorded, and its findings queued for the tenant's webhook (decision 0049). */
    async recordReconcileRun(input: Parameters<typeof rooms.recordReconcileRun>[0]): Promise<void> {
      // Findings first: their delivery ids are stable, so a retry after a failure here queues nothing twice.
      if (deps.webhooks) {
        const gone = async (kind: string, slug: string): Promise<boolean> => {
          const roomId = (await deps.rooms.get(input.tenant, kind as RoomKind, slug))?.roomId;
          return !!roomId && !(await deps.bot.roomIsReachable(roomId));
        };
        await deps.webhooks.reconcileFindings(input.tenant, input.startedAt, await reconcileFindings(input.fixes, gone));
      }
      await rooms.recordReconcileRun(input);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
