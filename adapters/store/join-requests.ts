/**
 * Join requests (migrations/017, decision 0055): recorded from the homeserver's knocks in the event
 * log's own transaction, listed for the API and the room workflow, and claimed by the room workflow
 * when the platform decides (pending → approved or refused, exactly once).
 */
import type pg from 'pg';
import type { Db } from './db.js';
import { requestTransition, type RequestSourceEvent, type RequestTransition } from './join-request-events.js';
import { DECIDED_BY_PLATFORM, JOIN_REQUESTS_SHOWN, type JoinClaim, type JoinDecision, type JoinRequest, type JoinRequestState } from '../../vocabulary/join-requests.js';
import type { RoomRef } from '../../vocabulary/contract.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

interface Row {
  tenant: string;
  kind: string;
  slug: string;
  user_id: string;
  user_slug: string | null;
  state: JoinRequestState;
  knock_reason: string | null;
  knocked_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
}

/** A recorded request and the room entity it belongs to (the appservice intake tells its workflow). */
export interface RecordedRequest {
  ref: RoomRef;
  request: JoinRequest;
}

// The user's slug: their binding in the room's tenant (renames keep the Matrix id, so it stays right).
const SELECT = `SELECT j.tenant, j.kind, j.slug, j.user_id, u.slug AS user_slug, j.state, j.knock_reason, j.knocked_at,
    j.decided_by, j.decided_at, j.decision_reason
  FROM join_requests j LEFT JOIN matrix_users u ON u.tenant = j.tenant AND u.user_id = j.user_id`;

const view = (r: Row): JoinRequest => ({
  userId: r.user_id,
  userSlug: r.user_slug,
  state: r.state,
  reason: r.knock_reason,
  requestedAt: r.knocked_at.toISOString(),
  decidedBy: r.decided_by,
  decidedAt: r.decided_at?.toISOString() ?? null,
  decisionReason: r.decision_reason,
});

/** Applies one transition; returns the changed request's key, or null when it changed nothing. */
async function apply(client: Queryable, t: RequestTransition): Promise<{ tenant: string; kind: string; slug: string } | null> {
  const r =
    t.kind === 'knock'
      ? await client.query<{ tenant: string; kind: string; slug: string }>(
          `INSERT INTO join_requests (tenant, kind, slug, user_id, room_id, knock_event_id, knock_reason)
           SELECT tenant, kind, slug, $2, room_id, $3, $4 FROM rooms WHERE room_id = $1
           ON CONFLICT (tenant, kind, slug, user_id) DO UPDATE SET state = 'pending', room_id = EXCLUDED.room_id,
             knock_event_id = EXCLUDED.knock_event_id, knock_reason = EXCLUDED.knock_reason, knocked_at = now(),
             decided_by = NULL, decided_at = NULL, decision_reason = NULL, decision_id = NULL
           RETURNING tenant, kind, slug`,
          [t.roomId, t.userId, t.eventId, t.reason],
        )
      : await client.query<{ tenant: string; kind: string; slug: string }>(
          `UPDATE join_requests SET state = $3, decided_by = $4, decided_at = now(), decision_reason = $5
           WHERE room_id = $1 AND user_id = $2 AND state = 'pending' RETURNING tenant, kind, slug`,
          [t.roomId, t.userId, t.state, t.by, t.reason],
        );
  return r.rows[0] ?? null;
}

/**
 * Records what the stored events do to join requests, in the caller's transaction (the event log's
 * append): a crash loses both or neither. Returns the requests changed, as they stand now. Cheap
 * when no event is a membership change: no query at all. Knocks on rooms that are not ours are skipped.
 */
export async function recordJoinRequests(
  client: Queryable,
  events: RequestSourceEvent[],
  serviceUserId: string | undefined,
): Promise<RecordedRequest[]> {
  const transitions = events.map((e) => requestTransition(e, serviceUserId)).filter((t): t is RequestTransition => t !== null);
  const out: RecordedRequest[] = [];
  for (const t of transitions) {
    const key = await apply(client, t);
    if (!key) continue;
    const r = await client.query<Row>(`${SELECT} WHERE j.tenant = $1 AND j.kind = $2 AND j.slug = $3 AND j.user_id = $4`, [
      key.tenant,
      key.kind,
      key.slug,
      t.userId,
    ]);
    const row = r.rows[0]!;
    out.push({ ref: { tenant: row.tenant, kind: row.kind as RoomRef['kind'], slug: row.slug }, request: view(row) });
  }
  return out;
}

export interface JoinRequestStore {
  /** The room's requests, most recent first (at most JOIN_REQUESTS_SHOWN), optionally in one state. */
  list(ref: RoomRef, state?: JoinRequestState): Promise<JoinRequest[]>;
  get(ref: RoomRef, userId: string): Promise<JoinRequest | null>;
  /** Decides a pending request, once: claimed, or what the request is (null: none). */
  claim(ref: RoomRef, d: JoinDecision & { decisionId: string }): Promise<JoinClaim>;
  /** Claims whose carrying out failed go back to pending (by the decision ids they were made with). */
  release(ref: RoomRef, decisionIds: string[]): Promise<void>;
  /** Every pending request refused by the platform with `reason` (the room closed); how many. */
  refusePending(ref: RoomRef, reason: string): Promise<number>;
  /** Of these Matrix ids, those whose request to join the room stands approved (all of them, unlike `list`). */
  approvedOf(ref: RoomRef, userIds: string[]): Promise<Set<string>>;
}

export function createJoinRequestStore(db: Db): JoinRequestStore {
  const get = async (ref: RoomRef, userId: string): Promise<JoinRequest | null> => {
    const r = await db.query<Row>(`${SELECT} WHERE j.tenant = $1 AND j.kind = $2 AND j.slug = $3 AND j.user_id = $4`, [
      ref.tenant,
      ref.kind,
      ref.slug,
      userId,
    ]);
    return r.rows[0] ? view(r.rows[0]) : null;
  };
  return {
    async list(ref, state) {
      const r = await db.query<Row>(
        `${SELECT} WHERE j.tenant = $1 AND j.kind = $2 AND j.slug = $3 AND ($4::text IS NULL OR j.state = $4)
         ORDER BY j.knocked_at DESC, j.user_id LIMIT ${JOIN_REQUESTS_SHOWN}`,
        [ref.tenant, ref.kind, ref.slug, state ?? null],
      );
      return r.rows.map(view);
    },
    get,
    async claim(ref, d) {
      const r = await db.query(
        // A retried attempt whose claim did commit finds the row decided by its own id: still claimed.
        `UPDATE join_requests SET state = $5, decided_by = $6, decided_at = now(), decision_reason = $7, decision_id = $8
         WHERE tenant = $1 AND kind = $2 AND slug = $3 AND user_id = $4 AND (state = 'pending' OR decision_id = $8)`,
        [
          ref.tenant,
          ref.kind,
          ref.slug,
          d.userId,
          d.approve ? 'approved' : 'refused',
          d.decidedBy ?? DECIDED_BY_PLATFORM,
          d.reason ?? null,
          d.decisionId,
        ],
      );
      if (r.rowCount) return { claimed: true };
      return { claimed: false, found: (await get(ref, d.userId))?.state ?? null };
    },
    async release(ref, decisionIds) {
      await db.query(
        `UPDATE join_requests SET state = 'pending', decided_by = NULL, decided_at = NULL, decision_reason = NULL, decision_id = NULL
         WHERE tenant = $1 AND kind = $2 AND slug = $3 AND decision_id = ANY($4)`,
        [ref.tenant, ref.kind, ref.slug, decisionIds],
      );
    },
    async refusePending(ref, reason) {
      const r = await db.query(
        `UPDATE join_requests SET state = 'refused', decided_by = $4, decided_at = now(), decision_reason = $5
         WHERE tenant = $1 AND kind = $2 AND slug = $3 AND state = 'pending'`,
        [ref.tenant, ref.kind, ref.slug, DECIDED_BY_PLATFORM, reason],
      );
      return r.rowCount ?? 0;
    },
    async approvedOf(ref, userIds) {
      if (userIds.length === 0) return new Set();
      const r = await db.query<{ user_id: string }>(
        `SELECT user_id FROM join_requests
         WHERE tenant = $1 AND kind = $2 AND slug = $3 AND state = 'approved' AND user_id = ANY($4)`,
        [ref.tenant, ref.kind, ref.slug, userIds],
      );
      return new Set(r.rows.map((row) => row.user_id));
    },
  };
}
