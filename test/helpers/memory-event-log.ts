/**
 * An in-memory twin of adapters/store/events.ts for unit tests of the relay's sessions: the same
 * interface and the same rules (global and per-room sequences, membership history, pruning).
 */
import type { AppendResult, EventLog, IncomingEvent, LogHead, LogRow } from '../../adapters/store/events.js';

export class MemoryEventLog implements EventLog {
  readonly rows: LogRow[] = [];
  private memberships: { userId: string; roomId: string; seq: number; membership: string }[] = [];
  /** Transaction id → its content, as appservice_transactions keeps its digest. */
  private txns = new Map<string, string>();
  private last = 0;
  private prunedThrough = 0;
  /** Room id → tenant, as the rooms table would say. */
  readonly tenantOf = new Map<string, string>();

  async append(txnId: string, events: IncomingEvent[]): Promise<AppendResult> {
    const content = JSON.stringify(events);
    if (this.txns.get(txnId) === content) return { duplicate: true, stored: 0, head: null };
    this.txns.set(txnId, content);
    for (const e of events) this.push(e);
    return { duplicate: false, stored: events.length, head: this.last };
  }

  async lastTransactionNumber(): Promise<number | null> {
    const ids = [...this.txns.keys()].filter((id) => /^[0-9]{1,15}$/.test(id)).map(Number);
    return ids.at(-1) ?? null;
  }

  /** Appends synchronously and returns the new rows (what a feed would dispatch). */
  push(...events: IncomingEvent[]): LogRow[] {
    return events.map((e) => {
      const ev = e.event;
      this.last += 1;
      const row: LogRow = {
        seq: this.last,
        roomId: ev.room_id,
        roomSeq: this.rows.filter((r) => r.roomId === ev.room_id).length + 1,
        ephemeral: e.ephemeral,
        type: ev.type,
        sender: typeof ev.sender === 'string' ? ev.sender : null,
        stateKey: typeof ev.state_key === 'string' ? ev.state_key : null,
        event: ev,
        tenant: this.tenantOf.get(ev.room_id) ?? null,
        kind: 'event',
        slug: ev.room_id,
      };
      this.rows.push(row);
      const membership = (ev.content as { membership?: string } | undefined)?.membership;
      if (ev.type === 'm.room.member' && row.stateKey && membership)
        this.memberships.push({ userId: row.stateKey, roomId: row.roomId, seq: row.seq, membership });
      return row;
    });
  }

  async head(): Promise<LogHead> {
    return { last: this.last, prunedThrough: this.prunedThrough };
  }

  async read(after: number, opts: { upTo?: number; limit: number; rooms?: readonly string[] }): Promise<LogRow[]> {
    return this.rows
      .filter(
        (r) =>
          r.seq > after &&
          (opts.upTo === undefined || r.seq <= opts.upTo) &&
          (!opts.rooms || opts.rooms.includes(r.roomId)),
      )
      .slice(0, opts.limit);
  }

  async membershipAt(userId: string, seq: number): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const m of this.memberships) if (m.userId === userId && m.seq <= seq) out.set(m.roomId, m.membership);
    return out;
  }

  async roomsChangedAfter(userId: string, seq: number): Promise<string[]> {
    return [...new Set(this.memberships.filter((m) => m.userId === userId && m.seq > seq).map((m) => m.roomId))];
  }

  async latestMembership(userId: string, roomId: string): Promise<string | null> {
    return this.memberships.filter((m) => m.userId === userId && m.roomId === roomId).at(-1)?.membership ?? null;
  }

  async addBaseline(userId: string, roomIds: readonly string[]): Promise<number> {
    const fresh = roomIds.filter((r) => !this.memberships.some((m) => m.userId === userId && m.roomId === r));
    this.memberships.unshift(...fresh.map((roomId) => ({ userId, roomId, seq: 0, membership: 'join' })));
    return fresh.length;
  }

  async prune(cutoff: Date): Promise<{ events: number; prunedThrough: number }> {
    void cutoff;
    return { events: 0, prunedThrough: this.prunedThrough };
  }

  /** Marks everything up to `seq` as pruned (retention), deleting those rows. */
  pruneThrough(seq: number): void {
    this.prunedThrough = Math.max(this.prunedThrough, seq);
    this.rows.splice(0, this.rows.filter((r) => r.seq <= seq).length);
  }
}
