import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { describeValue } from '../../vocabulary/describe.js';
import { canonicalTenant, type RoomKind } from '../../vocabulary/ids.js';
import type { RoomChange } from '../../vocabulary/contract.js';
import { roomChange } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { NOT_MAPPED, PLATFORM_EVENTS, type PlatformMapping } from '../platform-events.js';
import { displayName, role, settingsFields, slug, SLUG_JSON } from '../spec/fields.js';
import { operation, outcomeAnswers, below } from '../spec/operation.js';
import { addMemberFrom, dmFrom, DM_BODY, groupOf, removeMemberFrom, renameFrom, roomRef, settingsFrom } from '../room-input.js';
import { groupSlugField } from '../space-input.js';
import { anyObject, object, optional, text, type JsonSchema } from '../spec/schema.js';
import { eventTimeFields, timeFrom } from '../event-time-input.js';
import { CANCEL_REASON_MAX } from '../../vocabulary/event-time.js';
import { readJsonObject, rejectUnknownFields, requireString } from '../spec/validation.js';
import { memberListJson, MEMBER_LIST_JSON_BOUNDS, memberListBodyLimit, setMembersFrom } from './room-members.js';
import { MEMBER_LIST_MAX_BYTES } from '../../vocabulary/member-list.js';

const missing = (field: string): never => {
  throw new ApiError('M_BAD_JSON', `missing field "${field}"`);
};

/** Where api/app.ts mounts this router; its routes are registered below it. */
export const EVENTS_PREFIX = '/v1/tenants/:tenant/events';
/** The intake's path: its body limit is the member list's (an event may carry a whole list). */
export const isEventsPath = (path: string): boolean => /^\/v1\/tenants\/[^/]+\/events$/.test(path);

/** The data of one kind of event, and the room change it maps to. */
interface Mapping {
  data: { json: JsonSchema };
  change: (kind: RoomKind, data: Record<string, unknown>) => RoomChange;
}

/** The data schemas per entity kind (roles differ between events and groups). */
function mappings(kind: 'event' | 'group'): Record<string, Mapping> {
  const ensure = object({ slug: slug(), ...settingsFields, ...(kind === 'event' ? { ...eventTimeFields, groupSlug: optional(groupSlugField) } : {}) });
  const cancel = object({ slug: slug(), reason: optional(text(CANCEL_REASON_MAX, 'Said in the notice the bot posts.')) });
  const archive = object({ slug: slug() });
  const add = object({
    slug: slug(),
    userSlug: slug(),
    role: optional(role(kind)),
    displayName: optional(displayName('Used when the member has no Matrix account yet (default: the slug).')),
  });
  const setRole = object({ slug: slug(), role: role(kind), userSlug: slug() });
  const remove = object({ slug: slug(), userSlug: slug() });
  const rename = object({ slug: slug(), newSlug: slug() });
  const list = {
    json: {
      type: 'object',
      properties: { slug: SLUG_JSON, members: memberListJson(kind) },
      required: ['slug', 'members'],
      additionalProperties: false,
    } as JsonSchema,
  };
  const ensureMapping: Mapping = {
    data: ensure,
    change: (k, d) => {
      const p = ensure.parse(d) as Parameters<typeof settingsFrom>[1] & { groupSlug?: string | null };
      const time = timeFrom(k, p as { startsAt?: string; endsAt?: string; timeZone?: string });
      return { type: 'ensure', settings: settingsFrom(k, p), ...(time ? { time } : {}), ...groupOf(k, p.groupSlug) };
    },
  };
  const lifecycle: Record<string, Mapping> =
    kind === 'event'
      ? { cancelled: { data: cancel, change: (_k, d) => ({ type: 'cancel', ...((r) => (r ? { reason: r } : {}))(cancel.parse(d).reason) }) } }
      : {};
  return {
    created: ensureMapping,
    updated: ensureMapping,
    deleted: { data: archive, change: (_k, d) => (archive.parse(d), { type: 'archive' }) },
    ...lifecycle,
    'member.add': { data: add, change: (k, d) => ((p) => addMemberFrom(k, p.userSlug, p))(add.parse(d)) },
    'member.remove': { data: remove, change: (k, d) => removeMemberFrom(k, remove.parse(d).userSlug) },
    'member.role': { data: setRole, change: (k, d) => ((p) => addMemberFrom(k, p.userSlug, p))(setRole.parse(d)) },
    renamed: { data: rename, change: (k, d) => renameFrom(k, rename.parse(d)) },
    'members.set': {
      data: list,
      change: (k, d) => (rejectUnknownFields(d, ['slug', 'members']), setMembersFrom(k, d.members ?? missing('members'))),
    },
  };
}

/** The platform's domain events, each mapped to one room change. */
const EVENTS: Readonly<Record<string, [RoomKind, Mapping]>> = Object.fromEntries(
  (['event', 'group'] as const).flatMap((kind) =>
    Object.entries(mappings(kind)).map(([suffix, m]) => [`chat.${kind}.${suffix}`, [kind, m]]),
  ),
);
const DM_CREATED = 'chat.dm.created';

const ENVELOPE = object({ type: text(100), data: anyObject() });
const variant = (type: string, data: JsonSchema): JsonSchema => ({
  type: 'object',
  properties: { type: { type: 'string', const: type }, data },
  required: ['type', 'data'],
  additionalProperties: false,
});
/** A type in both shapes is told apart by `slug`: ours has it, the platform's never does. */
const platformData = (type: string, m: PlatformMapping): JsonSchema =>
  EVENTS[type] ? { ...m.data, not: { required: ['slug'] } } : m.data;
export const EVENT_BODY_JSON: JsonSchema = {
  description:
    "One of the `chat.*` events, in this service's shape or as the platform emits them (fields it does not read ignored). Idempotent: delivering one twice changes nothing.",
  oneOf: [
    ...Object.entries(EVENTS).map(([type, [, m]]) => variant(type, m.data.json)),
    variant(DM_CREATED, DM_BODY.json),
    ...Object.entries(PLATFORM_EVENTS).map(([type, m]) => variant(type, platformData(type, m))),
  ],
};
const KNOWN_TYPES = [...new Set([...Object.keys(EVENTS), DM_CREATED, ...Object.keys(PLATFORM_EVENTS)])];

const intake = operation({
  method: 'post',
  path: '/v1/tenants/:tenant/events',
  operationId: 'sendPlatformEvent',
  summary: "One of the platform's chat events, applied as one room change",
  description:
    "`chat.{event,group}.{created,updated,deleted,member.add,member.remove,member.role,renamed,members.set}`, `chat.event.cancelled` and `chat.dm.created`; the platform's own `chat.{event,group}.member.{add,remove}` (`eventSlug` / `groupSlug`), `chat.group.member.role.update` and `group.slug.changed` (docs/api.md, \"The platform's own events\").",
  tags: ['events'],
  security: 'service',
  body: { schema: EVENT_BODY_JSON },
  responses: outcomeAnswers('RoomChangeResult'),
  errors: [
    'OM_ROOM_ARCHIVED',
    'OM_ROOM_RENAMED',
    'OM_SLUG_TAKEN',
    'M_NOT_FOUND',
    'OM_ROOM_MISSING',
    'OM_USER_DEACTIVATED',
    'OM_UPSTREAM_FAILED',
    'OM_UNAVAILABLE',
  ],
});
export const eventsOperations = [intake];

/** `POST /v1/tenants/{tenant}/events` `{type, data}`: intake of the platform's chat events. */
export function eventsRoutes(deps: AppDeps) {
  return new Hono<ApiEnv, BlankSchema, typeof EVENTS_PREFIX>().post(below(EVENTS_PREFIX, intake), memberListBodyLimit(), async (c) => {
    const tenant = c.req.param('tenant');
    const { type, data } = ENVELOPE.parse(await readJsonObject(c, MEMBER_LIST_MAX_BYTES, MEMBER_LIST_JSON_BOUNDS));
    if (type === DM_CREATED) {
      const { ref, settings } = dmFrom(c.get('principal'), tenant, data);
      return roomChange(c, deps, ref, { type: 'ensure', settings });
    }
    const entry = EVENTS[type];
    const platform = PLATFORM_EVENTS[type];
    if (platform && !Object.hasOwn(data, 'slug')) {
      if (entry && !Object.hasOwn(data, platform.entityField))
        throw new ApiError('M_BAD_JSON', `missing field "slug" (or, in the platform's shape, "${platform.entityField}")`);
      const { slug, tenantId, change } = platform.read(data);
      const ref = roomRef(c.get('principal'), tenant, platform.kind, slug);
      if (tenantId !== undefined && canonicalTenant(tenantId) !== ref.tenant)
        throw new ApiError(
          'M_INVALID_PARAM',
          `field "tenantId" names tenant ${describeValue(canonicalTenant(tenantId))}, not the path's "${ref.tenant}"`,
        );
      return roomChange(c, deps, ref, change);
    }
    if (!entry) {
      const why = NOT_MAPPED[type];
      throw new ApiError(
        'M_INVALID_PARAM',
        why
          ? `event type ${describeValue(type)} is not mapped: ${why}`
          : `unknown event type ${describeValue(type)}; known: ${KNOWN_TYPES.join(', ')}`,
      );
    }
    const [kind, mapping] = entry;
    const ref = roomRef(c.get('principal'), tenant, kind, requireString(data, 'slug', 1000));
    return roomChange(c, deps, ref, mapping.change(kind, data));
  });
}
