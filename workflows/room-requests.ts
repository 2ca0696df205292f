/**
 * The room workflow's side of join requests (decision 0055): a batch's decisions are claimed in
 * PostgreSQL before the batch is folded (each request is decided once; a decision on a request
 * decided already is refused), and the room's requests are kept in the state for the query.
 * Issues an activity only for a batch holding decisions: histories without any replay unchanged.
 */
import { uuid4 } from '@temporalio/workflow';
import type { RoomChangeRequest } from '../vocabulary/contract.js';
import type { JoinClaim, JoinDecision } from '../vocabulary/join-requests.js';
import { acts, type RoomRun } from './room-acts.js';

/**
 * Claims the batch's decisions that the fold will not refuse for an archive (one before them in
 * the batch, or the room archived already). Returns each claim by the change's index in the batch.
 */
export async function claimDecisions(run: RoomRun, changes: RoomChangeRequest[]): Promise<Map<number, JoinClaim> | undefined> {
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
  return new Map(decisions.map((d, i) => [d.index, claims[i]!]));
}
