/**
 * Identifiers shared by the API, activities and workflows. Pure: safe inside the workflow sandbox.
 *
 * Workflow ids are the idempotency keys (docs/architecture.md), and Matrix localparts are
 * derived from (tenant, slug) by an injective mapping, so two platform users can never share a
 * Matrix account and the same user always maps to the same one.
 */

import { describeValue } from './describe.js';

/** Tenants are lowercase, digits and hyphens: no underscore, so it can separate tenant from slug. */
export const TENANT_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
/** Platform slugs: letters, digits, '.', '_', '-'; they start with a letter or digit. */
export const SLUG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const SLUG_MAX_LENGTH = 100;
/** Matrix user ids are at most 255 bytes including '@' and ':server'. */
export const USER_ID_MAX_LENGTH = 255;
/** Matrix room aliases are at most 255 bytes including '#' and ':server'. */
export const ROOM_ALIAS_MAX_LENGTH = 255;

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

export type InvalidReason = string;

/** Returns why a tenant id (in its canonical, lower-case form) is unusable, or null when it is fine. */
export function tenantProblem(tenant: string): InvalidReason | null {
  if (tenant.length === 0) return 'tenant must not be empty';
  if (!TENANT_PATTERN.test(tenant)) {
    return 'tenant must be 1-32 characters of a-z (A-Z is read as a-z), 0-9 and "-", not starting or ending with "-"';
  }
  return null;
}

/** A tenant id as the platform may send it: ASCII upper case allowed (decision 0033). */
export const TENANT_INPUT_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

/**
 * The one canonical form of a tenant id wherever one comes in (a path, a JWT claim, an event's
 * `tenantId`): ASCII upper-case letters read as lower case, nothing else changed, so "Acme" and
 * "acme" are the same tenant and Matrix localparts stay lower case (decision 0033). Only A-Z is
 * mapped: `toLowerCase()` would also fold characters such as the Kelvin sign into "k".
 */
export function canonicalTenant(raw: string): string {
  return raw.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

/** Returns why a slug is unusable, or null when it is fine. */
export function slugProblem(slug: string, field = 'slug'): InvalidReason | null {
  if (slug.length === 0) return `${field} must not be empty`;
  if (slug.length > SLUG_MAX_LENGTH) return `${field} is longer than ${SLUG_MAX_LENGTH} characters`;
  if (!SLUG_PATTERN.test(slug)) {
    const bad = [...slug].find((ch) => !/[A-Za-z0-9._-]/.test(ch)) ?? slug[0];
    return `${field} cannot be mapped to a Matrix localpart: character ${describeValue(bad)} is not allowed (use A-Z a-z 0-9 . _ -, starting with a letter or digit)`;
  }
  return null;
}

/**
 * Escapes a slug into the Matrix localpart grammar following the spec's recommended mapping:
 * '_' becomes '__' and an upper-case letter X becomes '_x'. Injective, so distinct slugs never collide.
 */
export function escapeSlug(slug: string): string {
  let out = '';
  for (const ch of slug) {
    if (ch === '_') out += '__';
    else if (ch >= 'A' && ch <= 'Z') out += `_${ch.toLowerCase()}`;
    else out += ch;
  }
  return out;
}

export function userLocalpart(prefix: string, tenant: string, slug: string): string {
  return `${prefix}_${tenant}_${escapeSlug(slug)}`;
}

export function matrixUserId(prefix: string, serverName: string, tenant: string, slug: string): string {
  return `@${userLocalpart(prefix, tenant, slug)}:${serverName}`;
}

/** Returns why (tenant, slug) cannot be a Matrix user on this server, or null. */
export function userIdProblem(
  prefix: string,
  serverName: string,
  tenant: string,
  slug: string,
  field = 'slug',
): InvalidReason | null {
  const bytes = utf8Length(matrixUserId(prefix, serverName, tenant, slug));
  if (bytes > USER_ID_MAX_LENGTH) {
    return `${field} is too long: its Matrix user id would be ${bytes} bytes, over Matrix's limit of ${USER_ID_MAX_LENGTH} (with "@", the tenant and ":${serverName}")`;
  }
  return null;
}

export const provisionUserWorkflowId = (tenant: string, slug: string): string => `user:${tenant}:${slug}`;
export const reauthUserWorkflowId = (tenant: string, slug: string): string => `user-auth:${tenant}:${slug}`;

export const ROOM_KINDS = ['event', 'group', 'dm'] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];
export const isRoomKind = (k: string): k is RoomKind => (ROOM_KINDS as readonly string[]).includes(k);

/** A DM's slug is its two users' slugs, sorted and joined by '~' (which no user slug contains). */
export function dmSlug(a: string, b: string): string {
  return a < b ? `${a}~${b}` : `${b}~${a}`;
}

/** Returns why a room slug is unusable for its kind, or null. */
export function roomSlugProblem(kind: RoomKind, slug: string): InvalidReason | null {
  if (kind !== 'dm') return slugProblem(slug);
  const parts = slug.split('~');
  if (parts.length !== 2) return 'a DM slug is two user slugs joined by "~"';
  const [a, b] = parts as [string, string];
  const p = slugProblem(a, 'DM user slug') ?? slugProblem(b, 'DM user slug');
  if (p) return p;
  if (a === b) return 'a DM is between two different users';
  if (dmSlug(a, b) !== slug) return 'a DM slug lists its two users in sorted order';
  return null;
}

/** Alias localpart: `{prefix}_{tenant}_{kind}_{escaped slug}`, in the appservice's exclusive alias namespace. */
export function roomAliasLocalpart(prefix: string, tenant: string, kind: RoomKind, slug: string): string {
  return `${prefix}_${tenant}_${kind}_${slug.split('~').map(escapeSlug).join('=7e')}`;
}

/** Returns why the room's alias cannot exist on this server (too long), or null. */
export function roomAliasProblem(
  prefix: string,
  serverName: string,
  tenant: string,
  kind: RoomKind,
  slug: string,
): InvalidReason | null {
  const bytes = utf8Length(`#${roomAliasLocalpart(prefix, tenant, kind, slug)}:${serverName}`);
  if (bytes > ROOM_ALIAS_MAX_LENGTH) {
    return `${kind === 'dm' ? 'the DM\'s user slugs are' : 'slug is'} too long: the room alias would be ${bytes} bytes, over Matrix's limit of ${ROOM_ALIAS_MAX_LENGTH} (with "#", the tenant, the kind and ":${serverName}")`;
  }
  return null;
}

export const roomWorkflowId = (tenant: string, kind: RoomKind, slug: string): string => `room:${tenant}:${kind}:${slug}`;
export const reconcileWorkflowId = (tenant: string): string => `reconcile:${tenant}`;

/** Client transaction ids: what a browser or the platform picks (e.g. a UUID) to make one send idempotent. */
export const CLIENT_TXN_ID_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/;

export function clientTxnIdProblem(txnId: string): InvalidReason | null {
  return CLIENT_TXN_ID_PATTERN.test(txnId) ? null : 'txnId must be 1-64 characters of A-Z a-z 0-9 . _ ~ -';
}

/**
 * The durable send of one message; the client's transaction id makes it idempotent per user, as
 * Matrix scopes transaction ids per device: one user's id never blocks (or answers) another's.
 */
export const messageWorkflowId = (tenant: string, userSlug: string, clientTxnId: string): string =>
  `msg:${tenant}:${userSlug}:${clientTxnId}`;
/** Typing and read receipts of one user in one room (serialized, debounced). */
export const ephemeralWorkflowId = (tenant: string, userSlug: string, kind: RoomKind, slug: string): string =>
  `ephemeral:${tenant}:${userSlug}:${kind}:${slug}`;

export type WorkflowKind = 'user' | 'user-auth' | 'room' | 'reconcile' | 'msg' | 'ephemeral';

export interface ParsedWorkflowId {
  kind: WorkflowKind;
  tenant: string;
  /**
   * The entity's slug; for `msg`, the client transaction id; for `ephemeral`, the room's slug; for
   * `reconcile`, the scheduled time of one run ('' for the schedule itself).
   */
  slug: string;
  roomKind?: RoomKind;
  /** `msg` and `ephemeral`: the user it acts as (absent from a `msg` id of the per-tenant shape before it). */
  userSlug?: string;
}

/** Splits one of our workflow ids into its parts; null for anything else. */
export function parseWorkflowId(id: string): ParsedWorkflowId | null {
  const room = /^room:([^:]+):([a-z]+):(.+)$/.exec(id);
  if (room) {
    const [, tenant, roomKind, slug] = room as unknown as [string, string, string, string];
    if (tenantProblem(tenant) || !isRoomKind(roomKind) || roomSlugProblem(roomKind, slug)) return null;
    return { kind: 'room', tenant, slug, roomKind };
  }
  const msg = /^msg:([^:]+):(?:([^:]+):)?([^:]+)$/.exec(id);
  if (msg) {
    // Without a user: `msg:{tenant}:{txnId}`, the shape of sends started before ids were per user.
    const [, tenant, userSlug, txnId] = msg as unknown as [string, string, string | undefined, string];
    if (tenantProblem(tenant) || clientTxnIdProblem(txnId) || (userSlug !== undefined && slugProblem(userSlug))) return null;
    return userSlug === undefined ? { kind: 'msg', tenant, slug: txnId } : { kind: 'msg', tenant, slug: txnId, userSlug };
  }
  const eph = /^ephemeral:([^:]+):([^:]+):([a-z]+):([^:]+)$/.exec(id);
  if (eph) {
    const [, tenant, userSlug, roomKind, slug] = eph as unknown as [string, string, string, string, string];
    if (tenantProblem(tenant) || slugProblem(userSlug) || !isRoomKind(roomKind) || roomSlugProblem(roomKind, slug)) return null;
    return { kind: 'ephemeral', tenant, slug, roomKind, userSlug };
  }
  // The schedule's id, or a run it started: Temporal appends the scheduled time to the schedule's workflow id.
  const rec = /^reconcile:([a-z0-9-]+?)(-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)?$/.exec(id);
  if (rec) return tenantProblem(rec[1]!) ? null : { kind: 'reconcile', tenant: rec[1]!, slug: rec[2] ? rec[2].slice(1) : '' };
  const m = /^(user|user-auth):([^:]+):(.+)$/.exec(id);
  if (!m) return null;
  const [, kind, tenant, slug] = m as unknown as [string, WorkflowKind, string, string];
  if (tenantProblem(tenant) || slugProblem(slug)) return null;
  return { kind, tenant, slug };
}

/**
 * Platform roles per room kind; the power level of each comes from the configured table. The
 * platform's own names (its EventAttendeeRole and GroupRole) are all here: event `participant`
 * and `guest`, group `guest`, beside the ones this service started with.
 */
export const ROLES_BY_KIND: Readonly<Record<RoomKind, readonly string[]>> = {
  event: ['host', 'moderator', 'speaker', 'member', 'participant', 'guest'],
  group: ['owner', 'admin', 'moderator', 'member', 'guest'],
  dm: ['member'],
};

/** Why `role` is not a role of `kind` (naming the field it came in, and the roles there are), or null. */
export function roleProblem(kind: RoomKind, role: string, field = 'role'): InvalidReason | null {
  return ROLES_BY_KIND[kind].includes(role)
    ? null
    : `${field} ${describeValue(role)} is not one of ${ROLES_BY_KIND[kind].join(', ')} for ${kind} rooms`;
}
