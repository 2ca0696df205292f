/**
 * The users batch's chunk activity (activities/users-batch.ts) on Temporal's mock activity
 * environment, with the identity and store stubbed (the homeserver behaviour is the integration
 * file's): bounded concurrency, permanent failures kept to their user, transient ones failing the
 * attempt only after the others are done, a retry resuming from the heartbeat, the last attempt
 * reporting instead of throwing.
 */
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createUsersBatchActivities } from '../../activities/users-batch.js';
import type { Identity } from '../../adapters/identity/index.js';
import type { UserStore } from '../../adapters/store/users.js';
import type { WorkflowGateway } from '../../activities/gateway.js';
import { FailureType } from '../../vocabulary/failures.js';
import {
  USERS_BATCH_ATTEMPTS,
  USERS_BATCH_CONCURRENCY,
  type BatchUserOutcome,
  type UsersChunkInput,
} from '../../vocabulary/users-batch.js';

function stubbed(fail: (slug: string) => Error | null) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const identity = {
    async ensureAccount(userId: string) {
      calls.push(userId);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight -= 1;
      const err = fail(userId.split('_').pop()!.split(':')[0]!);
      if (err) throw err;
      return { created: true, reactivated: false, displayNameChanged: false };
    },
    ensureCredential: async () => ({ issued: true }),
  } as unknown as Identity;
  const reads = { get: 0, getMany: 0 };
  const users = {
    get: async () => {
      reads.get += 1;
      return null;
    },
    getMany: async () => {
      reads.getMany += 1;
      return new Map();
    },
    upsert: async () => undefined,
  } as unknown as UserStore;
  const activities = createUsersBatchActivities({
    identity,
    users,
    gateway: {} as WorkflowGateway,
    userPrefix: 'om',
    serverName: 'hs',
  });
  return { activities, calls, maxInFlight: () => maxInFlight, reads };
}

const input = (n: number): UsersChunkInput => ({
  tenant: 'acme',
  batchId: 'b1',
  offset: 0,
  users: Array.from({ length: n }, (_, i) => ({ slug: `u${i}`, displayName: `U ${i}` })),
});
const permanent = () =>
  ApplicationFailure.create({ type: FailureType.BadRequest, message: 'outside the namespace', nonRetryable: true });

describe('provisionMatrixUsersChunk', () => {
  it(`provisions every user, at most ${USERS_BATCH_CONCURRENCY} at once, in request order`, async () => {
    const s = stubbed(() => null);
    const out: BatchUserOutcome[] = await new MockActivityEnvironment().run(s.activities.provisionMatrixUsersChunk, input(50));
    expect(out.map((o) => o.slug)).toEqual(input(50).users.map((u) => u.slug));
    expect(out.every((o) => o.outcome === 'created' && o.userId === `@om_acme_${o.slug}:hs`)).toBe(true);
    expect(s.calls).toHaveLength(50);
    expect(s.maxInFlight()).toBe(USERS_BATCH_CONCURRENCY);
  });

  it("reads the chunk's stored rows in one query, and none per user (decision 0037)", async () => {
    const s = stubbed(() => null);
    await new MockActivityEnvironment().run(s.activities.provisionMatrixUsersChunk, input(50));
    expect(s.reads).toEqual({ get: 0, getMany: 1 });
  });

  it('heartbeats its outcomes at most once a second as users finish, not once a user (decision 0037)', async () => {
    const s = stubbed(() => null);
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => (beats += 1));
    await env.run(s.activities.provisionMatrixUsersChunk, input(50));
    expect(beats).toBeGreaterThanOrEqual(1);
    expect(beats).toBeLessThanOrEqual(3);
  });

  it('keeps a permanent failure to its user', async () => {
    const s = stubbed((slug) => (slug === 'u3' ? permanent() : null));
    const out: BatchUserOutcome[] = await new MockActivityEnvironment().run(s.activities.provisionMatrixUsersChunk, input(20));
    expect(out[3]).toEqual({
      slug: 'u3',
      userId: '@om_acme_u3:hs',
      outcome: 'failed',
      error: { type: FailureType.BadRequest, message: 'outside the namespace' },
    });
    expect(out.filter((o) => o.outcome === 'created')).toHaveLength(19);
  });

  it('fails the attempt for a transient failure after the others, and the retry redoes only that user', async () => {
    const s = stubbed((slug) => (slug === 'u5' ? new Error('connect ECONNREFUSED') : null));
    const env = new MockActivityEnvironment();
    let details: Record<number, BatchUserOutcome> = {};
    env.on('heartbeat', (d: unknown) => {
      // A copy: what was heartbeated then, not the activity's map as it is later.
      details = { ...(d as typeof details) };
    });
    await expect(env.run(s.activities.provisionMatrixUsersChunk, input(20))).rejects.toMatchObject({
      message: expect.stringContaining('1 of 20 users failed transiently'),
      nonRetryable: false,
    });
    expect(Object.keys(details).map(Number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 5),
    );

    const healed = stubbed(() => null);
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: details });
    const out: BatchUserOutcome[] = await retry.run(healed.activities.provisionMatrixUsersChunk, input(20));
    expect(healed.calls).toEqual(['@om_acme_u5:hs']);
    expect(out.every((o) => o.outcome === 'created')).toBe(true);
  });

  it('reports a transient failure as failed on the last attempt', async () => {
    const s = stubbed((slug) => (slug === 'u1' ? new Error('connect ECONNREFUSED') : null));
    const last = new MockActivityEnvironment({ attempt: USERS_BATCH_ATTEMPTS });
    const out: BatchUserOutcome[] = await last.run(s.activities.provisionMatrixUsersChunk, input(3));
    expect(out.map((o) => o.outcome)).toEqual(['created', 'failed', 'created']);
    expect(out[1]!.error).toEqual({ type: FailureType.Unavailable, message: 'connect ECONNREFUSED' });
  });
});
