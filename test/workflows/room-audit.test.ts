/**
 * The room workflow's audit entries (decision 0060) on the stack's Temporal server, its room
 * activities stubbed and the audit activity real (PostgreSQL): which changes are recorded, with
 * what, and that a retried recordAudit — its first attempt's write landed, its answer lost — writes
 * each entry once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import pg from 'pg';
import { createAuditActivities } from '../../activities/audit.js';
import type { MemberPassInput } from '../../activities/rooms.js';
import { FailureType } from '../../vocabulary/failures.js';
import type { AuditEntry } from '../../vocabulary/audit.js';
import { migrate } from '../../adapters/store/db.js';
import { accepted, gate, storedRoom, stubRoom } from './room-stubs.js';
import { stackWorkflowEnv, withRoomWorkflow } from './stack-env.js';
import { eventually } from '../helpers/env.js';

const stack = stackWorkflowEnv();
let db: pg.Pool;

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error('the stack is not up: source .stack/<name>/stack.env first');
  db = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  await migrate(db);
});
afterAll(async () => {
  await db?.end();
});

interface Row {
  idempotency_key: string;
  subject: string | null;
  request_id: string | null;
  operation: string;
  room_slug: string;
  user_slug: string | null;
  detail: string | null;
  actions: string[];
  outcome: string;
  error_type: string | null;
}

const rowsOf = async (tenant: string): Promise<Row[]> =>
  (await db.query<Row>('SELECT * FROM audit_log WHERE tenant = $1 ORDER BY id', [tenant])).rows;

const origin = (requestId: string) => ({ subject: 'platform-test', requestId });

describe('the room workflow records its audit entries', () => {
  it('one entry per change carrying an origin, with the outcome its caller got; none for changes without one', async () => {
    const real = createAuditActivities({ audit: db });
    const loading = gate();
    const stub = stubRoom('event', storedRoom('x', 'event', 'meetup', { bob: 'member', carol: 'host' }), {
      loadRoom: async (ref) => {
        await loading.wait();
        return storedRoom(ref.tenant, 'event', 'meetup', { bob: 'member', carol: 'host' });
      },
      recordAudit: real.recordAudit,
      applyMembers: async (input: MemberPassInput) => ({
        members: Object.fromEntries(
          input.targets.map((t) =>
            t.userSlug === 'erin'
              ? [t.userSlug, { actions: [], error: { type: FailureType.UserDeactivated, message: 'deactivated' } }]
              : [t.userSlug, { actions: [`${t.to === 'join' ? 'joined' : 'removed'} @${t.userSlug}:test`] }],
          ),
        ),
        powerLevels: { bySlug: {}, other: [] },
      }),
    });
    await withRoomWorkflow(stack, stub.activities, { kind: 'event', slug: 'meetup', idleTimeoutMs: 60_000 }, async (handle, input) => {
      const answers = [
        await accepted(handle, { type: 'addMember', userSlug: 'alice', role: 'host', origin: origin('r-1') }),
        await accepted(handle, { type: 'addMember', userSlug: 'carol', role: 'moderator', origin: origin('r-2') }),
        await accepted(handle, { type: 'removeMember', userSlug: 'bob', origin: origin('r-3') }),
        await accepted(handle, { type: 'addMember', userSlug: 'erin', role: 'member', origin: origin('r-4') }),
        // Without an origin (an older caller): done, and not recorded.
        await accepted(handle, { type: 'addMember', userSlug: 'dave', role: 'member' }),
      ];
      // All five were queued while the run was loading the room: they make one batch.
      loading.open();
      const settled = await Promise.allSettled(answers.map((a) => a()));
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      const rows = await eventually(async () => {
        const r = await rowsOf(input.tenant);
        return r.length >= 4 ? r : null;
      }, 20_000, 'the audit entries');
      expect(rows).toHaveLength(4);
      const byRequest = Object.fromEntries(rows.map((r) => [r.request_id, r]));
      expect(byRequest['r-1']).toMatchObject({
        subject: 'platform-test',
        operation: 'member.add',
        room_slug: 'meetup',
        user_slug: 'alice',
        detail: 'role host',
        outcome: 'done',
        error_type: null,
      });
      expect(byRequest['r-1']!.actions).toContain('joined @alice:test');
      expect(byRequest['r-2']).toMatchObject({ operation: 'member.role', user_slug: 'carol', detail: 'role moderator (was host)' });
      expect(byRequest['r-3']).toMatchObject({ operation: 'member.remove', user_slug: 'bob', outcome: 'done' });
      expect(byRequest['r-3']!.actions).toContain('removed @bob:test');
      expect(byRequest['r-4']).toMatchObject({ operation: 'member.add', user_slug: 'erin', outcome: 'failed', error_type: FailureType.UserDeactivated });
      expect(rows.some((r) => r.user_slug === 'dave')).toBe(false);
      // One write for the batch.
      expect(stub.types().filter((t) => t === 'recordAudit')).toHaveLength(1);
    });
  });

  it('a retried recordAudit whose first write landed records each entry once', async () => {
    const real = createAuditActivities({ audit: db });
    const attempts: number[] = [];
    const loading = gate();
    const stub = stubRoom('event', storedRoom('x', 'event', 'meetup', {}), {
      loadRoom: async (ref) => {
        await loading.wait();
        return storedRoom(ref.tenant, 'event', 'meetup', {});
      },
      recordAudit: async (entries: AuditEntry[]) => {
        attempts.push(Context.current().info.attempt);
        const written = await real.recordAudit(entries);
        // The first attempt's write is in PostgreSQL, but its answer never reaches Temporal.
        if (Context.current().info.attempt === 1) throw ApplicationFailure.retryable('answer lost', 'Lost');
        return written;
      },
    });
    await withRoomWorkflow(stack, stub.activities, { kind: 'event', slug: 'meetup', idleTimeoutMs: 60_000 }, async (handle, input) => {
      const add = await accepted(handle, { type: 'addMember', userSlug: 'alice', role: 'host', origin: origin('retry-1') });
      const settings = await accepted(handle, { type: 'ensure', settings: { name: 'N', topic: 'T' }, origin: origin('retry-2') });
      loading.open();
      await add();
      await settings();
      await eventually(async () => attempts.length >= 2, 30_000, 'the second attempt of recordAudit');
      // Give a duplicate every chance to land.
      await new Promise((r) => setTimeout(r, 1_000));
      const rows = await rowsOf(input.tenant);
      expect(rows.map((r) => r.request_id).sort()).toEqual(['retry-1', 'retry-2']);
      expect(rows.find((r) => r.request_id === 'retry-2')).toMatchObject({
        operation: 'room.ensure',
        detail: 'settings: name, topic',
        user_slug: null,
      });
      // One activity (one batch), tried twice.
      expect(attempts).toEqual([1, 2]);
    });
  });

  it('reconciliation is recorded only when it repaired something', async () => {
    const real = createAuditActivities({ audit: db });
    let drift = false;
    const stub = stubRoom('event', storedRoom('x', 'event', 'meetup', { alice: 'member' }), {
      recordAudit: real.recordAudit,
      undesiredMembers: async () => (drift ? ['@intruder:test'] : []),
      // alice is in the room already: nothing to repair for her.
      prepareMember: async () => ({ userId: '@alice:test', joined: true, actions: [] }),
    });
    await withRoomWorkflow(stack, stub.activities, { kind: 'event', slug: 'meetup', idleTimeoutMs: 60_000 }, async (handle, input) => {
      const service = { subject: 'service:reconcile', requestId: 'run-1' };
      await (await accepted(handle, { type: 'reconcile', origin: service }))();
      expect(stub.types()).not.toContain('recordAudit');
      drift = true;
      await (await accepted(handle, { type: 'reconcile', origin: { ...service, requestId: 'run-2' } }))();
      const rows = await eventually(async () => {
        const r = await rowsOf(input.tenant);
        return r.length ? r : null;
      }, 20_000, 'the reconcile entry');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ subject: 'service:reconcile', request_id: 'run-2', operation: 'room.reconcile', outcome: 'done' });
      expect(rows[0]!.actions).toContain('removed @intruder:test');
    });
  });
});
