/**
 * A complete member list (`setMembers`) in the room workflow's batch: folded into the desired
 * members as the adds, removals and role changes that make the room's members exactly the list,
 * and its caller's answer assembled from what the homeserver work did. Pure, like room-batch.ts.
 */
import type { RoomState } from '../vocabulary/contract.js';
import type { ListedMember, MemberListOutcome } from '../vocabulary/member-list.js';
import type { ApplicationFailure } from '@temporalio/common';
import type { PowerLevelChanges } from '../activities/rooms/types.js';

/** The parts of room-batch.ts's BatchFold that member changes fold into (that file imports this one). */
export interface MemberFold {
  targets: Map<string, { to: 'join'; displayName?: string } | { to: 'leave' }>;
  previousRoles: Record<string, string | null>;
  upserts: Record<string, string>;
  removals: Set<string>;
  verify: Set<string>;
}

/** The parts of room-batch.ts's BatchEffects a list's answer reads. */
interface MemberEffects {
  perUser: Map<string, { error?: ApplicationFailure }>;
  powerLevels: PowerLevelChanges;
}

/** What one list changed in the desired members (`unchanged`: listed members it left as they were). */
export interface ListDiff {
  added: string[];
  removed: string[];
  roleChanged: { userSlug: string; from: string; to: string }[];
  unchanged: string[];
}

/** The member is to be in the room with `role` (their role before the batch noted first). */
export function addTarget(state: RoomState, fold: MemberFold, slug: string, role: string, displayName?: string): void {
  if (!(slug in fold.previousRoles)) fold.previousRoles[slug] = state.members[slug] ?? null;
  state.members[slug] = role;
  fold.upserts[slug] = role;
  fold.removals.delete(slug);
  fold.verify.delete(slug);
  fold.targets.set(slug, { to: 'join', displayName });
}

/** The member is to be out of the room. */
export function removeTarget(state: RoomState, fold: MemberFold, slug: string): void {
  if (!(slug in fold.previousRoles)) fold.previousRoles[slug] = state.members[slug] ?? null;
  delete state.members[slug];
  delete fold.upserts[slug];
  fold.removals.add(slug);
  fold.verify.delete(slug);
  fold.targets.set(slug, { to: 'leave' });
}

/**
 * Makes the desired members exactly `list`: the unlisted removed, the new added, changed roles
 * set. Listed members already there with their role are no target (no homeserver write for them);
 * unless a change of this batch already targets them, they are checked on the homeserver once.
 */
export function foldMemberList(state: RoomState, fold: MemberFold, list: readonly ListedMember[]): ListDiff {
  const diff: ListDiff = { added: [], removed: [], roleChanged: [], unchanged: [] };
  const listed = new Set(list.map((m) => m.userSlug));
  for (const slug of Object.keys(state.members)) {
    if (listed.has(slug)) continue;
    diff.removed.push(slug);
    removeTarget(state, fold, slug);
  }
  for (const m of list) {
    const now = state.members[m.userSlug];
    if (now === m.role) {
      diff.unchanged.push(m.userSlug);
      if (!fold.targets.has(m.userSlug)) fold.verify.add(m.userSlug);
      continue;
    }
    if (now === undefined) diff.added.push(m.userSlug);
    else diff.roleChanged.push({ userSlug: m.userSlug, from: now, to: m.role });
    addTarget(state, fold, m.userSlug, m.role, m.displayName);
  }
  return diff;
}

/**
 * A list's answer: what it changed, and the members whose homeserver work failed (those this
 * change touched last). Its actions are room-level (the batch's first live change) and a count of
 * the power-level entries written: per-member actions of a 10,000-member list would not fit.
 */
export function listOutcome(
  diff: ListDiff,
  roomActions: readonly string[],
  effects: MemberEffects,
  mine: (slug: string) => boolean,
): { ok: true; actions: string[]; members: MemberListOutcome } {
  const failed: MemberListOutcome['failed'] = [];
  for (const [slug, r] of effects.perUser) {
    if (r.error && mine(slug)) failed.push({ userSlug: slug, type: r.error.type ?? 'Failure', message: r.error.message });
  }
  const notes = [...Object.values(effects.powerLevels.bySlug).flat(), ...effects.powerLevels.other];
  const levelChanges = notes.filter((n) => !n.includes(' stays ')).length;
  const actions = [...roomActions];
  if (levelChanges > 0) actions.push(`power levels: ${levelChanges} entr${levelChanges === 1 ? 'y' : 'ies'} changed`);
  const { added, removed, roleChanged, unchanged } = diff;
  return { ok: true, actions, members: { added, removed, roleChanged, unchanged: unchanged.length, failed } };
}
