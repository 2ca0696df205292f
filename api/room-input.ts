/** Turning request bodies into room changes: shared by the resource routes and the event intake. */
import { dmSlug, isRoomKind, roleProblem, roomSlugProblem, slugProblem, tenantProblem, type RoomKind } from '../workflows/ids.js';
import { DISPLAY_NAME_MAX_LENGTH, type RoomChange, type RoomRef, type RoomSettings } from '../workflows/messages.js';
import { assertTenant, type ServicePrincipal } from './auth.js';
import { ApiError } from './errors.js';
import { assertValid, optionalBoolean, optionalEnum, optionalString, rejectUnknownFields, requireString } from './validation.js';

export function roomRef(principal: ServicePrincipal, tenant: string, kind: string, slug: string): RoomRef {
  assertValid(tenantProblem(tenant));
  assertTenant(principal, tenant);
  if (!isRoomKind(kind)) throw new ApiError('M_INVALID_PARAM', `room kind must be event, group or dm, not ${JSON.stringify(kind)}`);
  assertValid(roomSlugProblem(kind, slug));
  return { tenant, kind, slug };
}

export const SETTINGS_FIELDS = ['name', 'topic', 'visibility', 'encrypted'] as const;

export function settingsFrom(kind: RoomKind, body: Record<string, unknown>): RoomSettings {
  const settings: RoomSettings = {};
  const name = optionalString(body, 'name', 255);
  const topic = optionalString(body, 'topic', 4096);
  const visibility = optionalEnum(body, 'visibility', ['public', 'private'] as const);
  const encrypted = optionalBoolean(body, 'encrypted');
  if (name !== undefined) settings.name = name;
  if (topic !== undefined) settings.topic = topic;
  if (visibility !== undefined) {
    if (kind === 'dm' && visibility === 'public') throw new ApiError('M_INVALID_PARAM', 'a DM cannot be public');
    settings.visibility = visibility;
  }
  if (encrypted !== undefined) {
    if (kind !== 'dm' && encrypted) throw new ApiError('M_INVALID_PARAM', 'encryption can only be asked for DMs');
    settings.encrypted = encrypted;
  }
  return settings;
}

export function addMemberFrom(kind: RoomKind, userSlug: string, body: Record<string, unknown>): RoomChange {
  if (kind === 'dm') throw new ApiError('M_INVALID_PARAM', 'a DM is between exactly its two users; members cannot be added or removed');
  assertValid(slugProblem(userSlug, 'userSlug'));
  const role = optionalString(body, 'role', 32) ?? 'member';
  assertValid(roleProblem(kind, role));
  const displayName = optionalString(body, 'displayName', DISPLAY_NAME_MAX_LENGTH);
  return displayName === undefined ? { type: 'addMember', userSlug, role } : { type: 'addMember', userSlug, role, displayName };
}

export function removeMemberFrom(kind: RoomKind, userSlug: string): RoomChange {
  if (kind === 'dm') throw new ApiError('M_INVALID_PARAM', 'a DM is between exactly its two users; members cannot be added or removed');
  assertValid(slugProblem(userSlug, 'userSlug'));
  return { type: 'removeMember', userSlug };
}

/** `{users: [a, b], encrypted?}` → the DM's ref and settings. */
export function dmFrom(principal: ServicePrincipal, tenant: string, body: Record<string, unknown>): { ref: RoomRef; settings: RoomSettings } {
  rejectUnknownFields(body, ['users', 'encrypted', 'name']);
  const users = body.users;
  if (!Array.isArray(users) || users.length !== 2 || !users.every((u) => typeof u === 'string')) {
    throw new ApiError('M_BAD_JSON', 'field "users" must list exactly two user slugs');
  }
  for (const u of users as string[]) assertValid(slugProblem(u, 'user slug'));
  if (users[0] === users[1]) throw new ApiError('M_INVALID_PARAM', 'a DM is between two different users');
  const ref = roomRef(principal, tenant, 'dm', dmSlug(users[0] as string, users[1] as string));
  return { ref, settings: settingsFrom('dm', body) };
}

export { requireString };
