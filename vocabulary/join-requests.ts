/**
 * Join requests (knocks, decision 0055): their states, what the room workflow's query and the API
 * show of one, and the signal that tells a running room workflow of a new or changed one. Pure:
 * the API, the store, the activities and the workflow share it.
 */
import { defineSignal } from '@temporalio/workflow';
import { describeValue } from './describe.js';
import { MATRIX_USER_ID } from './identity.js';
import { roleProblem, slugProblem, USER_ID_MAX_LENGTH, type InvalidReason, type RoomKind } from './ids.js';

export const JOIN_REQUEST_STATES = ['pending', 'approved', 'refused', 'withdrawn'] as const;
export type JoinRequestState = (typeof JOIN_REQUEST_STATES)[number];
export const isJoinRequestState = (s: string): s is JoinRequestState =>
  (JOIN_REQUEST_STATES as readonly string[]).includes(s);

/** A reason (the knocker's, or the decision's) is kept up to this many characters. */
export const JOIN_REQUEST_REASON_MAX = 500;
/** Requests shown per room (the most recent first) in the room's state and the workflow's query. */
export const JOIN_REQUESTS_SHOWN = 100;
/** Who decided, when the API is not told: the platform. */
export const DECIDED_BY_PLATFORM = 'platform';
/** Why an archive refuses the room's pending requests (and kicks everyone out). */
export const ROOM_ARCHIVED_REASON = 'the room was archived';

/** One request as the platform sees it. */
export interface JoinRequest {
  /** The knocking Matrix user. */
  userId: string;
  /** Their platform slug when the user is one of the tenant's, else null (a plain Matrix user). */
  userSlug: string | null;
  state: JoinRequestState;
  /** The knocker's reason, if they gave one. */
  reason: string | null;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
}

/** The platform's decision on one request, as the room workflow receives it. */
export interface JoinDecision {
  userId: string;
  /** The user's slug when they are one of ours: an approval makes them a desired member. */
  userSlug: string | null;
  approve: boolean;
  reason?: string;
  decidedBy?: string;
  /** The role an approved user of ours gets (a member already keeps theirs). */
  role?: string;
}

/** What claiming a decision found: claimed, or why not. */
export type JoinClaim = { claimed: true } | { claimed: false; found: JoinRequestState | null };

/** Sent by the appservice intake when a knock is recorded or a request changes on the Matrix side. */
export const joinRequestSignal = defineSignal<[JoinRequest]>('joinRequest');

/** The requests of a room with `r` put in place of the same user's, most recent first, bounded. */
export function withRequest(list: readonly JoinRequest[] | undefined, r: JoinRequest): JoinRequest[] {
  return [r, ...(list ?? []).filter((x) => x.userId !== r.userId)].slice(0, JOIN_REQUESTS_SHOWN);
}

/** `decidedBy` is at most this long (a platform slug, or a Matrix id). */
export const DECIDED_BY_MAX_LENGTH = 255;

/**
 * What is wrong with a decision for a room of `kind`, or null. Read by the API before anything
 * starts and by the room workflow's update validator, so the two give the same answer.
 */
export function joinDecisionProblem(kind: RoomKind, d: Partial<Record<keyof JoinDecision, unknown>>): InvalidReason | null {
  if (kind === 'dm') return 'a DM is between its two users: it has no join requests';
  if (typeof d.userId !== 'string' || d.userId.length > USER_ID_MAX_LENGTH || !MATRIX_USER_ID.test(d.userId))
    return `the user must be a Matrix user id, not ${describeValue(d.userId)}`;
  if (d.userSlug !== null && d.userSlug !== undefined) {
    const p = slugProblem(String(d.userSlug), 'userSlug');
    if (p) return p;
  }
  if (typeof d.approve !== 'boolean') return `field "approve" must be true or false, not ${describeValue(d.approve)}`;
  if (d.reason !== undefined && (typeof d.reason !== 'string' || d.reason.length > JOIN_REQUEST_REASON_MAX))
    return `field "reason" must be a string of at most ${JOIN_REQUEST_REASON_MAX} characters`;
  if (d.decidedBy !== undefined && (typeof d.decidedBy !== 'string' || d.decidedBy.length === 0 || d.decidedBy.length > DECIDED_BY_MAX_LENGTH))
    return `field "decidedBy" must be a string of 1-${DECIDED_BY_MAX_LENGTH} characters`;
  if (d.role !== undefined) return roleProblem(kind, String(d.role), 'field "role": role');
  return null;
}
