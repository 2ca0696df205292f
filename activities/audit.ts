/**
 * The audit trail's activity (decision 0060): workflows record their entries through it once the
 * outcome is known. The key of each entry is derived from the activity's workflow, run and
 * activity id and the entry's place in the call, so a retried attempt (the first one's write
 * landed, its answer lost) writes nothing twice.
 */
import { Context } from '@temporalio/activity';
import { recordAudit as writeEntries, type Queryable } from '../adapters/store/audit.js';
import type { AuditEntry } from '../vocabulary/audit.js';

export interface AuditActivityDeps {
  /** Where entries are written; absent (tests of other activities): nothing is recorded. */
  audit?: Queryable;
}

export function createAuditActivities(deps: AuditActivityDeps) {
  return {
    /** Writes the entries, each once; returns how many were new. */
    async recordAudit(entries: AuditEntry[]): Promise<number> {
      if (!deps.audit) return 0;
      const { workflowExecution: run, activityId } = Context.current().info;
      // Outside a workflow (a standalone activity) there is no stable id to key on: written as they come.
      const base = run ? `${run.workflowId}/${run.runId}/${activityId}` : null;
      return writeEntries(
        deps.audit,
        entries.map((e, i) => (e.key === undefined && base !== null ? { ...e, key: `${base}/${i}` } : e)),
      );
    },
  };
}

export type AuditActivities = ReturnType<typeof createAuditActivities>;
