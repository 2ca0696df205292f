/**
 * The room workflow's homeserver work for one folded batch: the room, then membership, then power
 * levels, then the archive (decision 0005). Every activity, patch marker and search-attribute
 * upsert the room workflow issues for a batch is issued here, in this order: saved histories
 * replay against it (test/workflows/replay.test.ts), so reordering them breaks running workflows.
 */
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { emptyEffects, followRenames, type BatchEffects, type BatchFold } from './room-batch.js';
import { acts, converge, failureOf, type RoomRun } from './room-acts.js';
import { bringBackListed, onePassMembers } from './room-members.js';
import { recordMutes, writeMutedLevels } from './room-mutes.js';
import { postCancelNotice } from './room-timers.js';
import { refusePendingOnArchive } from './room-requests.js';
import { spaceAfterAnswers, spaceStepDue, syncSpace } from './room-space.js';
import { EntitySlugsKey, MatrixRoomIdKey } from '../vocabulary/search-attributes.js';

/**
 * Member-only batches on a known room go in one `applyMembers` activity instead of
 * ensureRoom + recordMembers + two activities per member + syncPowerLevels (decision 0019).
 * Retire when no open room workflow began before it (decision 0025).
 */
export const ONE_PASS_PATCH = 'members-in-one-pass';
/**
 * Reconciliation also brings the room's aliases in line with the entity's slugs (a rename whose
 * update never reached the workflow is finished there; decision 0031). Retire as decision 0025 says.
 */
export const ALIASES_PATCH = 'reconcile-aliases';

/**
 * The aliases where the entity's slugs stand (activities/rooms/aliases.ts), and the state and the
 * `EntitySlugs` search attribute with them. Returns what it did on the homeserver.
 */
export async function syncTheAliases(run: RoomRun, roomId: string): Promise<string[]> {
  const { ref, state } = run;
  const now = await acts.syncAliases({ ref, roomId });
  if (now.slugs.join('\n') !== (state.slugs ?? [ref.slug]).join('\n'))
    upsertSearchAttributes([{ key: EntitySlugsKey, value: now.slugs }]);
  state.slug = now.slug;
  state.slugs = now.slugs;
  state.alias = now.alias;
  state.aliasRemovalAt = now.aliasRemovalAt;
  return now.actions;
}

/**
 * The room itself: the stored one (which must still exist), or found by alias, or created; then
 * its settings where they changed. A batch of member changes on a known room skips the look (the
 * one pass finds out if the room is gone). Returns the room id.
 */
async function ensureTheRoom(run: RoomRun, fold: BatchFold, onePass: boolean, effects: BatchEffects): Promise<string> {
  const { ref, state } = run;
  const hadRoom = state.roomId !== null;
  const room =
    onePass && hadRoom && fold.membersOnly && state.alias !== null
      ? { roomId: state.roomId!, alias: state.alias, actions: [] }
      : await acts.ensureRoom({ ref, settings: state.settings, ...(fold.adopt ? { adopt: fold.adopt } : {}) });
  if (state.roomId !== room.roomId) upsertSearchAttributes([{ key: MatrixRoomIdKey, value: room.roomId }]);
  state.roomId = room.roomId;
  state.alias = room.alias;
  effects.roomActions.push(...room.actions);
  if (ref.kind === 'dm' && !hadRoom) {
    // A new DM brings both its users in.
    for (const u of Object.keys(state.members)) fold.targets.set(u, { to: 'join' });
    Object.assign(fold.upserts, state.members);
  }
  if ((hadRoom && fold.settingsChanged) || fold.reconcile) {
    effects.roomActions.push(...(await acts.applyRoomSettings({ roomId: room.roomId, settings: state.settings })));
  }
  return room.roomId;
}

/** The way from before the one pass, and reconciliation's: record, then each member, then the levels. */
async function perMemberWay(
  run: RoomRun,
  fold: BatchFold,
  roomId: string,
  removed: string[],
  effects: BatchEffects,
): Promise<void> {
  const { ref, state } = run;
  const { targets } = fold;
  // Desired membership is durable before the homeserver is touched: reconciliation works from it.
  if (Object.keys(fold.upserts).length || fold.removals.size) {
    followRenames(state, await acts.recordMembers({ ref, upserts: fold.upserts, removals: [...fold.removals] }));
  }
  let removeIds: string[] = [];
  if (fold.reconcile) {
    for (const slug of Object.keys(state.members)) if (!targets.has(slug)) targets.set(slug, { to: 'join' });
    removeIds = await acts.undesiredMembers({ ref, roomId, members: state.members });
  }
  for (const [k, v] of await converge(run, targets, removeIds, roomId)) effects.perUser.set(k, v);
  if (targets.size > 0 || fold.reconcile || removeIds.length > 0) {
    // An event's room after its end stays read-only (and a reopened one opens): decision 0053.
    const readOnly = state.time ? { readOnly: state.time.readOnly } : {};
    effects.powerLevels = await acts.syncPowerLevels({ ref, roomId, members: state.members, removed, ...readOnly });
    run.powerLevelsInSync = true;
  }
}

/**
 * Brings the homeserver to the folded state: room, its aliases, membership, power levels, archive last
 * (everything before it in the batch has been applied). A failure stops the batch and is kept as
 * `batchError`, with whatever was done before it.
 */
export async function applyToHomeserver(run: RoomRun, fold: BatchFold): Promise<BatchEffects> {
  const effects = emptyEffects();
  const onePass = patched(ONE_PASS_PATCH);
  try {
    const roomId = await ensureTheRoom(run, fold, onePass, effects);
    // Reopened (decision 0053): the desired members as stored, brought back by the reconcile below.
    if (fold.unarchive) run.state.members = await acts.reopenRoom({ ref: run.ref });
    if (fold.aliases || (fold.reconcile && patched(ALIASES_PATCH))) {
      // A refusal here is the renames' (an alias held by another room): the members still go ahead.
      try {
        effects.aliasActions.push(...(await syncTheAliases(run, roomId)));
      } catch (err) {
        effects.aliasError = failureOf(err);
      }
    }
    await recordMutes(run, fold.mutes);
    await bringBackListed(run, fold, roomId);
    // Members leaving in this batch: their power levels are named in their own answers.
    const removed = [...fold.targets].filter(([, t]) => t.to === 'leave').map(([slug]) => slug);
    if (onePass && !fold.reconcile) await onePassMembers(run, fold, roomId, removed, effects);
    else await perMemberWay(run, fold, roomId, removed, effects);
    if (fold.answers.length) {
      // Knocks the member pass does not answer: refusals, and approvals of users not ours (decision 0055).
      const done = await acts.answerJoinRequests({ ref: run.ref, roomId, answers: fold.answers });
      for (const [userId, actions] of Object.entries(done)) effects.answers.set(userId, { actions });
    }
    if (fold.mutes) await writeMutedLevels(run, roomId, effects.powerLevels);
    if (fold.cancel) effects.archiveActions.push(...(await postCancelNotice(run, roomId, fold.cancel)));
    if (!spaceAfterAnswers(fold) && spaceStepDue(run, fold)) await syncSpace(run, fold, roomId, effects);
    if (fold.archive) {
      effects.archiveActions.push(...(await acts.archiveRoom({ ref: run.ref, roomId })));
      refusePendingOnArchive(run);
      run.state.archived = true;
      run.state.members = {};
      if (run.state.mutes) run.state.mutes = {};
    }
  } catch (err) {
    effects.batchError = failureOf(err);
    run.powerLevelsInSync = false;
  }
  return effects;
}
