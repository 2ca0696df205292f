/**
 * How a workflow writes audit entries (decision 0060): the `recordAudit` activity, in chunks,
 * behind the patch that keeps runs from before the audit trail replaying. The activity keys every
 * entry by its workflow, run and activity id, so a retried attempt writes nothing twice; a write
 * refused for good is logged, never a reason to fail the workflow.
 */
import { log, patched } from '@temporalio/workflow';
import type { AuditActivities } from '../activities/audit.js';
import type { AuditEntry } from '../vocabulary/audit.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';

/** Runs from before the audit trail record nothing (their histories have no recordAudit). */
export const AUDIT_PATCH = 'audit-trail';
/** Entries per recordAudit activity: a long member list is written in several, each far below Temporal's payload limit. */
export const AUDIT_CHUNK = 1_000;

const { recordAudit } = proxyActivitiesWithSummaries<AuditActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * Records the entries. Called only with entries that come from this run's history (changes that
 * carry an origin), so whether it is called at all is deterministic. With nothing to record, or in
 * the replay of a run from before the patch, it returns nothing to await: an extra await moves the
 * commands that follow it (the idle timer) behind the updates' answers, and such a history would no
 * longer replay (test/workflows/replay.test.ts).
 */
export function recordEntries(entries: readonly AuditEntry[]): Promise<void> | undefined {
  if (entries.length === 0 || !patched(AUDIT_PATCH)) return undefined;
  return writeAll(entries);
}

async function writeAll(entries: readonly AuditEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += AUDIT_CHUNK) {
    try {
      await recordAudit(entries.slice(i, i + AUDIT_CHUNK));
    } catch (err) {
      log.warn('audit entries not recorded', { error: String(err), entries: Math.min(AUDIT_CHUNK, entries.length - i) });
    }
  }
}
