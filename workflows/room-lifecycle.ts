/**
 * An event room's lifecycle changes (decision 0053), pure: checking `cancel`, `unarchive` and an
 * ensure's event time before they are accepted into history, and folding `unarchive`.
 */
import type { RoomChangeRequest, RoomState } from '../vocabulary/contract.js';
import { CANCEL_REASON_MAX, eventTimeProblem } from '../vocabulary/event-time.js';
import type { RoomKind } from '../vocabulary/ids.js';

/** Why a lifecycle change (or an ensure's `time`) cannot be taken, or null. */
export function lifecycleProblem(kind: RoomKind, c: RoomChangeRequest): string | null {
  if (c.type === 'ensure') {
    if (c.time === undefined) return null;
    if (kind !== 'event') return 'only an event has a start and an end';
    return typeof c.time === 'object' && c.time !== null ? eventTimeProblem(c.time) : 'time must be an object';
  }
  if (c.type === 'cancel') {
    if (kind !== 'event') return 'only an event is cancelled';
    if (c.reason !== undefined && (typeof c.reason !== 'string' || c.reason.length > CANCEL_REASON_MAX))
      return `reason must be a string of at most ${CANCEL_REASON_MAX} characters`;
  }
  if (c.type === 'unarchive' && kind === 'dm') return 'a DM is not archived, so not reopened';
  return null;
}

/** The part of a batch's fold an unarchive changes (room-batch.ts's BatchFold). */
interface ReopenFold {
  refusals: unknown[];
  archive: boolean;
  reconcile: boolean;
  membersOnly: boolean;
  unarchive?: boolean;
  cancel?: { reason?: string };
}

/**
 * Folds an `unarchive` of an archived room (or of one this batch archives): accepted, the room
 * active again, and the batch a reconciliation — the desired members back, the power levels as
 * their roles give, sending open to members. Returns false when nothing is archived: the change
 * is then an ordinary one that changes nothing.
 */
export function reopen(state: RoomState, fold: ReopenFold): boolean {
  if (!state.archived && !fold.archive) return false;
  fold.refusals.push(undefined);
  Object.assign(fold, { archive: false, cancel: undefined, unarchive: true, reconcile: true, membersOnly: false });
  state.archived = false;
  if (state.time) state.time.readOnly = false;
  return true;
}
