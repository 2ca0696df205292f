/** Turning request bodies into room changes: shared by the resource routes and the event intake. */
import type { Config } from '../lib/config.js';
import {
  dmSlug,
  isRoomKind,
  roomAliasProblem,
  roomSlugProblem,
  slugProblem,
  userIdProblem,
  type InvalidReason,
  type RoomKind,
} from '../vocabulary/ids.js';
import type { RoomAdoption, RoomChange, RoomRef, RoomSettings } from '../vocabulary/contract.js';
import { memberChangeProblem, roomKindMessage, settingsProblem } from '../vocabulary/room-rules.js';
import { authorizedTenant, type ServicePrincipal } from './auth.js';
import { ApiError } from './errors.js';
import { adoptField, displayName, encrypted, role, settingsFields, slug, SLUG_JSON } from './spec/fields.js';
import { flag, list, object, optional } from './spec/schema.js';
import { assertValid, requireString } from './spec/validation.js';
import { eventTimeFields, timeFrom } from './event-time-input.js';
import { groupSlugField } from './space-input.js';

/** The room a request names, its tenant in canonical form (decision 0033). */
export function roomRef(principal: ServicePrincipal, rawTenant: string, kind: string, slug: string): RoomRef {
  const tenant = authorizedTenant(principal, rawTenant);
  if (!isRoomKind(kind))
    throw new ApiError('M_INVALID_PARAM', roomKindMessage(kind));
  assertValid(roomSlugProblem(kind, slug));
  return { tenant, kind, slug };
}

/**
 * Why a change cannot be made on Matrix because a name it derives is too long: the room's alias,
 * the member's user id, a DM's two users. Checked before anything reaches the homeserver, whose
 * refusal would otherwise come back as a failed workflow (a 502) instead of a 400 naming the limit.
 */
export function matrixNamesProblem(
  matrix: Pick<Config['matrix'], 'userPrefix' | 'serverName'>,
  ref: RoomRef,
  change: RoomChange,
): InvalidReason | null {
  const { userPrefix: prefix, serverName: server } = matrix;
  const user = (slug: string, field: string) => userIdProblem(prefix, server, ref.tenant, slug, field);
  const users =
    change.type === 'addMember' || change.type === 'removeMember'
      ? [user(change.userSlug, 'userSlug')]
      : change.type === 'setMembers'
        ? change.members.map((m, i) => user(m.userSlug, `members[${i}].userSlug`))
        : ref.kind === 'dm'
        ? ref.slug.split('~').map((s) => user(s, 'DM user slug'))
        : [];
  const renamedTo =
    change.type === 'rename'
      ? roomAliasProblem(prefix, server, ref.tenant, ref.kind, change.newSlug)?.replace(/^slug/, 'newSlug')
      : null;
  return users.find((p) => p !== null) ?? roomAliasProblem(prefix, server, ref.tenant, ref.kind, ref.slug) ?? renamedTo ?? null;
}

/** `PUT …/rooms/{kind}/{slug}`: the room's settings (an empty body is `{}`). */
export const ROOM_SETTINGS_BODY = object(
  {
    ...settingsFields,
    ...eventTimeFields,
    encrypted,
    adopt: optional(adoptField),
    prune: optional(
      flag(
        'Reconciliation also removes people in the room who are not desired members (default: only the tenant\'s own managed accounts). For adopted rooms.',
      ),
    ),
    groupSlug: optional(groupSlugField),
  },
  'The settings the room should have; left-out ones keep their value (or the default at creation).',
);

/** `POST …/rooms/{kind}/{slug}/rename`. */
export const RENAME_BODY = object({
  newSlug: slug('The slug the platform gives the entity from now on (any slug it has had before is fine too).'),
});

/** The parsed rename body → the change; DMs are never renamed (their slug is their two users). */
export function renameFrom(kind: RoomKind, input: { newSlug: string }): RoomChange {
  if (kind === 'dm') throw new ApiError('M_INVALID_PARAM', "a DM's slug is its two users: it is not renamed");
  return { type: 'rename', newSlug: input.newSlug };
}

/** `PUT …/rooms/{kind}/{slug}/members/{userSlug}` (an empty body is `{}`). */
export const MEMBER_BODY = object({
  role: optional(role()),
  displayName: optional(displayName('Used when the member has no Matrix account yet (default: the slug).')),
});

/** `POST /v1/tenants/{tenant}/dms`, and the data of `chat.dm.created`. */
export const DM_BODY = object({
  users: list({
    items: { ...SLUG_JSON, description: 'A user slug.' },
    minItems: 2,
    maxItems: 2,
    shape: 'field "users" must list exactly two user slugs',
    check: (u) => slugProblem(u, 'user slug'),
    duplicate: 'a DM is between two different users',
  }),
  encrypted,
  name: settingsFields.name,
});

/** The parsed settings fields → RoomSettings, refusing what the room's kind does not allow. */
export function settingsFrom(kind: RoomKind, input: RoomSettings): RoomSettings {
  const settings: RoomSettings = {};
  const { name, topic, visibility, encrypted: e, prune, knock } = input;
  if (name !== undefined) settings.name = name;
  if (topic !== undefined) settings.topic = topic;
  if (visibility !== undefined) settings.visibility = visibility;
  if (e !== undefined) settings.encrypted = e;
  if (prune !== undefined) settings.prune = prune;
  if (knock !== undefined) settings.knock = knock;
  assertValid(settingsProblem(kind, settings));
  return settings;
}

export function addMemberFrom(
  kind: RoomKind,
  userSlug: string,
  input: { role?: string; displayName?: string },
): RoomChange {
  const r = input.role ?? 'member';
  assertValid(memberChangeProblem(kind, userSlug, r));
  const name = input.displayName;
  return name === undefined
    ? { type: 'addMember', userSlug, role: r }
    : { type: 'addMember', userSlug, role: r, displayName: name };
}

export function removeMemberFrom(kind: RoomKind, userSlug: string): RoomChange {
  assertValid(memberChangeProblem(kind, userSlug));
  return { type: 'removeMember', userSlug };
}

/** `PUT …/rooms/{kind}/{slug}`: the ensure change, taking over an existing room when `adopt` names one. */
export function ensureFrom(kind: RoomKind, body: Record<string, unknown>): RoomChange {
  const input = ROOM_SETTINGS_BODY.parse(body);
  const settings = settingsFrom(kind, input);
  const adopt: RoomAdoption | undefined = input.adopt;
  const time = timeFrom(kind, input);
  return { type: 'ensure', settings, ...(adopt ? { adopt } : {}), ...(time ? { time } : {}), ...groupOf(kind, input.groupSlug) };
}

/** An ensure's `group` from the request's `groupSlug`: events only. */
export function groupOf(kind: RoomKind, groupSlug: string | null | undefined): { group?: string | null } {
  if (groupSlug === undefined) return {};
  if (kind !== 'event') throw new ApiError('M_INVALID_PARAM', `field "groupSlug": only an event has a group, not a ${kind}`);
  return { group: groupSlug };
}

/** `{users: [a, b], encrypted?, name?}` → the DM's ref and settings. */
export function dmFrom(
  principal: ServicePrincipal,
  tenant: string,
  body: Record<string, unknown>,
): { ref: RoomRef; settings: RoomSettings } {
  const input = DM_BODY.parse(body);
  const [a, b] = input.users as [string, string];
  const ref = roomRef(principal, tenant, 'dm', dmSlug(a, b));
  return { ref, settings: settingsFrom('dm', input) };
}

export { requireString };
