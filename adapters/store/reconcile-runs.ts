/**
 * What the drift report reads of reconciliation (decision 0059): a page of a tenant's rooms, and
 * what the recent reconcile runs (`reconcile_runs`, migrations/002) did about each room.
 */
import type { RoomKind } from '../../vocabulary/ids.js';
import type { Db } from './db.js';

/** Runs looked through for a room's last fix: the tenant's latest this many. */
export const RUNS_LOOKED_AT = 100;

export interface RunSeen {
  startedAt: string;
  finishedAt: string;
}

/** What reconciliation last did about one room. */
export interface RoomReconciled {
  /** The tenant's latest run, and what it did for this room: its actions ([] = nothing needed), or its error. */
  lastRun: (RunSeen & { actions: string[]; error?: string }) | null;
  /** The latest of the recent runs that fixed something in this room, and what. */
  lastFix: (RunSeen & { actions: string[] }) | null;
}

export interface ReconcileRunReads {
  /** Up to `limit` of the tenant's rooms (archived ones left out) after `after` (kind/slug order), and whether more follow. */
  roomPage(tenant: string, after: { kind: RoomKind; slug: string } | null, limit: number): Promise<{ kind: RoomKind; slug: string }[]>;
  /** Per room key (`kind/slug`, as runs record them), what reconciliation did about it. */
  reconciled(tenant: string, rooms: string[]): Promise<Map<string, RoomReconciled>>;
}

interface RunRow {
  started_at: Date;
  finished_at: Date;
  fixes: { fixes?: { room: string; actions: string[] }[]; failures?: { room: string; error: string }[] };
}

const seen = (r: RunRow): RunSeen => ({ startedAt: r.started_at.toISOString(), finishedAt: r.finished_at.toISOString() });

export function createReconcileRunReads(db: Db): ReconcileRunReads {
  return {
    async roomPage(tenant, after, limit) {
      const r = await db.query<{ kind: RoomKind; slug: string }>(
        `SELECT kind, slug FROM rooms WHERE tenant = $1 AND status = 'active'
           AND ($2::text IS NULL OR (kind, slug) > ($2::text, $3::text))
         ORDER BY kind, slug LIMIT $4`,
        [tenant, after?.kind ?? null, after?.slug ?? null, limit],
      );
      return r.rows;
    },
    async reconciled(tenant, rooms) {
      const runs = await db.query<RunRow>(
        'SELECT started_at, finished_at, fixes FROM reconcile_runs WHERE tenant = $1 ORDER BY finished_at DESC LIMIT $2',
        [tenant, RUNS_LOOKED_AT],
      );
      const out = new Map<string, RoomReconciled>();
      const latest = runs.rows[0];
      for (const room of rooms) {
        let lastRun: RoomReconciled['lastRun'] = null;
        if (latest) {
          const fixed = latest.fixes.fixes?.find((f) => f.room === room);
          const failed = latest.fixes.failures?.find((f) => f.room === room);
          lastRun = { ...seen(latest), actions: fixed?.actions ?? [], ...(failed ? { error: failed.error } : {}) };
        }
        let lastFix: RoomReconciled['lastFix'] = null;
        for (const run of runs.rows) {
          const fixed = run.fixes.fixes?.find((f) => f.room === room);
          if (fixed) {
            lastFix = { ...seen(run), actions: fixed.actions };
            break;
          }
        }
        out.set(room, { lastRun, lastFix });
      }
      return out;
    },
  };
}
