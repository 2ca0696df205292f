/**
 * The platform's own chat events, in the shapes OpenMeet's backend (openmeet-api) emits them with
 * EventEmitter2 and its Matrix module listens to (src/matrix/matrix-event.listener.ts), each mapped
 * to one room change. Fields a mapping does not read are ignored, not refused: the platform owns
 * these shapes. The table, with where each is emitted, is in docs/api.md ("The platform's own events").
 */
import type { RoomChange } from '../vocabulary/contract.js';
import { canonicalTenant, roleProblem, ROLES_BY_KIND, TENANT_INPUT_PATTERN, tenantProblem } from '../vocabulary/ids.js';
import { addMemberFrom, removeMemberFrom, renameFrom } from './room-input.js';
import { slug } from './spec/fields.js';
import { formatted, openObject, optional, text, type Body, type Field, type JsonSchema } from './spec/schema.js';
import { eventTimeFields, timeFrom } from './event-time-input.js';
import { ApiError } from './errors.js';

export type EntityKind = 'event' | 'group';

/** A roleless add's role for a newcomer: the platform's defaults (EventAttendeeRole.Participant, GroupRole.Member). */
export const NEWCOMER_ROLE: Readonly<Record<EntityKind, string>> = { event: 'participant', group: 'member' };

/** A group role change to this takes the member out of the room, as the platform's own listener does. */
export const LEAVES_THE_ROOM = 'guest';

/** What one platform event asks for. */
export interface PlatformRequest {
  /** The entity's slug (the room's). */
  slug: string;
  /** The event's own `tenantId`, when it has one (checked against the path's). */
  tenantId: string | undefined;
  change: RoomChange;
}

export interface PlatformMapping {
  kind: EntityKind;
  /** The field naming the entity: `eventSlug` or `groupSlug`. */
  entityField: string;
  /** The spec of `data`. */
  data: JsonSchema;
  read(data: Body): PlatformRequest;
}

/** A role of `kind` under the platform's field name; anything else is a 400 naming it and the roles there are. */
const platformRole = (kind: EntityKind, description: string) =>
  formatted(32, (v, name) => roleProblem(kind, v, `field "${name}": role`), {
    enum: [...ROLES_BY_KIND[kind]],
    description,
  });

const tenantId = optional(
  formatted(
    1000,
    (v, name) => {
      const problem = tenantProblem(canonicalTenant(v));
      return problem ? `field "${name}": ${problem}` : null;
    },
    {
      maxLength: 32,
      pattern: TENANT_INPUT_PATTERN.source,
      description: "The platform's tenant id: it must name the path's tenant (upper case is read as lower case).",
    },
  ),
);

/** A field of the platform's shape that the mapping does not read (documented, never refused). */
const notRead = (description: string): Field<undefined> => ({
  optional: true,
  json: { description },
  read: () => undefined,
});

/**
 * A roleless add: a member already in the room keeps their role, a newcomer gets the platform's
 * default one, and so does a guest — the platform's roleless adds of a group are its approvals of
 * guests (approveMember makes them members) and re-announcements of approved members.
 */
function rolelessAdd(kind: EntityKind, userSlug: string): RoomChange {
  const change = addMemberFrom(kind, userSlug, { role: NEWCOMER_ROLE[kind] });
  const keepRoles = ROLES_BY_KIND[kind].filter((r) => r !== LEAVES_THE_ROOM);
  return change.type === 'addMember' ? { ...change, keepRoles } : change;
}

/** The platform's `group.slug.changed` (src/group/group.service.ts update()): the group's room is renamed. */
const slugChangedData = openObject({
  oldSlug: slug("The group's slug until now."),
  newSlug: slug("The group's new slug."),
  tenantId,
  groupId: notRead("Not read: the platform's database id."),
});
const slugChanged: PlatformMapping = {
  kind: 'group',
  entityField: 'oldSlug',
  data: slugChangedData.json,
  read(data) {
    const p = slugChangedData.parse(data);
    return { slug: p.oldSlug, tenantId: p.tenantId, change: renameFrom('group', { newSlug: p.newSlug }) };
  },
};

function mappingsOf(kind: EntityKind): Record<string, PlatformMapping> {
  const entityField = kind === 'event' ? 'eventSlug' : 'groupSlug';
  const base = {
    [entityField]: slug(`The ${kind}'s slug.`),
    userSlug: slug("The member's slug."),
    tenantId,
  };
  const map = <F extends Record<string, Field<unknown>>>(
    schema: ReturnType<typeof openObject<F>>,
    change: (p: Record<string, unknown>, userSlug: string) => RoomChange,
  ): PlatformMapping => ({
    kind,
    entityField,
    data: schema.json,
    read(data) {
      const p = schema.parse(data) as Record<string, unknown>;
      const userSlug = p.userSlug as string;
      return {
        slug: p[entityField] as string,
        tenantId: p.tenantId as string | undefined,
        change: change(p, userSlug),
      };
    },
  });
  const add = openObject({
    ...base,
    userRole: optional(
      platformRole(
        kind,
        'The role to give. Without it a newcomer is a `' + NEWCOMER_ROLE[kind] + '` and a member keeps their role.',
      ),
    ),
  });
  const mappings: Record<string, PlatformMapping> = {
    [`chat.${kind}.member.add`]: map(add, (p, u) =>
      p.userRole === undefined ? rolelessAdd(kind, u) : addMemberFrom(kind, u, { role: p.userRole as string }),
    ),
    [`chat.${kind}.member.remove`]: map(openObject(base), (_p, u) => removeMemberFrom(kind, u)),
  };
  if (kind === 'group') {
    const update = openObject({
      ...base,
      newRole: platformRole(kind, `The member's new role; \`${LEAVES_THE_ROOM}\` takes them out of the room.`),
      oldRole: notRead("Not read: the room's own state says where the member stands."),
    });
    mappings['chat.group.member.role.update'] = map(update, (p, u) =>
      p.newRole === LEAVES_THE_ROOM ? removeMemberFrom(kind, u) : addMemberFrom(kind, u, { role: p.newRole as string }),
    );
    mappings['group.slug.changed'] = slugChanged;
  }
  return mappings;
}

/**
 * The platform's `chat.event.created` / `.updated` (src/event/event.listener.ts, from the event
 * entity): the room named `eventName`; with the entity's `startDate` (and `endDate`, else the
 * start; `timeZone`, else UTC) the room's timers follow the event's time (decision 0053).
 */
function eventEnsure(): PlatformMapping {
  const { startsAt, endsAt, timeZone } = eventTimeFields;
  const shape = openObject({
    eventSlug: slug("The event's slug."),
    eventName: optional(text(255, 'The room name.')),
    startDate: startsAt,
    endDate: endsAt,
    timeZone,
    tenantId,
    userSlug: notRead('Not read: the creator joins as the platform adds them.'),
    eventVisibility: notRead("Not read: the room's visibility is set with PUT …/rooms/event/{slug}."),
  });
  return {
    kind: 'event',
    entityField: 'eventSlug',
    data: shape.json,
    read(data) {
      const p = shape.parse(data);
      const given = p.startDate === undefined ? {} : { startsAt: p.startDate, endsAt: p.endDate ?? p.startDate, timeZone: p.timeZone ?? 'UTC' };
      let time;
      try {
        time = timeFrom('event', given);
      } catch (err) {
        // The entity's field names, not this service's.
        if (err instanceof ApiError) err.message = err.message.replaceAll('"startsAt"', '"startDate"').replaceAll('"endsAt"', '"endDate"');
        throw err;
      }
      const change: RoomChange = { type: 'ensure', settings: p.eventName ? { name: p.eventName } : {}, ...(time ? { time } : {}) };
      return { slug: p.eventSlug, tenantId: p.tenantId, change };
    },
  };
}

/** The platform's events this service maps, by type. */
export const PLATFORM_EVENTS: Readonly<Record<string, PlatformMapping>> = {
  'chat.event.created': eventEnsure(),
  'chat.event.updated': eventEnsure(),
  ...mappingsOf('event'),
  ...mappingsOf('group'),
};

/** Events the platform emits that are not mapped, and why: the 400 for one says so. */
export const NOT_MAPPED: Readonly<Record<string, string>> = {
  'matrix.sync.event.attendees':
    'it names no attendees (the platform reads them from its database): send each as chat.event.member.add',
  'event.attendee.status.changed':
    'the platform turns it into chat.event.member.add or chat.event.member.remove itself: send those',
};
