/**
 * What the audit trail records of a room batch and of a provisioning request (decision 0060), and
 * the bounds every entry is cut to: pure functions, no services.
 */
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { roomAuditEntries } from '../../workflows/room-audit.js';
import { provisionAuditEntry } from '../../workflows/user-audit.js';
import { AUDIT_ACTIONS_MAX, AUDIT_DETAIL_MAX, boundedEntry, isAuditOrigin } from '../../vocabulary/audit.js';
import type { ChangeOutcome } from '../../workflows/room-batch.js';
import type { RoomChangeRequest, UserState } from '../../vocabulary/contract.js';

const ref = { tenant: 'acme', kind: 'event' as const, slug: 'meetup' };
const origin = { subject: 'platform', requestId: 'req-1' };
const done = (actions: string[] = []): ChangeOutcome => ({ ok: true, actions });

describe('room audit entries', () => {
  it('records changes that carry an origin, with their outcome; not the others, nor member renames', () => {
    const changes: RoomChangeRequest[] = [
      { type: 'ensure', settings: { name: 'Secret plans', topic: 'x' }, origin },
      { type: 'addMember', userSlug: 'alice', role: 'host', origin },
      { type: 'addMember', userSlug: 'bob', role: 'member' },
      { type: 'removeMember', userSlug: 'carol', origin },
      { type: 'renameMember', userSlug: 'dave', newSlug: 'david', origin },
      { type: 'archive', origin },
    ];
    const failure = ApplicationFailure.create({ type: 'RoomArchived', message: 'the room is archived', nonRetryable: true });
    const outcomes = [done(['created !r:x']), done(['joined @alice']), done(), done(['removed @carol']), done(), { ok: false as const, failure }];
    const entries = roomAuditEntries(ref, '!r:x', changes, outcomes, { previousRoles: { alice: null } });
    expect(entries.map((e) => [e.operation, e.userSlug, e.outcome])).toEqual([
      ['room.ensure', undefined, 'done'],
      ['member.add', 'alice', 'done'],
      ['member.remove', 'carol', 'done'],
      ['room.archive', undefined, 'failed'],
    ]);
    // The settings named, never their values.
    expect(entries[0]).toMatchObject({ detail: 'settings: name, topic', actions: ['created !r:x'], room: { kind: 'event', slug: 'meetup', roomId: '!r:x' } });
    expect(JSON.stringify(entries)).not.toContain('Secret plans');
    expect(entries[3]).toMatchObject({ errorType: 'RoomArchived', origin });
  });

  it('a role change is member.role, naming the role before', () => {
    const [e] = roomAuditEntries(ref, '!r:x', [{ type: 'addMember', userSlug: 'alice', role: 'host', origin }], [done()], {
      previousRoles: { alice: 'member' },
    });
    expect(e).toMatchObject({ operation: 'member.role', detail: 'role host (was member)' });
  });

  it('a member list: its own entry, and one per member it added, removed or gave another role', () => {
    const change: RoomChangeRequest = { type: 'setMembers', members: [{ userSlug: 'a', role: 'member' }, { userSlug: 'c', role: 'host' }], origin };
    const outcome: ChangeOutcome = {
      ok: true,
      actions: [],
      members: { added: ['a'], removed: ['b'], roleChanged: [{ userSlug: 'c', from: 'member', to: 'host' }], unchanged: 0, failed: [{ userSlug: 'a', type: 'MatrixForbidden', message: 'no' }] },
    };
    const entries = roomAuditEntries(ref, '!r:x', [change], [outcome], { previousRoles: {} });
    expect(entries.map((e) => [e.operation, e.userSlug ?? null, e.outcome, e.errorType ?? null])).toEqual([
      ['members.set', null, 'done', null],
      ['member.add', 'a', 'failed', 'MatrixForbidden'],
      ['member.remove', 'b', 'done', null],
      ['member.role', 'c', 'done', null],
    ]);
    expect(entries[0]!.detail).toBe('2 listed');
  });

  it('a reconcile that repaired nothing is not recorded; one that did, or failed, is', () => {
    const change: RoomChangeRequest = { type: 'reconcile', origin: { subject: 'service:reconcile' } };
    expect(roomAuditEntries(ref, '!r:x', [change], [done()], { previousRoles: {} })).toEqual([]);
    expect(roomAuditEntries(ref, '!r:x', [change], [done(['joined @a'])], { previousRoles: {} })).toHaveLength(1);
    const failure = ApplicationFailure.create({ type: 'RoomMissing', message: 'gone', nonRetryable: true });
    expect(roomAuditEntries(ref, '!r:x', [change], [{ ok: false, failure }], { previousRoles: {} })[0]).toMatchObject({ outcome: 'failed', errorType: 'RoomMissing' });
  });
});

describe('provisioning audit entries', () => {
  const state: UserState = { tenant: 'acme', slug: 'alice', userId: null, displayName: null, provisioned: false, requestsApplied: 0, pendingRequests: 0, lastError: null };
  it('says what changed, never the display name', () => {
    const req = { displayName: 'Alice Secretname', origin };
    const e = provisionAuditEntry(state, req, {
      ok: true,
      result: { userId: '@alice:x', displayName: 'Alice Secretname', created: true, displayNameChanged: true, tokenIssued: true },
    });
    expect(e).toMatchObject({ operation: 'user.provision', userSlug: 'alice', outcome: 'done', actions: ['created @alice:x', 'display name of @alice:x changed', 'access token issued for @alice:x'] });
    expect(JSON.stringify(e)).not.toContain('Secretname');
  });
  it('a failure with its type; nothing without an origin', () => {
    const error = { cause: { type: 'MatrixUserDeactivated' } };
    expect(provisionAuditEntry(state, { displayName: 'A', origin }, { ok: false, error })).toMatchObject({ outcome: 'failed', errorType: 'MatrixUserDeactivated' });
    expect(provisionAuditEntry(state, { displayName: 'A' }, { ok: false, error })).toBeNull();
  });
});

describe('entry bounds', () => {
  it('cuts the detail and the actions, saying how many more', () => {
    const e = boundedEntry({ tenant: 't', operation: 'x', outcome: 'done', detail: 'd'.repeat(5_000), actions: Array.from({ length: 120 }, (_, i) => `a${i}`) });
    expect(e.detail!.length).toBe(AUDIT_DETAIL_MAX);
    expect(e.actions).toHaveLength(AUDIT_ACTIONS_MAX);
    expect(e.actions!.at(-1)).toBe(`… and ${120 - AUDIT_ACTIONS_MAX + 1} more`);
  });
  it('knows an origin from anything else', () => {
    expect(isAuditOrigin({ subject: 's', requestId: 'r' })).toBe(true);
    expect(isAuditOrigin({ subject: null })).toBe(true);
    expect(isAuditOrigin({ subject: 1 })).toBe(false);
    expect(isAuditOrigin('s')).toBe(false);
  });
});
