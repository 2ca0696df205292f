/**
 * Keeps the audit trail to its retention (AUDIT_RETENTION_DAYS, decision 0060): every hour, in every
 * worker, entries older than that are deleted. Two workers sweeping at once delete the same rows
 * once between them.
 */
import { pruneAudit, type Queryable } from '../adapters/store/audit.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { periodic } from '../lib/periodic.js';

export const AUDIT_SWEEP_EVERY_MS = 3600_000;
const DAY_MS = 86_400_000;

export interface AuditSweeper {
  /** One pass now: how many entries were deleted. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startAuditSweeper(deps: {
  db: Queryable;
  config: Pick<Config, 'audit'>;
  log: Logger;
  everyMs?: number;
}): AuditSweeper {
  const sweep = async (): Promise<number> => {
    const deleted = await pruneAudit(deps.db, deps.config.audit.retentionDays * DAY_MS);
    if (deleted > 0) deps.log.info({ deleted, retentionDays: deps.config.audit.retentionDays }, 'audit entries past their retention deleted');
    return deleted;
  };
  const loop = periodic(deps.everyMs ?? AUDIT_SWEEP_EVERY_MS, sweep, (err: unknown) =>
    deps.log.warn({ err }, 'audit sweep failed; next in an hour'),
  );
  return { sweep, stop: () => loop.stop() };
}
