/**
 * The room workflow's audit entries (decision 0060): after a batch, one entry per change that
 * carries an `origin` (the API's, or reconciliation's) with the outcome its caller got, and one per
 * member a list changed. Written through workflows/audit-record.ts after the callers are
 * answered (in the same workflow task), so the answers do not wait for it. Changes without an origin
 * (older callers, member renames) are not recorded.
 */
import { SERVICE_SUBJECTS, type AuditEntry } from '../vocabulary/audit.js';
import type { RoomChangeRequest, RoomRef } from '../vocabulary/contract.js';
import { recordEntries } from './audit-record.js';
import type { BatchFold, ChangeOutcome } from './room-batch.js';

const SETTINGS_SHOWN = ['name', 'topic', 'visibility', 'encrypted', 'prune'] as const;

/** The change in short: which settings, which role, which new slug; never a value a person wrote. */
function detailOf(c: RoomChangeRequest, previous: string | null | undefined): string | undefined {
  switch (c.type) {
    case 'ensure': {
      const given = SETTINGS_SHOWN.filter((k) => c.settings?.[k] !== undefined);
      const parts = [given.length ? `settings: ${given.join(', ')}` : 'no settings'];
      if (c.adopt) parts.push(`adopt ${'roomId' in c.adopt ? c.adopt.roomId : c.adopt.alias}`);
      return parts.join('; ');
    }
    case 'addMember':
      return previous && previous !== c.role ? `role ${c.role} (was ${previous})` : `role ${c.role}`;
    case 'rename':
      return `to ${c.newSlug}`;
    case 'setMembers':
      return `${c.members.length} listed`;
    case 'mute':
      return `for ${c.durationSeconds} s by ${c.actorSlug}`;
    case 'unmute':
      return `by ${c.actorSlug}`;
    case 'decideRequest':
      return c.approve ? 'approved' : 'refused';
    default:
      return undefined;
  }
}

const OPERATIONS: Partial<Record<RoomChangeRequest['type'], string>> = {
  ensure: 'room.ensure',
  rename: 'room.rename',
  archive: 'room.archive',
  reconcile: 'room.reconcile',
  addMember: 'member.add',
  removeMember: 'member.remove',
  setMembers: 'members.set',
  // The features merged with the trail (decisions 0051, 0053, 0055, 0058).
  cancel: 'room.cancel',
  unarchive: 'room.unarchive',
  mute: 'member.mute',
  unmute: 'member.unmute',
  ban: 'member.ban',
  unban: 'member.unban',
  decideRequest: 'request.decide',
};

/** The entries a member list adds beside its own: one per member it added, removed or gave another role. */
function listEntries(base: Omit<AuditEntry, 'operation' | 'outcome'>, o: ChangeOutcome): AuditEntry[] {
  if (!o.ok || !o.members) return [];
  const failed = new Map(o.members.failed.map((f) => [f.userSlug, f.type]));
  const entry = (userSlug: string, operation: string, detail: string): AuditEntry => ({
    ...base,
    operation,
    userSlug,
    detail: `${detail} (member list)`,
    outcome: failed.has(userSlug) ? 'failed' : 'done',
    ...(failed.has(userSlug) ? { errorType: failed.get(userSlug)! } : {}),
  });
  return [
    ...o.members.added.map((s) => entry(s, 'member.add', 'added')),
    ...o.members.removed.map((s) => entry(s, 'member.remove', 'removed')),
    ...o.members.roleChanged.map((r) => entry(r.userSlug, 'member.role', `role ${r.to} (was ${r.from})`)),
  ];
}

/** What the batch's changes record (pure): see the file's comment. */
export function roomAuditEntries(
  ref: RoomRef,
  roomId: string | null,
  changes: readonly RoomChangeRequest[],
  outcomes: readonly ChangeOutcome[],
  fold: Pick<BatchFold, 'previousRoles'>,
): AuditEntry[] {
  const entries: AuditEntry[] = [];
  changes.forEach((c, i) => {
    const o = outcomes[i]!;
    const operation = OPERATIONS[c.type];
    if (!c.origin || !operation) return;
    // Reconciliation asks every room every interval: only what it repaired, or failed at, is recorded.
    if (c.type === 'reconcile' && o.ok && o.actions.length === 0) return;
    const userSlug =
      c.type === 'addMember' || c.type === 'removeMember' || c.type === 'mute' || c.type === 'unmute' || c.type === 'ban' || c.type === 'unban'
        ? c.userSlug
        : c.type === 'decideRequest'
          ? (c.userSlug ?? undefined)
          : undefined;
    const previous = userSlug !== undefined ? fold.previousRoles[userSlug] : undefined;
    const base = { tenant: ref.tenant, origin: c.origin, room: { kind: ref.kind, slug: ref.slug, roomId } };
    const detail = detailOf(c, previous);
    entries.push({
      ...base,
      operation: c.type === 'addMember' && previous && previous !== c.role ? 'member.role' : operation,
      ...(userSlug !== undefined ? { userSlug } : {}),
      ...(detail !== undefined ? { detail } : {}),
      ...(o.ok ? { outcome: 'done', actions: o.actions } : { outcome: 'failed', errorType: o.failure.type ?? 'Failure' }),
    });
    entries.push(...listEntries(base, o));
  });
  return entries;
}

/** Records the batch's entries; nothing to await without any (workflows/audit-record.ts says why). */
export function auditBatch(
  ref: RoomRef,
  roomId: string | null,
  changes: readonly RoomChangeRequest[],
  outcomes: readonly ChangeOutcome[],
  fold: Pick<BatchFold, 'previousRoles'>,
): Promise<void> | undefined {
  return recordEntries(roomAuditEntries(ref, roomId, changes, outcomes, fold));
}

/** The alias timer's removal of old aliases (the service's own change): recorded when it did something or failed. */
export function auditAliasRemoval(ref: RoomRef, roomId: string | null, o: { actions: string[] } | { error: string }): Promise<void> | undefined {
  if ('actions' in o && o.actions.length === 0) return undefined;
  const entry: AuditEntry = {
    tenant: ref.tenant,
    origin: { subject: SERVICE_SUBJECTS.aliasTimer },
    operation: 'room.aliases',
    room: { kind: ref.kind, slug: ref.slug, roomId },
    detail: 'old aliases due for removal',
    ...('actions' in o ? { outcome: 'done', actions: o.actions } : { outcome: 'failed', errorType: o.error }),
  };
  return recordEntries([entry]);
}
