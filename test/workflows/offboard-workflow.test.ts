/**
 * The offboarding workflow (decision 0056) with its activities stubbed, on the stack's Temporal dev
 * server: the order of its steps in each identity mode's way (deactivated before the grace period
 * only where a cancel can reactivate), a cancel inside the grace period restores and never erases,
 * a cancel outside it is refused, an adopted account (scope `rooms`) is only removed from rooms,
 * and a room whose removal fails is counted without stopping the rest.
 */
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { OffboardActivities } from '../../activities/offboard.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import {
  cancelOffboardUpdate,
  offboardStateQuery,
  offboardWorkflowId,
  type OffboardInput,
  type OffboardScope,
  type OffboardState,
} from '../../vocabulary/offboard.js';
import { uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { stackWorkflowEnv } from './stack-env.js';

const stack = stackWorkflowEnv();

interface Options {
  scope?: OffboardScope;
  deactivateEarly?: boolean;
  rooms?: string[];
  /** Rooms whose removal fails for good. */
  failing?: string[];
  /** Rooms whose removal takes 3 s. */
  slow?: string[];
  /** What deleting the uploads answers (null: the mode cannot). */
  uploads?: number | null;
}

/** The activities, recording each call as one line. */
function stubs(o: Options) {
  const calls: string[] = [];
  const activities: OffboardActivities = {
    offboardBegin: async (i) => {
      calls.push(`begin erase=${i.erase}`);
      return {
        subject: { userId: '@om_t_u:localhost', adopted: o.scope === 'rooms', displayName: 'U' },
        slug: i.slug,
        scope: o.scope ?? 'full',
        deactivateEarly: o.deactivateEarly ?? true,
      };
    },
    offboardLock: async () => void calls.push('lock'),
    offboardListRooms: async (i) =>
      (o.rooms ?? []).map((slug): RoomRef => ({ tenant: i.tenant, kind: 'event', slug })),
    offboardRemoveFromRoom: async (i) => {
      if (o.failing?.includes(i.ref.slug))
        throw ApplicationFailure.create({ type: 'MatrixForbidden', message: 'no', nonRetryable: true });
      if (o.slow?.includes(i.ref.slug)) await new Promise((r) => setTimeout(r, 3_000));
      calls.push(`remove ${i.ref.slug}`);
      return [`removed ${i.userSlug}`];
    },
    offboardDeactivate: async (i) => void calls.push(`deactivate erase=${i.erase}`),
    offboardDeleteUploads: async () => {
      calls.push('delete uploads');
      return o.uploads === undefined ? 2 : o.uploads;
    },
    offboardPurge: async () => {
      calls.push('purge');
      return 7;
    },
    offboardRestore: async (i) => void calls.push(`restore ${i.scope}`),
    offboardRecord: async (i) =>
      void calls.push(`record ${i.step}${i.count !== undefined ? ` ${i.count}` : ''}${i.finish ? ` (${i.finish})` : ''}`),
  };
  return { calls, activities };
}

async function run(
  o: Options,
  input: Pick<OffboardInput, 'erase' | 'graceMs'>,
  body: (h: WorkflowHandle, calls: string[]) => Promise<void>,
): Promise<void> {
  const taskQueue = uniqueTaskQueue('offboard');
  const tenant = uniqueTenant('ob');
  const { calls, activities } = stubs(o);
  const worker = await Worker.create({ connection: stack.env.nativeConnection, taskQueue, workflowBundle: stack.bundle, activities });
  await worker.runUntil(async () => {
    const args: OffboardInput = { tenant, slug: 'u', offboardingId: 'id-1', adoptedFull: false, ...input };
    const h = await stack.env.client.workflow.start('offboardUserWorkflow', {
      taskQueue,
      workflowId: offboardWorkflowId(tenant, 'u'),
      args: [args],
    });
    try {
      await body(h, calls);
    } finally {
      await h.terminate('test over').catch(() => undefined);
    }
  });
}

async function phaseOf(h: WorkflowHandle, phase: OffboardState['phase']): Promise<OffboardState> {
  for (let i = 0; i < 200; i++) {
    const s = await h.query(offboardStateQuery);
    if (s.phase === phase) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never reached ${phase}`);
}

describe('the offboarding workflow', () => {
  it('locks, removes, deactivates, and erases after the grace period; a failing room is counted', async () => {
    await run({ rooms: ['a', 'b', 'c'], failing: ['b'], deactivateEarly: true }, { erase: true, graceMs: 1_000 }, async (h, calls) => {
      const result = (await h.result()) as OffboardState;
      expect(result).toMatchObject({ phase: 'done', roomsRemoved: 2, roomsFailed: 1, scope: 'full', eraseDueAt: null });
      expect(calls).toEqual([
        'begin erase=true',
        'lock',
        'record locked',
        'remove a',
        'remove c',
        'record removed from rooms 2',
        'deactivate erase=false',
        'record deactivated',
        'record grace period',
        'deactivate erase=true',
        'record erased on the homeserver',
        'delete uploads',
        'record uploads deleted 2',
        'purge',
        'record purged 7 (done)',
      ]);
    });
  }, 60_000);

  it('where a deactivation cannot be undone, deactivates only at the erasure', async () => {
    await run({ rooms: ['a'], deactivateEarly: false }, { erase: true, graceMs: 500 }, async (h, calls) => {
      await h.result();
      expect(calls.filter((c) => c.startsWith('deactivate'))).toEqual(['deactivate erase=true']);
      expect(calls.indexOf('deactivate erase=true')).toBeGreaterThan(calls.indexOf('record grace period'));
    });
  }, 60_000);

  it('where the mode cannot delete uploads, records that they were kept', async () => {
    await run({ rooms: [], deactivateEarly: false, uploads: null }, { erase: true, graceMs: 200 }, async (h, calls) => {
      await h.result();
      expect(calls.slice(-4)).toEqual([
        'delete uploads',
        'record uploads kept (appservice mode cannot delete them)',
        'purge',
        'record purged 7 (done)',
      ]);
    });
  }, 60_000);

  it('cancelled inside the grace period: restores, never erases or purges', async () => {
    await run({ rooms: ['a'] }, { erase: true, graceMs: 600_000 }, async (h, calls) => {
      const grace = await phaseOf(h, 'grace');
      expect(grace.eraseDueAt).toBeGreaterThan(Date.now() + 500_000);
      const cancelled = await h.executeUpdate(cancelOffboardUpdate);
      expect(cancelled).toMatchObject({ phase: 'cancelled', eraseDueAt: null });
      expect((await h.result()) as OffboardState).toMatchObject({ phase: 'cancelled' });
      expect(calls.slice(-2)).toEqual(['restore full', 'record restored (cancelled)']);
      expect(calls).not.toContain('purge');
      expect(calls).not.toContain('deactivate erase=true');
      expect(calls).not.toContain('delete uploads');
    });
  }, 60_000);

  it('refuses a cancel outside the grace period, and goes on', async () => {
    await run({ rooms: ['slow'], slow: ['slow'] }, { erase: true, graceMs: 600_000 }, async (h, calls) => {
      await phaseOf(h, 'removing');
      const early = h.executeUpdate(cancelOffboardUpdate);
      await expect(early).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(early).rejects.toMatchObject({ cause: { type: 'OffboardNotCancellable' } });
      await phaseOf(h, 'grace');
      expect(calls).toContain('remove slow');
      expect(calls).not.toContain('restore full');
    });
  }, 60_000);

  it('only removes an adopted account from the rooms (scope rooms), without erasure ending at once', async () => {
    await run({ rooms: ['a', 'b'], scope: 'rooms' }, { erase: false, graceMs: 600_000 }, async (h, calls) => {
      expect((await h.result()) as OffboardState).toMatchObject({ phase: 'done', scope: 'rooms', roomsRemoved: 2 });
      expect(calls).toEqual(['begin erase=false', 'remove a', 'remove b', 'record removed from rooms 2', 'record done (done)']);
    });
  }, 60_000);
});
