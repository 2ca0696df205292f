import { log } from '@temporalio/workflow';
import type { RoomActivities } from '../activities/rooms.js';
import type { ReconcileInput, ReconcileResult } from '../vocabulary/contract.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './heartbeat.js';

const { listActiveRooms, recordReconcileRun } = proxyActivitiesWithSummaries<RoomActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});
// Waits for the room workflow to do the work (it alone writes a room's power levels).
const { reconcileRoom } = proxyActivitiesWithSummaries<RoomActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 3 },
});

const PARALLEL_ROOMS = 4;

/**
 * Run by the `reconcile:{tenant}` schedule: asks every active room of the tenant to compare its
 * desired membership and roles with the homeserver and repair drift, and records what was fixed.
 */
export async function reconcileTenantWorkflow(input: ReconcileInput): Promise<ReconcileResult> {
  const startedAt = new Date().toISOString(); // the workflow clock: deterministic on replay
  const rooms = await listActiveRooms(input.tenant);
  const result: ReconcileResult = { tenant: input.tenant, rooms: rooms.length, fixes: [], failures: [] };
  for (let i = 0; i < rooms.length; i += PARALLEL_ROOMS) {
    const chunk = rooms.slice(i, i + PARALLEL_ROOMS);
    const settled = await Promise.allSettled(chunk.map((r) => reconcileRoom(r)));
    settled.forEach((s, j) => {
      const room = `${chunk[j]!.kind}/${chunk[j]!.slug}`;
      if (s.status === 'fulfilled') {
        if (s.value.actions.length) result.fixes.push({ room, actions: s.value.actions });
      } else {
        const e = s.reason as { cause?: { message?: string }; message?: string };
        result.failures.push({ room, error: e.cause?.message ?? e.message ?? String(s.reason) });
      }
    });
  }
  await recordReconcileRun({ tenant: input.tenant, startedAt, rooms: rooms.length, fixes: { fixes: result.fixes, failures: result.failures } });
  log.info('reconciled tenant', { tenant: input.tenant, rooms: rooms.length, fixed: result.fixes.length, failed: result.failures.length });
  return result;
}
