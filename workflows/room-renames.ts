/**
 * Renames in the room workflow's batch (decision 0031): a member's desired role, and whatever the
 * batch folded for them, follow them to their new slug. Pure, like room-batch.ts, which uses it.
 */
import type { RoomState } from '../vocabulary/contract.js';
import type { MemberFold } from './member-list-fold.js';

const moveKey = <T>(record: Record<string, T>, from: string, to: string): void => {
  if (!(from in record) || to in record) return;
  record[to] = record[from]!;
  delete record[from];
};

/**
 * A member the database recorded under their new slug (they were renamed while the change was on
 * its way): the desired members follow, old → new. From an activity's result, so replay-safe.
 */
export function followRenames(state: RoomState, renamed: Record<string, string> | null | undefined): void {
  for (const [from, to] of Object.entries(renamed ?? {})) moveKey(state.members, from, to);
}

/** Moves a member's desired role, and whatever the batch has folded for them so far, to their new slug. */
export function renameMember(state: RoomState, fold: MemberFold, from: string, to: string): void {
  const move = <T>(record: Record<string, T>): void => moveKey(record, from, to);
  move(state.members);
  move(fold.upserts);
  move(fold.previousRoles);
  const target = fold.targets.get(from);
  if (target && !fold.targets.has(to)) {
    fold.targets.delete(from);
    fold.targets.set(to, target);
  }
  if (fold.removals.delete(from)) fold.removals.add(to);
}

