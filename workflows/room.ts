import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RoomActivities } from '../activities/rooms.js';
import { FailureType } from '../lib/failures.js';
import { describeValue } from '../lib/describe.js';
import { asUser } from './as-user.js';
import { roleProblem, slugProblem, type RoomKind } from './ids.js';
import {
  roomChangeUpdate,
  roomStateQuery,
  type RoomChangeRequest,
  type RoomChangeResult,
  type RoomInput,
  type RoomRef,
  type RoomSettings,
  type RoomState,
} from './messages.js';
import { endCleanlyOnCancel } from './cancellation.js';
import { MatrixRoomIdKey } from './search-attributes.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './heartbeat.js';

const acts = proxyActivitiesWithSummaries<RoomActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '20 seconds' },
});

const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** Changes folded into one pass over the homeserver. */
const MAX_BATCH = 500;
/** Members worked on at once: enough to be quick, few enough not to starve the worker. */
const PARALLEL_MEMBERS = 8;
const NAME_MAX = 255;
/**
 * Member-only batches on a known room go in one `applyMembers` activity instead of
 * ensureRoom + recordMembers + two activities per member + syncPowerLevels (decision 0019).
 */
export const ONE_PASS_PATCH = 'members-in-one-pass';

interface Pending {
  change: RoomChangeRequest;
  resolve: (r: RoomChangeResult) => void;
  reject: (e: unknown) => void;
  failure?: ApplicationFailure;
}

type Target = { to: 'join'; displayName?: string } | { to: 'leave' };

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
      if (s.encrypted !== undefined && (typeof s.encrypted !== 'boolean' || (s.encrypted && kind !== 'dm'))) throw invalid('encryption can only be asked for DMs');
      if (kind === 'dm' && s.visibility === 'public') throw invalid('a DM cannot be public');
      return;
    }
    case 'addMember':
    case 'removeMember': {
      if (kind === 'dm') throw invalid('a DM is between exactly its two users; members cannot be added or removed');
      const p = slugProblem(String(c.userSlug ?? ''), 'userSlug');
      if (p) throw invalid(p);
      if (c.type === 'addMember') {
        const r = roleProblem(kind, String(c.role));
        if (r) throw invalid(r);
      }
      return;
    }
    case 'archive':
    case 'reconcile':
      return;
    default:
      throw invalid(`unknown change type ${describeValue((c as { type?: unknown }).type)}`);
  }
}

const failureOf = (err: unknown): ApplicationFailure => {
  const cause = (err as { cause?: unknown }).cause ?? err;
  const c = cause as { type?: string; message?: string };
  const message = c.message || (err as Error).message || String(err);
  return ApplicationFailure.create({ type: c.type ?? (err as Error).name ?? 'Failure', message, nonRetryable: true });
};

async function inChunks<T, R>(items: T[], size: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/**
 * The room entity, id `room:{tenant}:{kind}:{slug}`: exactly one Matrix room per platform entity.
 * Changes arrive as Updates and are folded into the desired state strictly in arrival order; the
 * homeserver is then brought to that state (membership, then power levels: read, merge, write,
 * verify). This workflow is the only writer of the room's power levels.
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
  /** This run wrote the room's power levels to match `state.members` (never carried: a new run checks). */
  let powerLevelsInSync = false;

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

  if (!input.carried) {
    const stored = await acts.loadRoom(ref);
    if (stored) {
      state.roomId = stored.roomId;
      state.alias = stored.alias;
      state.settings = stored.settings;
      state.members = stored.members;
      state.archived = stored.status === 'archived';
    }
  }
  if (ref.kind === 'dm') {
    // A DM's two users are its slug; they are always its members.
    for (const u of ref.slug.split('~')) state.members[u] = 'member';
  }

  async function converge(targets: Map<string, Target>, removeIds: string[], roomId: string): Promise<Map<string, { actions: string[]; error?: ApplicationFailure }>> {
    const inviteOnly = state.settings.visibility !== 'public';
    const results = new Map<string, { actions: string[]; error?: ApplicationFailure }>();
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

  async function applyBatch(batch: Pending[]): Promise<void> {
    const targets = new Map<string, Target>();
    /** Each touched member's role before this batch (null: was not a member). */
    const previousRoles: Record<string, string | null> = {};
    const upserts: Record<string, string> = {};
    const removals = new Set<string>();
    const before: RoomSettings = { ...state.settings };
    let archive = false;
    let reconcile = false;

    // 1. Fold the changes, in arrival order, into the desired state.
    for (const p of batch) {
      const c = p.change;
      if (state.archived || archive) {
        p.failure = ApplicationFailure.create({ type: FailureType.RoomArchived, message: 'the room is archived', nonRetryable: true });
        continue;
      }
      if (c.type === 'ensure') {
        const s = c.settings ?? {};
        if (s.name !== undefined) state.settings.name = s.name;
        if (s.topic !== undefined) state.settings.topic = s.topic;
        if (s.visibility !== undefined) state.settings.visibility = s.visibility;
        if (s.encrypted !== undefined && state.roomId === null) state.settings.encrypted = s.encrypted;
      } else if (c.type === 'addMember') {
        if (!(c.userSlug in previousRoles)) previousRoles[c.userSlug] = state.members[c.userSlug] ?? null;
        state.members[c.userSlug] = c.role;
        upserts[c.userSlug] = c.role;
        removals.delete(c.userSlug);
        targets.set(c.userSlug, { to: 'join', displayName: c.displayName });
      } else if (c.type === 'removeMember') {
        if (!(c.userSlug in previousRoles)) previousRoles[c.userSlug] = state.members[c.userSlug] ?? null;
        delete state.members[c.userSlug];
        delete upserts[c.userSlug];
        removals.add(c.userSlug);
        targets.set(c.userSlug, { to: 'leave' });
      } else if (c.type === 'archive') {
        archive = true;
      } else {
        reconcile = true;
      }
    }
    const live = batch.filter((p) => !p.failure);
    // Room-level actions belong to the first change of the batch (later ones found them done);
    // a member's actions belong to the last change that touched that member.
    const roomActions: string[] = [];
    const archiveActions: string[] = [];
    let plActions: { bySlug: Record<string, string[]>; other: string[] } = { bySlug: {}, other: [] };
    let batchError: ApplicationFailure | undefined;
    const perUser = new Map<string, { actions: string[]; error?: ApplicationFailure }>();

    if (live.length > 0) {
      const onePass = patched(ONE_PASS_PATCH);
      try {
        // 2. The room itself: the stored one (which must still exist), or found by alias, or created.
        // A batch of member changes on a known room skips this: the pass finds out if the room is gone.
        const hadRoom = state.roomId !== null;
        const membersOnly = live.every((p) => p.change.type === 'addMember' || p.change.type === 'removeMember');
        const room =
          onePass && hadRoom && membersOnly && state.alias !== null
            ? { roomId: state.roomId!, alias: state.alias, actions: [] }
            : await acts.ensureRoom({ ref, settings: state.settings });
        if (state.roomId !== room.roomId) upsertSearchAttributes([{ key: MatrixRoomIdKey, value: room.roomId }]);
        state.roomId = room.roomId;
        state.alias = room.alias;
        roomActions.push(...room.actions);
        if (ref.kind === 'dm' && !hadRoom) {
          for (const u of Object.keys(state.members)) targets.set(u, { to: 'join' });
          Object.assign(upserts, state.members);
        }
        const settingsChanged = before.name !== state.settings.name || before.topic !== state.settings.topic;
        if ((hadRoom && settingsChanged) || reconcile) roomActions.push(...(await acts.applyRoomSettings({ roomId: room.roomId, settings: state.settings })));

        // Members leaving in this batch: their power levels are named in their own answers.
        const removed = [...targets].filter(([, t]) => t.to === 'leave').map(([slug]) => slug);
        if (onePass && !reconcile) {
          // 3–4 in one activity: desired membership recorded, then membership, then power levels.
          if (targets.size > 0) {
            const pass = await acts.applyMembers({
              ref,
              roomId: room.roomId,
              inviteOnly: state.settings.visibility !== 'public',
              targets: [...targets].map(([userSlug, t]) => ({ userSlug, ...t })),
              members: state.members,
              previousRoles,
              powerLevelsInSync,
            });
            const again = new Map<string, Target>();
            for (const [slug, o] of Object.entries(pass.members)) {
              if (o.retry) again.set(slug, targets.get(slug)!);
              else perUser.set(slug, { actions: o.actions, error: o.error && ApplicationFailure.create({ ...o.error, nonRetryable: true }) });
            }
            for (const [k, v] of await converge(again, [], room.roomId)) perUser.set(k, v);
            plActions = pass.powerLevels ?? (await acts.syncPowerLevels({ ref, roomId: room.roomId, members: state.members, removed }));
            powerLevelsInSync = true;
          }
        } else {
          // 3. Desired membership is durable before the homeserver is touched: reconciliation works from it.
          if (Object.keys(upserts).length || removals.size) await acts.recordMembers({ ref, upserts, removals: [...removals] });

          // 4. Membership, then power levels.
          let removeIds: string[] = [];
          if (reconcile) {
            for (const slug of Object.keys(state.members)) if (!targets.has(slug)) targets.set(slug, { to: 'join' });
            removeIds = await acts.undesiredMembers({ ref, roomId: room.roomId, members: state.members });
          }
          for (const [k, v] of await converge(targets, removeIds, room.roomId)) perUser.set(k, v);
          if (targets.size > 0 || reconcile || removeIds.length > 0) {
            plActions = await acts.syncPowerLevels({ ref, roomId: room.roomId, members: state.members, removed });
            powerLevelsInSync = true;
          }
        }

        // 5. Archive last: everything before it in the batch has been applied.
        if (archive) {
          archiveActions.push(...(await acts.archiveRoom({ ref, roomId: room.roomId })));
          state.archived = true;
          state.members = {};
        }
      } catch (err) {
        batchError = failureOf(err);
        powerLevelsInSync = false;
      }
    }

    // 6. Every caller learns the outcome of its own change.
    const lastTouch = new Map<string, Pending>();
    for (const p of batch) if (p.change.type === 'addMember' || p.change.type === 'removeMember') lastTouch.set(p.change.userSlug, p);
    const firstLive = batch.find((p) => !p.failure);
    const everything = (): string[] => [
      ...roomActions,
      ...[...perUser.values()].flatMap((v) => v.actions),
      ...Object.values(plActions.bySlug).flat(),
      ...plActions.other,
      ...archiveActions,
    ];
    for (const p of batch) {
      state.pendingChanges -= 1;
      const c = p.change;
      const userSlug = c.type === 'addMember' || c.type === 'removeMember' ? c.userSlug : null;
      const mine = userSlug ? perUser.get(userSlug) : undefined;
      const failure = p.failure ?? batchError ?? mine?.error;
      if (failure) {
        state.lastError = { type: failure.type ?? 'Failure', message: failure.message };
        p.reject(failure);
        continue;
      }
      state.changesApplied += 1;
      state.lastError = null;
      let actions: string[];
      if (c.type === 'reconcile' || (c.type === 'ensure' && ref.kind === 'dm')) actions = everything();
      else {
        actions = p === firstLive ? [...roomActions] : [];
        if (userSlug && lastTouch.get(userSlug) === p) actions.push(...(mine?.actions ?? []), ...(plActions.bySlug[userSlug] ?? []));
        if (c.type === 'archive') actions.push(...archiveActions);
      }
      p.resolve({ roomId: state.roomId!, alias: state.alias!, actions });
    }
    if (reconcile && perUser.size) log.info('reconciled', { fixes: [...perUser.values()].flatMap((v) => v.actions) });
    if (batchError?.type === FailureType.RoomMissing) throw batchError;
  }

  const idleMs = input.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  return endCleanlyOnCancel(async () => {
    for (;;) {
      const woke = await condition(() => queue.length > 0 || workflowInfo().continueAsNewSuggested, idleMs);
      if (queue.length > 0) {
        await applyBatch(queue.splice(0, MAX_BATCH));
        if (state.archived && queue.length === 0) {
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
      if (!woke) {
        await condition(allHandlersFinished);
        if (queue.length === 0) return state;
      }
    }
  });
}
