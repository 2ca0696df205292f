import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../vocabulary/failures.js';
import { EntitySlugsKey } from '../vocabulary/search-attributes.js';
import {
  roomChangeUpdate,
  roomStateQuery,
  type RoomChangeRequest,
  type RoomChangeResult,
  type RoomInput,
  type RoomRef,
  type RoomState,
} from '../vocabulary/contract.js';
import { endCleanlyOnCancel } from './cancellation.js';
import { distributeOutcomes, emptyEffects, foldBatch } from './room-batch.js';
import type { SlugsNow } from '../activities/rooms/types.js';
import { applyToHomeserver, syncTheAliases } from './room-homeserver.js';
import { acts, type RoomRun } from './room-acts.js';
import { auditAliasRemoval, auditBatch } from './room-audit.js';
import { claimDecisions, releaseUnfinished } from './room-requests.js';
import { joinRequestSignal, withRequest } from '../vocabulary/join-requests.js';
import { endDueMutes, hasMutes, nextMuteEnd } from './room-mutes.js';
import { applyTimeChanges, fireDueTimers, restoreTime, timerWaitMs } from './room-timers.js';
import { spaceAfterAnswers, spaceStepDue, syncSpace } from './room-space.js';

export { ALIASES_PATCH, ONE_PASS_PATCH } from './room-homeserver.js';
export { SPACES_PATCH } from './room-space.js';

const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** Changes folded into one pass over the homeserver. */
const MAX_BATCH = 500;
/** The shortest wait for an old alias's removal (one already due is retried no sooner). */
const MIN_ALIAS_WAIT_MS = 1_000;

interface Pending {
  change: RoomChangeRequest;
  resolve: (r: RoomChangeResult) => void;
  reject: (e: unknown) => void;
}

import { validateRoomChange } from './room-validate.js';

export { validateRoomChange };

/**
 * One batch: fold the changes into the desired state, bring the homeserver to it, and answer every
 * caller. A room gone from the homeserver fails the workflow too (after the callers are answered).
 */
async function applyBatch(run: RoomRun, batch: Pending[]): Promise<void> {
  const { state } = run;
  const changes = batch.map((p) => p.change);
  const claimed = await claimDecisions(run, changes);
  const fold = foldBatch(state, changes, claimed?.claims);
  // A batch of renames only follows the database: nothing to do on the homeserver.
  const live = fold.refusals.some((r) => r === undefined) && !fold.onlyRenames;
  const effects = live ? await applyToHomeserver(run, fold) : emptyEffects();
  if (live) await applyTimeChanges(run, fold, effects);
  const outcomes = distributeOutcomes(run.ref.kind, changes, fold, effects);
  await releaseUnfinished(run, claimed, outcomes);
  batch.forEach((p, i) => {
    const outcome = outcomes[i]!;
    state.pendingChanges -= 1;
    if (!outcome.ok) {
      state.lastError = { type: outcome.failure.type ?? 'Failure', message: outcome.failure.message };
      p.reject(outcome.failure);
      return;
    }
    state.changesApplied += 1;
    state.lastError = null;
    const { actions, members } = outcome;
    p.resolve({ roomId: state.roomId!, alias: state.alias!, slug: state.slug, actions, ...(members ? { members } : {}) });
  });
  const audited = auditBatch(run.ref, state.roomId, changes, outcomes, fold);
  if (audited) await audited;
  // A member batch's space follows once its callers have their answers (decision 0051).
  if (live && spaceAfterAnswers(fold) && state.roomId !== null && !effects.batchError && spaceStepDue(run, fold))
    await syncSpace(run, fold, state.roomId, effects);
  if (fold.reconcile && effects.perUser.size)
    log.info('reconciled', { fixes: [...effects.perUser.values()].flatMap((v) => v.actions) });
  if (effects.batchError?.type === FailureType.RoomMissing) throw effects.batchError;
}

/** A new run of a renamed entity: where its slugs stand and its search attribute, as the store says. */
function restoreSlugs(run: RoomRun, renamed: SlugsNow | undefined): void {
  if (!renamed) return;
  Object.assign(run.state, { slug: renamed.slug, slugs: renamed.slugs, aliasRemovalAt: renamed.aliasRemovalAt });
  upsertSearchAttributes([{ key: EntitySlugsKey, value: renamed.slugs }]);
}

/** Old aliases past their keep time come off (the durable timer fired); a failure is left to reconciliation. */
async function removeDueAliases(run: RoomRun): Promise<void> {
  const { state } = run;
  try {
    if (state.roomId === null) throw new Error('the entity has no room');
    const actions = await syncTheAliases(run, state.roomId);
    log.info('old aliases due for removal', { actions });
    const audited = auditAliasRemoval(run.ref, state.roomId, { actions });
    if (audited) await audited;
  } catch (err) {
    state.aliasRemovalAt = null;
    log.warn('old aliases not removed; reconciliation tries again', { error: String(err) });
    const audited = auditAliasRemoval(run.ref, state.roomId, { error: (err as { cause?: { type?: string } }).cause?.type ?? 'Failure' });
    if (audited) await audited;
  }
}

/**
 * Idle, unless an old alias is waiting for its removal or a mute for its end: then until the
 * soonest is due (a durable timer). An armed event timer shortens it further (room-timers.ts).
 */
function waitMs(state: RoomState, idleMs: number): number {
  const due = [state.aliasRemovalAt, nextMuteEnd(state)].filter((t): t is number => t != null);
  return due.length === 0 ? idleMs : Math.max(MIN_ALIAS_WAIT_MS, Math.min(...due) - Date.now());
}

/** A new run's state as the store has it: the room and its members, and what each feature keeps. */
function restoreStored(run: RoomRun, stored: NonNullable<Awaited<ReturnType<typeof acts.loadRoom>>>): void {
  const { state } = run;
  state.roomId = stored.roomId;
  state.alias = stored.alias;
  state.settings = stored.settings;
  state.members = stored.members;
  state.archived = stored.status === 'archived';
  if (stored.requests) state.requests = stored.requests;
  if (stored.mutes) state.mutes = stored.mutes;
  if (stored.bans?.length) state.bans = stored.bans;
  if (stored.group) state.group = stored.group;
  restoreSlugs(run, stored.renamed);
  restoreTime(state, stored.time);
}

/**
 * The room entity, id `room:{tenant}:{kind}:{slug}`: exactly one Matrix room per platform entity.
 * Changes arrive as Updates and are folded into the desired state strictly in arrival order; the
 * homeserver is then brought to that state (membership, then power levels: read, merge, write,
 * verify). This workflow is the only writer of the room's power levels. The id keeps the entity's
 * first slug through renames; while an old alias waits for removal, the workflow waits with it.
 */
export async function roomWorkflow(input: RoomInput): Promise<RoomState> {
  const ref: RoomRef = { tenant: input.tenant, kind: input.kind, slug: input.slug };
  const state: RoomState = input.carried ?? {
    ...ref,
    roomId: null,
    alias: null,
    settings: {},
    members: {},
    archived: false,
    changesApplied: 0,
    pendingChanges: 0,
    lastError: null,
  };
  const queue: Pending[] = [];
  const run: RoomRun = { ref, state, powerLevelsInSync: false };

  setHandler(roomStateQuery, () => state);
  setHandler(
    roomChangeUpdate,
    (change) =>
      new Promise<RoomChangeResult>((resolve, reject) => {
        state.pendingChanges += 1;
        queue.push({ change, resolve, reject });
      }),
    { validator: (change) => validateRoomChange(ref.kind, change) },
  );
  // A knock recorded (or settled on the Matrix side) by the appservice intake, for the query (decision 0055).
  setHandler(joinRequestSignal, (request) => void (state.requests = withRequest(state.requests, request)));

  if (!input.carried) {
    const stored = await acts.loadRoom(ref);
    if (stored) restoreStored(run, stored);
  }
  if (ref.kind === 'dm') {
    // A DM's two users are its slug; they are always its members.
    for (const u of ref.slug.split('~')) state.members[u] = 'member';
  }

  const idleMs = input.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const wait = (): number => Math.min(waitMs(state, idleMs), timerWaitMs(state) ?? Infinity);
  return endCleanlyOnCancel(async () => {
    for (;;) {
      const woke = await condition(() => queue.length > 0 || workflowInfo().continueAsNewSuggested, wait());
      if (queue.length > 0) {
        await applyBatch(run, queue.splice(0, MAX_BATCH));
        if (state.archived && queue.length === 0 && state.aliasRemovalAt == null) {
          await condition(allHandlersFinished);
          if (queue.length === 0) return state;
        }
        continue;
      }
      if (workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        if (queue.length === 0) await continueAsNew<typeof roomWorkflow>({ ...input, carried: state });
        continue;
      }
      if (!woke && (await endDueMutes(run)) > 0) continue;
      if (await fireDueTimers(run)) continue;
      if (!woke && state.aliasRemovalAt != null) {
        await removeDueAliases(run);
        continue;
      }
      // A mute still running keeps the workflow (and its timer) alive; so does an armed event timer.
      if (!woke && hasMutes(state)) continue;
      if (!woke && timerWaitMs(state) === null) {
        await condition(allHandlersFinished);
        if (queue.length === 0) return state;
      }
    }
  });
}
