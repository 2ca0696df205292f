/**
 * Mutes in the room workflow (decision 0058), activities stubbed, on the stack's Temporal server:
 * a mute is recorded before the power levels are written; its durable timer ends it (recorded as
 * ended, the levels written again) without any further request, and the workflow does not idle
 * out while a mute runs; a fresh run picks up the mutes the store holds and ends them on time.
 */
import { describe, expect, it } from '@jest/globals';
import { roomStateQuery } from '../../vocabulary/contract.js';
import { accepted, storedRoom, stubRoom } from './room-stubs.js';
import { stackWorkflowEnv, withRoomWorkflow } from './stack-env.js';

const stack = stackWorkflowEnv();
const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('mutes in the room workflow', () => {
  it('records the mute, writes the levels, and its timer ends it; the workflow outlives its idle time meanwhile', async () => {
    const stub = stubRoom('event', storedRoom('x', 'event', 'meetup', { alice: 'participant', hana: 'host' }), {
      recordMutes: async () => undefined,
    });
    // Idle after 1 s: only the mute keeps the run going until its end, 3 s after it began.
    await withRoomWorkflow(stack, stub.activities, { kind: 'event', slug: 'meetup', idleTimeoutMs: 1_000 }, async (handle) => {
      const started = Date.now();
      const answer = await (await accepted(handle, { type: 'mute', userSlug: 'alice', durationSeconds: 3, actorSlug: 'hana' }))();
      expect(answer.roomId).toBe('!known:test');
      const muted = stub.inputsOf<{ mutes: Record<string, { until: number; actorSlug: string } | null> }>('recordMutes');
      expect(muted).toHaveLength(1);
      expect(muted[0]!.mutes.alice).toMatchObject({ actorSlug: 'hana' });
      expect(muted[0]!.mutes.alice!.until).toBeGreaterThanOrEqual(started + 2_000);
      // Recorded first, then the levels written (syncPowerLevels reads the running mutes).
      const types = stub.types();
      expect(types.indexOf('recordMutes')).toBeLessThan(types.lastIndexOf('syncPowerLevels'));
      expect(Object.keys((await handle.query(roomStateQuery)).mutes ?? {})).toEqual(['alice']);

      await until('the mute to end', () => stub.inputsOf('recordMutes').length === 2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
      expect(stub.inputsOf<{ mutes: Record<string, unknown> }>('recordMutes')[1]!.mutes).toEqual({ alice: null });
      await until('the levels written after it', () => stub.types().at(-1) === 'syncPowerLevels');
      // Nothing left to wait for: the run ends on its idle time.
      await until('the run to end', async () => (await handle.describe()).status.name === 'COMPLETED', 10_000);
    });
  }, 60_000);

  it('a fresh run takes up the mutes the store holds and ends them when due', async () => {
    const stored = { ...storedRoom('x', 'event', 'meetup', { bob: 'participant' }), mutes: { bob: Date.now() + 2_000 } };
    const stub = stubRoom('event', stored, { recordMutes: async () => undefined });
    await withRoomWorkflow(stack, stub.activities, { kind: 'event', slug: 'meetup', idleTimeoutMs: 60_000 }, async (handle) => {
      await until('the run to load', () => stub.types().includes('loadRoom'));
      expect(Object.keys((await handle.query(roomStateQuery)).mutes ?? {})).toEqual(['bob']);
      await until('the stored mute to end', () => stub.inputsOf('recordMutes').length === 1);
      expect(stub.inputsOf<{ mutes: Record<string, unknown> }>('recordMutes')[0]!.mutes).toEqual({ bob: null });
      await until('the levels written after it', () => stub.types().at(-1) === 'syncPowerLevels');
      expect((await handle.query(roomStateQuery)).mutes).toEqual({});
    });
  }, 60_000);
});
