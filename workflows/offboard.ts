import { allHandlersFinished, ApplicationFailure, condition, log, patched, setHandler } from '@temporalio/workflow';
import type { OffboardActivities } from '../activities/offboard.js';
import type { RoomRef } from '../vocabulary/contract.js';
import {
  cancelOffboardUpdate,
  offboardStateQuery,
  startingOffboardState,
  type OffboardInput,
  type OffboardScope,
  type OffboardState,
} from '../vocabulary/offboard.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';

/** Database steps and homeserver calls: retried until they succeed (the homeserver may be down for a while). */
const a = proxyActivitiesWithSummaries<OffboardActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
/** Waits for the room's workflow to do the removal; a room that keeps failing is counted, not fatal. */
const { offboardRemoveFromRoom } = proxyActivitiesWithSummaries<OffboardActivities>({
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

const PARALLEL_ROOMS = 4;
const DELETE_UPLOADS = 'offboard-delete-uploads';

type RecordMore = Omit<Parameters<typeof a.offboardRecord>[0], 'offboardingId' | 'step'>;

/** The user out of every managed room, each through its room's workflow (the desired state follows). */
async function removeFromRooms(input: OffboardInput, slug: string, state: OffboardState): Promise<void> {
  const rooms: RoomRef[] = await a.offboardListRooms({ tenant: input.tenant, slug, offboardingId: input.offboardingId });
  for (let i = 0; i < rooms.length; i += PARALLEL_ROOMS) {
    const chunk = rooms.slice(i, i + PARALLEL_ROOMS);
    const settled = await Promise.allSettled(chunk.map((ref) => offboardRemoveFromRoom({ ref, userSlug: slug })));
    for (const s of settled) {
      if (s.status === 'fulfilled') state.roomsRemoved += 1;
      else state.roomsFailed += 1;
    }
  }
  if (state.roomsFailed) log.warn('offboarding: some rooms did not remove the user', { failed: state.roomsFailed });
}

type Who = { tenant: string; slug: string; offboardingId: string; userId: string };

/**
 * The erasure's grace period (a durable timer), then either the restoration (cancelled inside it)
 * or the erasure: the homeserver's, then the service's own rows.
 */
async function graceThenErase(
  input: OffboardInput,
  state: OffboardState,
  who: Who & { displayName: string | null; scope: OffboardScope },
  cancelRequested: () => boolean,
): Promise<OffboardState> {
  const record = (step: string, more: RecordMore = {}) => a.offboardRecord({ offboardingId: who.offboardingId, step, ...more });
  state.phase = 'grace';
  state.eraseDueAt = Date.now() + input.graceMs;
  await record('grace period', { state: 'grace', eraseDueAt: state.eraseDueAt });
  // A cancel accepted in the same task as the timer's firing still counts: it was accepted.
  const cancelled = (input.graceMs > 0 && (await condition(cancelRequested, input.graceMs))) || cancelRequested();
  if (cancelled) {
    state.phase = 'restoring';
    await a.offboardRestore(who);
    await record('restored', { state: 'running', eraseDueAt: null, finish: 'cancelled' });
    state.phase = 'cancelled';
    state.eraseDueAt = null;
    await condition(allHandlersFinished);
    return state;
  }
  state.phase = 'erasing';
  if (who.scope === 'full') {
    await a.offboardDeactivate({ userId: who.userId, erase: true });
    await record('erased on the homeserver');
    // Histories from before this step skip it (it came with a later version of this workflow).
    if (patched(DELETE_UPLOADS)) {
      const uploads = await a.offboardDeleteUploads({ userId: who.userId });
      if (uploads === null) await record('uploads kept (appservice mode cannot delete them)');
      else await record('uploads deleted', { count: uploads });
    }
  }
  const rows = await a.offboardPurge(who);
  await record('purged', { count: rows, finish: 'done' });
  state.phase = 'done';
  state.eraseDueAt = null;
  return state;
}

/**
 * Offboarding one platform user, id `offboard:{tenant}:{slug}` (decision 0056): lock the account,
 * remove it from every managed room, deactivate it; with erasure, wait the grace period (a durable
 * timer; `cancelOffboard` inside it restores the account, same Matrix id, without rejoining the
 * rooms), then erase it on the homeserver and purge what the service keeps. An adopted account
 * (scope `rooms`) is only removed from the rooms. Every step is written to the offboarding record,
 * which names no one. In appservice mode, where nothing can reactivate an account, the
 * deactivation of an erasure waits for the end of the grace period.
 */
export async function offboardUserWorkflow(input: OffboardInput): Promise<OffboardState> {
  const state: OffboardState = startingOffboardState(input.offboardingId, input.erase);
  let cancelRequested = false;
  setHandler(offboardStateQuery, () => state);
  setHandler(
    cancelOffboardUpdate,
    async () => {
      cancelRequested = true;
      await condition(() => state.phase === 'cancelled');
      return state;
    },
    {
      validator: () => {
        if (state.phase !== 'grace')
          throw ApplicationFailure.create({
            type: 'OffboardNotCancellable',
            message: `the offboarding is ${state.phase === 'cancelled' ? 'cancelled already' : `in phase ${state.phase}`}; only an erasure's grace period can be cancelled`,
            nonRetryable: true,
          });
      },
    },
  );

  const { offboardingId, tenant } = input;
  const record = (step: string, more: RecordMore = {}) => a.offboardRecord({ offboardingId, step, ...more });
  const begun = await a.offboardBegin({ tenant, slug: input.slug, offboardingId, erase: input.erase, adoptedFull: input.adoptedFull });
  const { slug, scope, deactivateEarly } = begun;
  const { userId, displayName } = begun.subject;
  const who = { tenant, slug, offboardingId, userId };
  state.scope = scope;
  const full = scope === 'full';

  if (full) {
    state.phase = 'locking';
    await a.offboardLock(who);
    await record('locked');
  }
  state.phase = 'removing';
  await removeFromRooms(input, slug, state);
  await record('removed from rooms', { count: state.roomsRemoved });
  const deactivateNow = full && (!input.erase || deactivateEarly);
  if (deactivateNow) {
    state.phase = 'deactivating';
    await a.offboardDeactivate({ userId, erase: false });
    await record('deactivated');
  }
  if (!input.erase) {
    await record('done', { finish: 'done' });
    state.phase = 'done';
    return state;
  }

  return graceThenErase(input, state, { ...who, displayName, scope }, () => cancelRequested);
}
