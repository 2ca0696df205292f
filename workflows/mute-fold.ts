/**
 * Mutes in the room workflow's fold (decision 0058): pure, like room-batch.ts, which folds them
 * with it; workflows/room-mutes.ts does their I/O.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../vocabulary/failures.js';
import type { RoomChangeRequest, RoomState } from '../vocabulary/contract.js';

/** What a batch changes in the recorded mutes: slug → its new end and moderator, or null (ended). */
export type MuteChanges = Record<string, { until: number; actorSlug: string } | null>;

type MuteChange = Extract<RoomChangeRequest, { type: 'mute' | 'unmute' }>;

/**
 * Folds one mute or unmute into the state and the batch's `mutes` (set only when something
 * changes); returns its refusal (not a member), else undefined.
 */
export function foldMute(state: RoomState, fold: { mutes?: MuteChanges }, c: MuteChange): ApplicationFailure | undefined {
  if (c.type === 'unmute') {
    if (state.mutes) delete state.mutes[c.userSlug];
    (fold.mutes ??= {})[c.userSlug] = null;
    return undefined;
  }
  if (!(c.userSlug in state.members))
    return ApplicationFailure.create({
      type: FailureType.InvalidChange,
      message: `${c.userSlug} is not a member of this room: only members are muted`,
      nonRetryable: true,
    });
  const until = Date.now() + c.durationSeconds * 1000;
  (state.mutes ??= {})[c.userSlug] = until;
  (fold.mutes ??= {})[c.userSlug] = { until, actorSlug: c.actorSlug };
  return undefined;
}

/** When the soonest running mute ends (epoch ms), or null. */
export function nextMuteEnd(state: RoomState): number | null {
  const ends = Object.values(state.mutes ?? {});
  return ends.length ? Math.min(...ends) : null;
}

export const hasMutes = (state: RoomState): boolean => Object.keys(state.mutes ?? {}).length > 0;

