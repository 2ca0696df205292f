/**
 * Join requests in the room workflow (decision 0055): claiming the platform's decisions in
 * PostgreSQL (each request is decided once), and answering the knocks on the homeserver that the
 * member pass does not: a refusal kicks the knock, an approval of someone who is not one of ours
 * invites them (they join from their own client). An approved user of ours goes the member way.
 */
import type { JoinClaim, JoinDecision, JoinRequest } from '../../vocabulary/join-requests.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { JoinRequestStore } from '../../adapters/store/join-requests.js';
import type { RoomContext } from './context.js';

/** One knock to answer on the homeserver. */
export interface KnockAnswer {
  userId: string;
  approve: boolean;
  reason?: string;
}

function storeOf(ctx: RoomContext): JoinRequestStore {
  const store = ctx.deps.joinRequests;
  if (!store) throw new Error('the worker was built without the join request store');
  return store;
}

/** Answers one knock: only while the user still knocks (already in, invited, or gone: nothing to do). */
async function answer(ctx: RoomContext, roomId: string, a: KnockAnswer): Promise<string[]> {
  const { bot } = ctx.deps;
  const membership = await matrixCall(() => bot.membership(roomId, a.userId));
  if (membership !== 'knock') return [`${a.userId} no longer knocks (${membership ?? 'no membership'}): nothing to answer`];
  if (a.approve) {
    await matrixCall(() => bot.invite(roomId, a.userId));
    return [`invited ${a.userId} (their knock approved; they join from their own client)`];
  }
  await matrixCall(() => bot.kick(roomId, a.userId, a.reason ?? 'your request to join was declined'));
  return [`refused the knock of ${a.userId}`];
}

export function createJoinRequestActivities(ctx: RoomContext) {
  return {
    /**
     * Decides each pending request, once (a retried attempt finds its own claims by `decisionId`).
     * Returns, per decision, whether it was claimed, and the room's requests as they now stand.
     */
    claimJoinRequests: async (input: {
      ref: RoomRef;
      decisions: (JoinDecision & { decisionId: string })[];
    }): Promise<{ claims: JoinClaim[]; requests: JoinRequest[] }> => {
      const store = storeOf(ctx);
      const claims: JoinClaim[] = [];
      for (const d of input.decisions) claims.push(await store.claim(input.ref, d));
      return { claims, requests: await store.list(input.ref) };
    },
    /** Claims whose carrying out failed back to pending; the room's requests as they now stand. */
    releaseJoinRequests: async (input: { ref: RoomRef; decisionIds: string[] }): Promise<JoinRequest[]> => {
      const store = storeOf(ctx);
      await store.release(input.ref, input.decisionIds);
      return store.list(input.ref);
    },
    /** Invites or kicks the knocks of claimed decisions; per user, what was done. */
    answerJoinRequests: async (input: { ref: RoomRef; roomId: string; answers: KnockAnswer[] }): Promise<Record<string, string[]>> => {
      const out: Record<string, string[]> = {};
      // One at a time: Synapse changes a room's memberships one at a time anyway.
      for (const a of input.answers) out[a.userId] = await answer(ctx, input.roomId, a);
      return out;
    },
  };
}
