/**
 * Membership in one pass (decision 0019), in chunks for long lists (member lists),
 * and the one read that checks a list's unchanged members are still in the room. Issued by
 * room-homeserver.ts in its order; the same saved histories replay against it.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { followRenames, type BatchEffects, type BatchFold, type Target } from './room-batch.js';
import { acts, converge, passActs, type RoomRun } from './room-acts.js';

/**
 * Targets per applyMembers activity. A batch of at most this many (every batch before member
 * lists: a batch holds at most 500 changes of one member each) is one activity that also writes
 * the power levels, exactly as before; a longer list goes in chunks of this size with the power
 * levels written once after the last, so the history holds no payload near Temporal's limits.
 */
export const PASS_CHUNK = 500;

/**
 * A list's members that the list left unchanged but the homeserver no longer has in the room (they
 * left, or were kicked, behind the service's back): brought back with the batch's other targets.
 * One read of the room's members; nothing is written for those still there.
 */
export async function bringBackListed(run: RoomRun, fold: BatchFold, roomId: string): Promise<void> {
  if (fold.verify.size === 0) return;
  const absent = await acts.listedAbsent({ ref: run.ref, roomId, slugs: [...fold.verify] });
  for (const slug of absent) {
    if (!(slug in run.state.members)) continue;
    fold.previousRoles[slug] ??= run.state.members[slug]!;
    fold.targets.set(slug, { to: 'join' });
  }
}

/** What one chunk's pass left for the per-member way; its finished members' outcomes go to `effects`. */
function settle(
  pass: { members: Record<string, { actions: string[]; error?: { type: string; message: string }; retry?: true }> },
  targets: Map<string, Target>,
  again: Map<string, Target>,
  effects: BatchEffects,
): void {
  for (const [slug, o] of Object.entries(pass.members)) {
    if (o.retry) again.set(slug, targets.get(slug)!);
    else
      effects.perUser.set(slug, {
        actions: o.actions,
        error: o.error && ApplicationFailure.create({ ...o.error, nonRetryable: true }),
      });
  }
}

/** Membership and power levels in applyMembers passes; what they leave goes the per-member way. */
export async function onePassMembers(
  run: RoomRun,
  fold: BatchFold,
  roomId: string,
  removed: string[],
  effects: BatchEffects,
): Promise<void> {
  const { ref, state } = run;
  if (fold.targets.size === 0) return;
  const inviteOnly = state.settings.visibility !== 'public';
  const all = [...fold.targets].map(([userSlug, t]) => ({ userSlug, ...t }));
  const again = new Map<string, Target>();
  if (all.length <= PASS_CHUNK) {
    const pass = await passActs.applyMembers({
      ref,
      roomId,
      inviteOnly,
      targets: all,
      members: state.members,
      previousRoles: fold.previousRoles,
      powerLevelsInSync: run.powerLevelsInSync,
    });
    followRenames(state, pass.renamed);
    settle(pass, fold.targets, again, effects);
    for (const [k, v] of await converge(run, again, [], roomId)) effects.perUser.set(k, v);
    effects.powerLevels =
      pass.powerLevels ?? (await acts.syncPowerLevels({ ref, roomId, members: state.members, removed }));
    run.powerLevelsInSync = true;
    return;
  }
  // The whole list is recorded before the first chunk: a batch failing halfway leaves PostgreSQL's
  // desired members (which reconciliation works from) matching the workflow's, not half the list.
  followRenames(state, await acts.recordMembers({ ref, upserts: fold.upserts, removals: [...fold.removals] }));
  for (let i = 0; i < all.length; i += PASS_CHUNK) {
    const targets = all.slice(i, i + PASS_CHUNK);
    const pick = <T>(from: Record<string, T>): Record<string, T> =>
      Object.fromEntries(targets.filter((t) => t.userSlug in from).map((t) => [t.userSlug, from[t.userSlug]!]));
    const pass = await passActs.applyMembers({
      ref,
      roomId,
      inviteOnly,
      targets,
      members: pick(state.members),
      previousRoles: pick(fold.previousRoles),
      powerLevelsInSync: run.powerLevelsInSync,
      deferLevels: true,
    });
    followRenames(state, pass.renamed);
    settle(pass, fold.targets, again, effects);
  }
  for (const [k, v] of await converge(run, again, [], roomId)) effects.perUser.set(k, v);
  effects.powerLevels = await acts.syncPowerLevels({ ref, roomId, members: state.members, removed });
  run.powerLevelsInSync = true;
}
