import { Hono } from 'hono';
import type { RoomKind } from '../../workflows/ids.js';
import type { RoomChange } from '../../workflows/messages.js';
import { roomChange } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { addMemberFrom, dmFrom, removeMemberFrom, roomRef, settingsFrom } from '../room-input.js';
import { readJsonObject, rejectUnknownFields, requireString } from '../validation.js';

type Mapper = (kind: RoomKind, data: Record<string, unknown>) => RoomChange;

const ensure: Mapper = (kind, data) => {
  rejectUnknownFields(data, ['slug', 'name', 'topic', 'visibility']);
  return { type: 'ensure', settings: settingsFrom(kind, data) };
};
const add: Mapper = (kind, data) => {
  rejectUnknownFields(data, ['slug', 'userSlug', 'role', 'displayName']);
  return addMemberFrom(kind, requireString(data, 'userSlug', 1000), data);
};
const role: Mapper = (kind, data) => {
  rejectUnknownFields(data, ['slug', 'userSlug', 'role']);
  requireString(data, 'role', 32);
  return addMemberFrom(kind, requireString(data, 'userSlug', 1000), data);
};
const remove: Mapper = (kind, data) => {
  rejectUnknownFields(data, ['slug', 'userSlug']);
  return removeMemberFrom(kind, requireString(data, 'userSlug', 1000));
};
const archive: Mapper = (_kind, data) => {
  rejectUnknownFields(data, ['slug']);
  return { type: 'archive' };
};

/** The platform's domain events, each mapped to one room change. */
const EVENTS: Readonly<Record<string, [RoomKind, Mapper]>> = {
  'chat.event.created': ['event', ensure],
  'chat.event.updated': ['event', ensure],
  'chat.event.deleted': ['event', archive],
  'chat.event.member.add': ['event', add],
  'chat.event.member.remove': ['event', remove],
  'chat.event.member.role': ['event', role],
  'chat.group.created': ['group', ensure],
  'chat.group.updated': ['group', ensure],
  'chat.group.deleted': ['group', archive],
  'chat.group.member.add': ['group', add],
  'chat.group.member.remove': ['group', remove],
  'chat.group.member.role': ['group', role],
};

/** `POST /v1/tenants/{tenant}/events` `{type, data}`: intake of the platform's chat events. */
export function eventsRoutes(deps: AppDeps) {
  return new Hono<ApiEnv>().post('/:tenant/events', async (c) => {
    const tenant = c.req.param('tenant');
    const body = await readJsonObject(c);
    rejectUnknownFields(body, ['type', 'data']);
    const type = requireString(body, 'type', 100);
    const data = body.data;
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new ApiError('M_BAD_JSON', 'field "data" must be a JSON object');
    const d = data as Record<string, unknown>;
    if (type === 'chat.dm.created') {
      const { ref, settings } = dmFrom(c.get('principal'), tenant, d);
      return roomChange(c, deps, ref, { type: 'ensure', settings });
    }
    const entry = EVENTS[type];
    if (!entry) throw new ApiError('M_INVALID_PARAM', `unknown event type ${JSON.stringify(type)}; known: ${[...Object.keys(EVENTS), 'chat.dm.created'].join(', ')}`);
    const [kind, map] = entry;
    const ref = roomRef(c.get('principal'), tenant, kind, requireString(d, 'slug', 1000));
    return roomChange(c, deps, ref, map(kind, d));
  });
}
