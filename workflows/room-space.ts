/**
 * The room workflow's space step (decision 0051), after membership and power levels: a group's
 * space in line with the group, an event's room with its group's space, the group's bans. Issued by
 * room-homeserver.ts in its order, behind SPACES_PATCH so histories from before it replay.
 */
import { log, patched, upsertMemo } from '@temporalio/workflow';
import type { RoomActivities } from '../activities/rooms.js';
import type { BatchEffects, BatchFold } from './room-batch.js';
import type { RoomRun } from './room-acts.js';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './heartbeat.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';

/** A group's first pass brings every member into its space: it may take minutes, like the member pass (decision 0039). */
const acts = proxyActivitiesWithSummaries<Pick<RoomActivities, 'syncGroupSpace' | 'syncEventGroup'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '20 seconds' },
});

/**
 * Group and event rooms take part in their group's space, and in its bans. Retire when no open
 * room workflow began before it (decision 0025).
 */
export const SPACES_PATCH = 'group-spaces';

/**
 * A group's member batch touching more members than this leaves its space's members to the next
 * reconciliation (or the first batch of the next run): bringing hundreds into the space would hold
 * the group's next changes back as long again as the batch itself took (decision 0051).
 */
export const SPACE_MEMBERS_PER_BATCH = 20;

/**
 * Whether this batch has anything for the space step: a ban, a new group, reconciliation (of a
 * group, or an event that has or had one), a group's members or name, or the first look of the
 * run at a group or at an event of a group.
 */
function spaceDue(run: RoomRun, fold: BatchFold): boolean {
  const { ref, state } = run;
  if (ref.kind === 'dm' || fold.archive) return false;
  if (fold.bans || fold.groupChanged) return true;
  if (ref.kind === 'group')
    return state.space === undefined || fold.reconcile || fold.settingsChanged || (fold.targets.size > 0 && fold.targets.size <= SPACE_MEMBERS_PER_BATCH);
  const grouped = !!state.group || !!state.space?.parent;
  return grouped && (state.space === undefined || fold.reconcile);
}

/**
 * Brings the room's part of its group's space to the desired state. A failure fails the batch only
 * when it carries a ban (its caller must learn the ban is not in place); otherwise it is logged and
 * left to the next batch or reconciliation, the room's own changes having been made.
 */
/**
 * The space step runs after the batch's callers are answered, unless the batch is about the space:
 * a ban, reconciliation, an event's new group, a group's new name (their callers hear what it did).
 */
export const spaceAfterAnswers = (fold: BatchFold): boolean =>
  !fold.bans && !fold.reconcile && !fold.groupChanged && !fold.settingsChanged;

/**
 * Whether the batch takes the space step, asked synchronously by its callers: an `await` of a step
 * that does nothing would still reorder a run's commands against its update answers in histories
 * from before the step (test/workflows/replay.test.ts).
 */
export const spaceStepDue = (run: RoomRun, fold: BatchFold): boolean => spaceDue(run, fold) && patched(SPACES_PATCH);

/** The step itself; callers check spaceStepDue first. */
export async function syncSpace(run: RoomRun, fold: BatchFold, roomId: string, effects: BatchEffects): Promise<void> {
  const { ref, state } = run;
  const firstLook = state.space === undefined;
  try {
    const synced =
      ref.kind === 'group'
        ? await acts.syncGroupSpace({
            ref,
            roomId,
            name: state.settings.name,
            members: state.members,
            ...(firstLook || fold.reconcile || fold.bans ? {} : { touched: [...fold.targets.keys()] }),
          })
        : await acts.syncEventGroup({
            ref,
            roomId,
            visibility: state.settings.visibility ?? 'private',
            ...(state.group === undefined ? {} : { group: state.group }),
          });
    state.space = synced.view;
    if (ref.kind === 'event') state.group = synced.group;
    state.bans = synced.bans;
    for (const slug of synced.bans) delete state.members[slug];
    // Answered already: the space's part is in the log.
    if (spaceAfterAnswers(fold)) {
      if (synced.actions.length) log.info('space brought along', { actions: synced.actions });
    } else effects.roomActions.push(...synced.actions);
    upsertMemo({ space: synced.view, ...(ref.kind === 'event' ? { group: synced.group } : {}) });
  } catch (err) {
    if (fold.bans) throw err;
    log.warn('the space is not in line; the next batch or reconciliation tries again', { error: String(err) });
  }
}
