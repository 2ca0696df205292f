import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../vocabulary/failures.js';
import { describeValue } from '../vocabulary/describe.js';
import { memberChangeProblem, settingsProblem } from '../vocabulary/room-rules.js';
import { memberListProblem } from '../vocabulary/member-list.js';
import { slugProblem, type RoomKind } from '../vocabulary/ids.js';
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
import { claimDecisions, releaseUnfinished } from './room-requests.js';
import { joinDecisionProblem, joinRequestSignal, withRequest } from '../vocabulary/join-requests.js';

export { ALIASES_PATCH, ONE_PASS_PATCH } from './room-homeserver.js';

const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** Changes folded into one pass over the homeserver. */
const MAX_BATCH = 500;
const NAME_MAX = 255;
/** The shortest wait for an old alias's removal (one already due is retried no sooner). */
const MIN_ALIAS_WAIT_MS = 1_000;

interface Pending {
  change: RoomChangeRequest;
  resolve: (r: RoomChangeResult) => void;
  reject: (e: unknown) => void;
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidChange, message, nonRetryable: true });
}

/** Rejects malformed changes before they are accepted into history. */
export function validateRoomChange(kind: RoomKind, c: RoomChangeRequest): void {
  if (!c || typeof c !== 'object') throw invalid('a change must be an object');
  switch (c.type) {
    case 'ensure': {
      const s = c.settings ?? {};
      if (s.name !== undefined && (typeof s.name !== 'string' || s.name.length > NAME_MAX)) throw invalid('name must be a string of at most 255 characters');
      if (s.topic !== undefined && (typeof s.topic !== 'string' || s.topic.length > 4096)) throw invalid('topic must be a string of at most 4096 characters');
      if (s.visibility !== undefined && s.visibility !== 'public' && s.visibility !== 'private') throw invalid('visibility must be public or private');
      if (s.encrypted !== undefined && typeof s.encrypted !== 'boolean') throw invalid('encryption can only be asked for DMs');
      if (s.prune !== undefined && typeof s.prune !== 'boolean') throw invalid('prune must be true or false');
      if (s.knock !== undefined && typeof s.knock !== 'boolean') throw invalid('knock must be true or false');
      const a = c.adopt as Record<string, unknown> | undefined;
      if (a !== undefined && (typeof a !== 'object' || a === null || typeof (a.roomId ?? a.alias) !== 'string'))
        throw invalid('adopt must name the room by roomId or alias');
      const p = settingsProblem(kind, s);
      if (p) throw invalid(p);
      return;
    }
    case 'renameMember': {
      const p = slugProblem(String(c.userSlug ?? '')) ?? slugProblem(String(c.newSlug ?? ''), 'newSlug');
      if (p) throw invalid(p);
      return;
    }
    case 'addMember':
    case 'removeMember': {
      const p = memberChangeProblem(kind, String(c.userSlug ?? ''), c.type === 'addMember' ? String(c.role) : undefined);
      if (p) throw invalid(p);
      const keep: unknown = c.type === 'addMember' ? c.keepRoles : undefined;
      if (keep !== undefined && !(Array.isArray(keep) && keep.every((r) => typeof r === 'string')))
        throw invalid('keepRoles must be a list of roles');
      return;
    }
    case 'setMembers': {
      const p = memberListProblem(kind, c.members, true);
      if (p) throw invalid(p);
      return;
    }
    case 'rename': {
      if (kind === 'dm') throw invalid("a DM's slug is its two users: it is not renamed");
      const p = slugProblem(String(c.newSlug ?? ''), 'newSlug');
      if (p) throw invalid(p);
      return;
    }
    case 'decideRequest': {
      const p = joinDecisionProblem(kind, c);
      if (p) throw invalid(p);
      return;
    }
    case 'archive':
    case 'reconcile':
      return;
    default:
      throw invalid(`unknown change type ${describeValue((c as { type?: unknown }).type)}`);
  }
}

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
  } catch (err) {
    state.aliasRemovalAt = null;
    log.warn('old aliases not removed; reconciliation tries again', { error: String(err) });
  }
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
    if (stored) {
      state.roomId = stored.roomId;
      state.alias = stored.alias;
      state.settings = stored.settings;
      state.members = stored.members;
      state.archived = stored.status === 'archived';
      if (stored.requests) state.requests = stored.requests;
      restoreSlugs(run, stored.renamed);
    }
  }
  if (ref.kind === 'dm') {
    // A DM's two users are its slug; they are always its members.
    for (const u of ref.slug.split('~')) state.members[u] = 'member';
  }

  const idleMs = input.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  // Idle, unless an old alias is waiting for its removal: then until that is due (a durable timer).
  const wait = (): number =>
    state.aliasRemovalAt == null ? idleMs : Math.max(MIN_ALIAS_WAIT_MS, state.aliasRemovalAt - Date.now());
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
      if (!woke && state.aliasRemovalAt != null) {
        await removeDueAliases(run);
        continue;
      }
      if (!woke) {
        await condition(allHandlersFinished);
        if (queue.length === 0) return state;
      }
    }
  });
}
