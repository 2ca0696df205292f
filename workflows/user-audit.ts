/**
 * The user workflow's audit entry (decision 0060): one per provisioning request that carries an
 * `origin`, with its outcome, written after the caller is answered (workflows/audit-record.ts). The
 * display name itself is never recorded, only whether it changed.
 */
import type { AuditEntry } from '../vocabulary/audit.js';
import type { ProvisionUserRequest, ProvisionUserResult, UserState } from '../vocabulary/contract.js';
import type { BatchUserOutcome, UsersBatchInput } from '../vocabulary/users-batch.js';
import { recordEntries } from './audit-record.js';

export type ProvisionOutcome = { ok: true; result: ProvisionUserResult } | { ok: false; error: unknown };

/** The entry of one request (pure); null when the request carries no origin. */
export function provisionAuditEntry(state: UserState, req: ProvisionUserRequest, o: ProvisionOutcome): AuditEntry | null {
  if (!req.origin) return null;
  const base = {
    tenant: state.tenant,
    origin: req.origin,
    operation: 'user.provision',
    userSlug: state.slug,
    detail: req.matrixUserId ? `bind to ${req.matrixUserId}` : 'display name given',
  };
  if (!o.ok) {
    const cause = (o.error as { cause?: { type?: string } }).cause;
    return { ...base, outcome: 'failed', errorType: cause?.type ?? (o.error as { type?: string }).type ?? 'Failure' };
  }
  const r = o.result;
  const actions = [
    ...(r.created ? [`created ${r.userId}`] : []),
    ...(r.adopted ? [`bound to ${r.userId}`] : []),
    ...(r.displayNameChanged ? [`display name of ${r.userId} changed`] : []),
    ...(r.tokenIssued ? [`access token issued for ${r.userId}`] : []),
  ];
  return { ...base, outcome: 'done', actions };
}

/** Records the request's entry; without an origin, returns nothing to await (workflows/audit-record.ts says why). */
export function auditProvision(state: UserState, req: ProvisionUserRequest, o: ProvisionOutcome): Promise<void> | undefined {
  const entry = provisionAuditEntry(state, req, o);
  return entry ? recordEntries([entry]) : undefined;
}

const BATCH_ACTIONS: Record<BatchUserOutcome['outcome'], (userId: string) => string[]> = {
  created: (id) => [`created ${id}`],
  displayNameChanged: (id) => [`display name of ${id} changed`],
  reactivated: (id) => [`reactivated ${id}`],
  unchanged: () => [],
  failed: () => [],
};

/** A users batch's entries (pure): one per user, as the single route's; none without an origin. */
export function usersBatchAuditEntries(input: UsersBatchInput, users: readonly BatchUserOutcome[]): AuditEntry[] {
  const origin = input.origin;
  if (!origin) return [];
  return users.map((u) => ({
    tenant: input.tenant,
    origin,
    operation: 'user.provision',
    userSlug: u.slug,
    detail: `in users batch ${input.batchId}`,
    ...(u.outcome === 'failed'
      ? { outcome: 'failed' as const, errorType: u.error?.type ?? 'Failure' }
      : { outcome: 'done' as const, actions: BATCH_ACTIONS[u.outcome](u.userId) }),
  }));
}
