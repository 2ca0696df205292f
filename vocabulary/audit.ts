/**
 * The audit trail's words (decision 0060): who asked for a change (`AuditOrigin`, carried from the
 * API into workflow inputs and Updates), what one entry says (`AuditEntry`), and the bounds every
 * entry is cut to. Pure: the API, the workflows, the activities and the store share it.
 */
import type { RoomKind } from './ids.js';

/** Who asked: the service token's `sub` (or `user:{slug}`, `service:{what}`) and the request id. */
export interface AuditOrigin {
  subject: string | null;
  requestId?: string;
}

/** The service's own changes, as the subject of their entries. */
export const SERVICE_SUBJECTS = {
  reconcile: 'service:reconcile',
  /** A user provisioned because a room change needed their account. */
  room: 'service:room',
  /** The room workflow's timer taking a renamed room's old aliases off (decision 0031). */
  aliasTimer: 'service:alias-timer',
  /** An offboarding taking the user out of the rooms (decision 0056); who asked is its `user.offboard` entry. */
  offboard: 'service:offboard',
} as const;

/** The operations recorded so far; other parts add theirs (the column is free text). */
export type AuditOperation =
  | 'room.ensure'
  | 'room.rename'
  | 'room.archive'
  | 'room.reconcile'
  | 'member.add'
  | 'member.remove'
  | 'members.set'
  | 'user.provision'
  | 'message.send'
  | 'message.redact'
  | (string & {});

export type AuditOutcome = 'done' | 'failed';

/** One change as the audit trail keeps it: never a message body or a display name. */
export interface AuditEntry {
  tenant: string;
  /** Absent or null: a change nobody is known to have asked for (recorded with a null subject). */
  origin?: AuditOrigin | null;
  operation: AuditOperation;
  /** The room entity (its first slug) and its Matrix room, when the change concerns one. */
  room?: { kind: RoomKind; slug: string; roomId?: string | null };
  /** The platform user the change concerns. */
  userSlug?: string;
  /** The change in short: `role host`, `settings: name, topic`; no personal data beyond ids. */
  detail?: string;
  /** What was done on the homeserver (`invited @…`, `power level @u 0→50`); empty: nothing needed doing. */
  actions?: string[];
  outcome: AuditOutcome;
  /** The failure's type (`MatrixForbidden`, `RoomArchived`, …) when `outcome` is `failed`. */
  errorType?: string;
  /**
   * Makes a repeated write of the same entry harmless (a retried activity, a replayed sweep). The
   * recording activity derives one from its workflow and activity ids when absent.
   */
  key?: string;
}

export const AUDIT_DETAIL_MAX = 500;
export const AUDIT_ACTIONS_MAX = 50;
export const AUDIT_ACTION_MAX = 300;
const FIELD_MAX = 200;

const cut = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The entry cut to the table's bounds: a long list of actions keeps its first ones and says how many more. */
export function boundedEntry(e: AuditEntry): AuditEntry {
  const actions = (e.actions ?? []).map((a) => cut(String(a), AUDIT_ACTION_MAX));
  const kept =
    actions.length > AUDIT_ACTIONS_MAX
      ? [...actions.slice(0, AUDIT_ACTIONS_MAX - 1), `… and ${actions.length - AUDIT_ACTIONS_MAX + 1} more`]
      : actions;
  const origin = e.origin
    ? {
        subject: e.origin.subject === null ? null : cut(String(e.origin.subject), FIELD_MAX),
        ...(e.origin.requestId !== undefined ? { requestId: cut(String(e.origin.requestId), FIELD_MAX) } : {}),
      }
    : null;
  return {
    ...e,
    origin,
    operation: cut(String(e.operation), FIELD_MAX),
    ...(e.detail !== undefined ? { detail: cut(String(e.detail), AUDIT_DETAIL_MAX) } : {}),
    ...(e.errorType !== undefined ? { errorType: cut(String(e.errorType), FIELD_MAX) } : {}),
    actions: kept,
  };
}

/** Whether a value from outside (an Update's argument) is an origin; the room workflow's validator uses it. */
export function isAuditOrigin(v: unknown): v is AuditOrigin {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    (o.subject === null || typeof o.subject === 'string') &&
    (o.requestId === undefined || typeof o.requestId === 'string')
  );
}
