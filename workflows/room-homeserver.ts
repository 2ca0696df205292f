/**
 * The room workflow's homeserver work for one folded batch: the room, then membership, then power
 * levels, then the archive (decision 0005). Every activity, patch marker and search-attribute
 * upsert the room workflow issues for a batch is issued here, in this order: saved histories
 * replay against it (test/workflows/replay.test.ts), so reordering them breaks running workflows.
 */
import { ApplicationFailure, patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { RoomActivities } from '../activities/rooms.js';
import { asUser } from './as-user.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './heartbeat.js';
import type { RoomRef, RoomState } from '../vocabulary/contract.js';
import {
  emptyEffects,
  followRenames,
  type BatchEffects,
  type BatchFold,
  type MemberResult,
  type Target,
} from './room-batch.js';
import { EntitySlugsKey, MatrixRoomIdKey } from '../vocabulary/search-attributes.js';

/** The room workflow's activities: retried with backoff for as long as the homeserver needs. */
export const acts = proxyActivitiesWithSummaries<RoomActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '20 seconds' },
});

/** Members worked on at once: enough to be quick, few enough not to starve the worker. */
const PARALLEL_MEMBERS = 8;
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

async function inChunks<T, R>(items: T[], size: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

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

/** The per-member way: prepare, then join as the user (token renewed through asUser), or remove. */
async function converge(
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

/** Membership and power levels in one applyMembers pass; what it leaves goes the per-member way. */
async function onePassMembers(
  run: RoomRun,
  fold: BatchFold,
  roomId: string,
  removed: string[],
  effects: BatchEffects,
): Promise<void> {
  const { ref, state } = run;
  if (fold.targets.size === 0) return;
  const pass = await acts.applyMembers({
    ref,
    roomId,
    inviteOnly: state.settings.visibility !== 'public',
    targets: [...fold.targets].map(([userSlug, t]) => ({ userSlug, ...t })),
    members: state.members,
    previousRoles: fold.previousRoles,
    powerLevelsInSync: run.powerLevelsInSync,
  });
  followRenames(state, pass.renamed);
  const again = new Map<string, Target>();
  for (const [slug, o] of Object.entries(pass.members)) {
    if (o.retry) again.set(slug, fold.targets.get(slug)!);
    else
      effects.perUser.set(slug, {
        actions: o.actions,
        error: o.error && ApplicationFailure.create({ ...o.error, nonRetryable: true }),
      });
  }
  for (const [k, v] of await converge(run, again, [], roomId)) effects.perUser.set(k, v);
  effects.powerLevels =
    pass.powerLevels ?? (await acts.syncPowerLevels({ ref, roomId, members: state.members, removed }));
  run.powerLevelsInSync = true;
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
    effects.powerLevels = await acts.syncPowerLevels({ ref, roomId, members: state.members, removed });
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
    if (fold.aliases || (fold.reconcile && patched(ALIASES_PATCH))) {
      // A refusal here is the renames' (an alias held by another room): the members still go ahead.
      try {
        effects.aliasActions.push(...(await syncTheAliases(run, roomId)));
      } catch (err) {
        effects.aliasError = failureOf(err);
      }
    }
    // Members leaving in this batch: their power levels are named in their own answers.
    const removed = [...fold.targets].filter(([, t]) => t.to === 'leave').map(([slug]) => slug);
    if (onePass && !fold.reconcile) await onePassMembers(run, fold, roomId, removed, effects);
    else await perMemberWay(run, fold, roomId, removed, effects);
    if (fold.archive) {
      effects.archiveActions.push(...(await acts.archiveRoom({ ref: run.ref, roomId })));
      run.state.archived = true;
      run.state.members = {};
    }
  } catch (err) {
    effects.batchError = failureOf(err);
    run.powerLevelsInSync = false;
  }
  return effects;
}
