/**
 * The room workflow's side of join requests (decision 0055): a batch's decisions are claimed in
 * PostgreSQL before the batch is folded (each request is decided once; a decision on a request
 * decided already is refused), and the room's requests are kept in the state for the query.
 * Issues an activity only for a batch holding decisions: histories without any replay unchanged.
 */
import { uuid4 } from '@temporalio/workflow';
import type { RoomChangeRequest } from '../vocabulary/contract.js';
import { DECIDED_BY_PLATFORM, ROOM_ARCHIVED_REASON, type JoinClaim, type JoinDecision } from '../vocabulary/join-requests.js';
import { acts, type RoomRun } from './room-acts.js';

/** A batch's claims by the change's index, and the decision ids they were made with. */
export interface BatchClaims {
  claims: Map<number, JoinClaim>;
  ids: Map<number, string>;
}

/**
 * Claims the batch's decisions that the fold will not refuse for an archive (one before them in
 * the batch, or the room archived already). Returns each claim by the change's index in the batch.
 */
export async function claimDecisions(run: RoomRun, changes: RoomChangeRequest[]): Promise<BatchClaims | undefined> {
  if (run.state.archived) return undefined;
  const archiveAt = changes.findIndex((c) => c.type === 'archive');
  const decisions: { index: number; decision: JoinDecision & { decisionId: string } }[] = [];
  changes.forEach((c, index) => {
    if (c.type !== 'decideRequest' || (archiveAt >= 0 && index > archiveAt)) return;
    const { type: _type, requestId: _requestId, ...decision } = c;
    decisions.push({ index, decision: { ...decision, decisionId: uuid4() } });
  });
  if (decisions.length === 0) return undefined;
  const { claims, requests } = await acts.claimJoinRequests({ ref: run.ref, decisions: decisions.map((d) => d.decision) });
  run.state.requests = requests;
  return {
    claims: new Map(decisions.map((d, i) => [d.index, claims[i]!])),
    ids: new Map(decisions.map((d) => [d.index, d.decision.decisionId])),
  };
}

/**
 * Claimed decisions the homeserver work failed for go back to pending, so the platform can decide
 * them again (a refusal the homeserver did not carry out is not recorded as done). Issues an
 * activity only when a claimed decision failed.
 */
export async function releaseUnfinished(run: RoomRun, claimed: BatchClaims | undefined, outcomes: { ok: boolean }[]): Promise<void> {
  if (!claimed) return;
  const failed = [...claimed.claims]
    .filter(([i, claim]) => claim.claimed && outcomes[i]?.ok === false)
    .map(([i]) => claimed.ids.get(i)!);
  if (failed.length === 0) return;
  run.state.requests = await acts.releaseJoinRequests({ ref: run.ref, decisionIds: failed });
}

/**
 * The archive refused the room's pending requests in PostgreSQL (archiveRoom): the state says so
 * too. Workflow state only, no command: histories from before replay unchanged.
 */
export function refusePendingOnArchive(run: RoomRun): void {
  const decidedAt = new Date().toISOString();
  for (const r of run.state.requests ?? []) {
    if (r.state !== 'pending') continue;
    Object.assign(r, { state: 'refused', decidedBy: DECIDED_BY_PLATFORM, decidedAt, decisionReason: ROOM_ARCHIVED_REASON });
  }
}
