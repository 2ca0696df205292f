/**
 * Finds transactions Synapse holds back and makes it send them (decision 0020).
 *
 * Synapse numbers appservice transactions from one sequence and pushes them one at a time, oldest
 * first. When a recovery ends, an event that arrives at the same moment can land in a transaction
 * that is stored but never sent: the recoverer has already looked for unsent transactions, and the
 * state still said "down" when the new one was created. Synapse sends such a transaction only in
 * its next recovery, which may be days away. What we see is a gap: transaction N+2 arrives after N.
 *
 * On a gap we refuse the transaction that shows it, once. Synapse then starts a recovery, which
 * sends the held-back transactions first, then the refused one. A gap can also be real: the
 * sequence is shared with any other appservice on the homeserver. If the refused transaction comes
 * back with nothing before it, the gap was someone else's and we leave gaps alone for a while.
 */

/** After a sweep that found nothing, gaps are noted but not swept for this long. */
export const QUIET_AFTER_EMPTY_SWEEP_MS = 5 * 60_000;
/** A sweep whose refused transaction has not come back within this long is given up. */
export const SWEEP_GIVE_UP_MS = 60_000;
/** Further back than this, a lower id means the homeserver started its numbering again. */
const RENUMBERED_BELOW = 1_000;
/** Synapse's ids are integers; anything else (a test's, another server's) is not watched. */
const NUMERIC = /^\d{1,15}$/;

export type GapVerdict =
  /** Store the transaction. `settled` when it closes a sweep: what the sweep brought. */
  | { action: 'store'; settled?: { recovered: number[]; missing: [number, number] } }
  /** Refuse it (a 503): the homeserver will send what it held back first, then this one again. */
  | { action: 'refuse'; missing: [number, number] };

/** What the watch has done since the process started (exported as metrics). */
export interface GapCounts {
  /** Sweeps started: transactions refused because of a gap. */
  sweeps: number;
  /** Held-back transactions a sweep brought back. */
  recovered: number;
}

export interface TxnGapWatch {
  /** Decides about a transaction before it is stored. */
  admit(txnId: string): Promise<GapVerdict>;
  readonly counts: Readonly<GapCounts>;
}

export function createTxnGapWatch(opts: {
  enabled: boolean;
  /** The id of the transaction stored last before this process started (a gap can straddle a restart). */
  seed?: () => Promise<number | null>;
  now?: () => number;
}): TxnGapWatch {
  const now = opts.now ?? Date.now;
  /** The highest id admitted. */
  let last: number | null = null;
  let seeded: Promise<void> | null = null;
  /** A gap noticed while quiet: swept by the next transaction once the quiet period is over. */
  let deferred: [number, number] | null = null;
  let quietUntil = 0;
  /** The sweep under way: the refused id, and the ids that arrived before it came back. */
  let sweep: { refused: number; missing: [number, number]; recovered: number[]; at: number } | null = null;
  const counts: GapCounts = { sweeps: 0, recovered: 0 };

  return {
    counts,
    async admit(txnId) {
      if (!NUMERIC.test(txnId)) return { action: 'store' };
      seeded ??= (opts.seed?.() ?? Promise.resolve(null)).then(
        (n) => {
          if (last === null) last = n;
        },
        // Without it the first transaction is taken as the start; gaps after it are still seen.
        () => undefined,
      );
      await seeded;
      return decide(Number(txnId));
    },
  };

  function decide(id: number): GapVerdict {
    if (sweep) {
      if (id === sweep.refused) {
        const { recovered, missing } = sweep;
        sweep = null;
        counts.recovered += recovered.length;
        // Nothing came before it: the ids were another appservice's (or never used).
        quietUntil = recovered.length === 0 ? now() + QUIET_AFTER_EMPTY_SWEEP_MS : 0;
        last = Math.max(last ?? id, id);
        return { action: 'store', settled: { recovered, missing } };
      }
      if (id < sweep.refused) {
        sweep.recovered.push(id);
        last = Math.max(last ?? id, id);
        return { action: 'store' };
      }
      // Newer than the refused one: sent before the homeserver noticed the refusal. Refused too,
      // so the log keeps the homeserver's order; it comes again after the refused one. Unless
      // the sweep has gone on too long (another instance got the resend, say): then it is over.
      if (now() - sweep.at < SWEEP_GIVE_UP_MS) return { action: 'refuse', missing: sweep.missing };
      last = Math.max(last ?? sweep.refused, sweep.refused);
      sweep = null;
      quietUntil = now() + QUIET_AFTER_EMPTY_SWEEP_MS;
    }
    if (last === null || id <= last) {
      // A much lower id: the homeserver's numbering started again (a new database).
      if (last === null || id < last - RENUMBERED_BELOW) last = id;
      return { action: 'store' };
    }
    if (id === last + 1) {
      last = id;
      // A gap noticed while quiet is swept by the first transaction after the quiet period.
      if (deferred && opts.enabled && now() >= quietUntil) return refuse(id, deferred);
      return { action: 'store' };
    }
    const missing: [number, number] = deferred ? [deferred[0], id - 1] : [last + 1, id - 1];
    if (opts.enabled && now() >= quietUntil) return refuse(id, missing);
    if (opts.enabled) deferred = missing;
    last = id;
    return { action: 'store' };
  }

  function refuse(id: number, missing: [number, number]): GapVerdict {
    deferred = null;
    sweep = { refused: id, missing, recovered: [], at: now() };
    counts.sweeps += 1;
    return { action: 'refuse', missing };
  }
}
