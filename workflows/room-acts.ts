/**
 * What the room workflow's homeserver work is made of: its activities (one retry policy), what a
 * batch works on, and the per-member way a member goes when a pass could not finish them. Used by
 * room-homeserver.ts and room-members.ts, which issue the activities in their order.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { RoomActivities } from '../activities/rooms.js';
import { asUser } from './as-user.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './heartbeat.js';
import type { RoomRef, RoomState } from '../vocabulary/contract.js';
import type { MemberResult, Target } from './room-batch.js';

/** The room workflow's activities: retried with backoff for as long as the homeserver needs. */
export const acts = proxyActivitiesWithSummaries<RoomActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '20 seconds' },
});

/**
 * The one pass (`applyMembers`) alone: up to PASS_CHUNK members, each an invite and a join sent one
 * at a time, may rightly take minutes (1,000 writes at the ~1 s each they took with 20 rooms at
 * once on a loaded 2-core machine: about 17). Cut off at the two minutes of the others, a pass was
 * retried from its first member while its first attempt's work stood (every member invited again,
 * answered "already in the room"; decision 0039). A dead worker is still found by the heartbeat timeout.
 */
export const passActs = proxyActivitiesWithSummaries<Pick<RoomActivities, 'applyMembers'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '20 seconds' },
});

/** Members worked on at once: enough to be quick, few enough not to starve the worker. */
const PARALLEL_MEMBERS = 8;
/** What a batch works on: the entity, its state (updated in place) and what this run knows. */
export interface RoomRun {
  ref: RoomRef;
  state: RoomState;
  /** This run wrote the room's power levels to match `state.members` (never carried: a new run checks). */
  powerLevelsInSync: boolean;
}

/** A failure as the caller sees it: the activity's own type and message, not "Activity task failed". */
export function failureOf(err: unknown): ApplicationFailure {
  const cause = (err as { cause?: unknown }).cause ?? err;
  const c = cause as { type?: string; message?: string };
  const message = c.message || (err as Error).message || String(err);
  return ApplicationFailure.create({ type: c.type ?? (err as Error).name ?? 'Failure', message, nonRetryable: true });
}

export async function inChunks<T, R>(items: T[], size: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/** The per-member way: prepare, then join as the user (token renewed through asUser), or remove. */
export async function converge(
  run: RoomRun,
  targets: Map<string, Target>,
  removeIds: string[],
  roomId: string,
): Promise<Map<string, MemberResult>> {
  const { ref } = run;
  const inviteOnly = run.state.settings.visibility !== 'public';
  const results = new Map<string, MemberResult>();
  await inChunks([...targets], PARALLEL_MEMBERS, async ([userSlug, t]) => {
    try {
      if (t.to === 'leave') {
        results.set(userSlug, { actions: await acts.ensureMemberRemoved({ ref, roomId, userSlug }) });
        return;
      }
      const prepared = await acts.prepareMember({ ref, roomId, userSlug, displayName: t.displayName, inviteOnly });
      if (!prepared.joined) {
        await asUser(ref.tenant, userSlug, () => acts.joinAsMember({ ref, roomId, userSlug }));
        prepared.actions.push(`joined ${prepared.userId}`);
      }
      results.set(userSlug, { actions: prepared.actions });
    } catch (err) {
      results.set(userSlug, { actions: [], error: failureOf(err) });
    }
  });
  await inChunks(removeIds, PARALLEL_MEMBERS, async (userId) => {
    const actions = await acts.ensureMemberRemoved({ ref, roomId, userId });
    results.set(userId, { actions });
  });
  return results;
}
