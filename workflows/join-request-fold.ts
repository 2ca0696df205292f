/**
 * The platform's decisions on join requests in the room workflow's batch (decision 0055), once
 * claimed in PostgreSQL: an approved user of ours becomes a desired member (one already a member
 * keeps their role) and goes the member way, invited and joined; any other decision is a knock to
 * answer on the homeserver (a refusal kicks it, an approval of a plain Matrix user invites them).
 * Pure, like room-batch.ts, which uses it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../vocabulary/failures.js';
import type { RoomState } from '../vocabulary/contract.js';
import type { JoinClaim, JoinDecision } from '../vocabulary/join-requests.js';
import type { KnockAnswer } from '../activities/rooms/join-requests.js';
import { addTarget, type MemberFold } from './member-list-fold.js';

/** Why an unclaimed decision is refused: no such request, or it was decided (or withdrawn) before. */
function refusalOf(userId: string, claim: JoinClaim | undefined): ApplicationFailure {
  if (!claim || claim.claimed || claim.found === null)
    return ApplicationFailure.create({
      type: FailureType.RequestNotFound,
      message: `no join request of ${userId} in this room`,
      nonRetryable: true,
    });
  return ApplicationFailure.create({
    type: FailureType.RequestDecided,
    message: `the join request of ${userId} is ${claim.found} already: a request is decided once (the user can knock again)`,
    nonRetryable: true,
  });
}

/** Folds one decision; returns its refusal when it was not claimed. */
export function foldDecision(
  state: RoomState,
  fold: MemberFold & { answers: KnockAnswer[] },
  d: JoinDecision,
  claim: JoinClaim | undefined,
): ApplicationFailure | undefined {
  if (!claim?.claimed) return refusalOf(d.userId, claim);
  if (d.approve && d.userSlug) {
    addTarget(state, fold, d.userSlug, state.members[d.userSlug] ?? d.role ?? 'member');
    return undefined;
  }
  fold.answers.push({ userId: d.userId, approve: d.approve, ...(d.reason !== undefined ? { reason: d.reason } : {}) });
  return undefined;
}
