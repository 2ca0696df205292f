/**
 * The platform's own events (api/platform-events.ts), in the shapes openmeet-api emits them: each
 * maps to the room change its Matrix listener means, fields the mapping does not read are
 * ignored, the spec says of them what the route does, and unknown roles, types and tenants are
 * 400s naming what is wrong. What they do on the homeserver: test/integration/platform-events.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { openApiDocument, apiOperations } from '../../api/spec/openapi.js';
import { PLATFORM_EVENTS } from '../../api/platform-events.js';
import { ROLES_BY_KIND } from '../../vocabulary/ids.js';
import { serviceToken } from '../helpers/api.js';
import { isValid } from '../helpers/json-schema.js';
import { serviceLessApp } from '../helpers/unit-app.js';

type Json = Record<string, unknown>;

const { app, config } = serviceLessApp();
const doc = openApiDocument();
const schema = apiOperations().find((o) => o.operationId === 'sendPlatformEvent')!.body!.schema;
const token = await serviceToken(config);

/**
 * One payload per type, as openmeet-api emits it (EventEmitter2 `emit(type, payload)`):
 * - chat.event.member.add / .remove: src/event/event.listener.ts (`{eventSlug, userSlug, tenantId}`);
 * - chat.group.member.add: src/group/group.service.ts joinGroup (`{groupSlug, userSlug, userRole, tenantId}`);
 * - chat.group.member.remove: the ChatMemberEvent of src/matrix/matrix-event.listener.ts;
 * - chat.group.member.role.update: src/group-member/group-member-query.service.ts updateRole
 *   (`{groupSlug, userSlug, oldRole, newRole, tenantId}`).
 * Tenant ids as the platform writes them, upper case included.
 */
const PLATFORM: Record<string, Json> = {
  'chat.event.member.add': { eventSlug: 'summer-meetup-x1y2', userSlug: 'bob-k9', tenantId: 'Acme' },
  'chat.event.member.remove': { eventSlug: 'summer-meetup-x1y2', userSlug: 'bob-k9', tenantId: 'Acme' },
  'chat.group.member.add': { groupSlug: 'hikers-4f', userSlug: 'bob-k9', userRole: 'guest', tenantId: 'Acme' },
  'chat.group.member.remove': { groupSlug: 'hikers-4f', userSlug: 'bob-k9', tenantId: 'Acme' },
  'chat.group.member.role.update': {
    groupSlug: 'hikers-4f',
    userSlug: 'bob-k9',
    oldRole: 'member',
    newRole: 'moderator',
    tenantId: 'Acme',
  },
  // src/event/event.listener.ts: emit('chat.event.created', {eventSlug, userSlug, eventName, eventVisibility, tenantId}),
  // with the event entity's startDate, endDate and timeZone beside them (decision 0053).
  'chat.event.created': {
    eventSlug: 'summer-meetup-x1y2',
    userSlug: 'alice-a1',
    eventName: 'Summer meetup',
    eventVisibility: 'public',
    startDate: '2030-05-01T16:00:00.000Z',
    endDate: '2030-05-01T18:00:00.000Z',
    timeZone: 'Europe/Berlin',
    tenantId: 'Acme',
  },
  'chat.event.updated': { eventSlug: 'summer-meetup-x1y2', eventName: 'Summer meetup', tenantId: 'Acme' },
  // src/group/group.service.ts update(): emit('group.slug.changed', {groupId, oldSlug, newSlug, tenantId})
  'group.slug.changed': { groupId: 12, oldSlug: 'hikers-4f', newSlug: 'trail-hikers-4f', tenantId: 'Acme' },
};

async function post(
  body: unknown,
  path = '/v1/tenants/acme/events',
  jwt = token,
): Promise<{ status: number; error: string }> {
  const res = await app.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { error?: string };
  return { status: res.status, error: answer.error ?? '' };
}
/** Got past validation: the service-less app's stand-in backend answers 500. */
const ACCEPTED = { status: 500, error: 'internal error' };

describe("the platform's events map to room changes", () => {
  const read = (type: string, data: Json) => PLATFORM_EVENTS[type]!.read(data);

  it('covers exactly the types sampled here', () => {
    expect(Object.keys(PLATFORM_EVENTS).sort()).toEqual(Object.keys(PLATFORM).sort());
  });

  it('a roleless add makes a newcomer (or a guest) a participant or member, and keeps any other role of one already in', () => {
    expect(read('chat.event.member.add', PLATFORM['chat.event.member.add']!)).toEqual({
      slug: 'summer-meetup-x1y2',
      tenantId: 'Acme',
      change: {
        type: 'addMember',
        userSlug: 'bob-k9',
        role: 'participant',
        keepRoles: ['host', 'moderator', 'speaker', 'member', 'participant'],
      },
    });
    const { userRole: _, ...approved } = PLATFORM['chat.group.member.add']!; // approveMember sends no role
    expect(read('chat.group.member.add', approved).change).toEqual({
      type: 'addMember',
      userSlug: 'bob-k9',
      role: 'member',
      keepRoles: ['owner', 'admin', 'moderator', 'member'],
    });
  });

  it('an add with userRole sets that role; removes remove', () => {
    expect(read('chat.group.member.add', PLATFORM['chat.group.member.add']!).change).toEqual({
      type: 'addMember',
      userSlug: 'bob-k9',
      role: 'guest',
    });
    for (const type of ['chat.event.member.remove', 'chat.group.member.remove'])
      expect(read(type, PLATFORM[type]!).change).toEqual({ type: 'removeMember', userSlug: 'bob-k9' });
  });

  it('a group role update sets the new role, and a demotion to guest takes the member out (as the platform listener does)', () => {
    const update = PLATFORM['chat.group.member.role.update']!;
    expect(read('chat.group.member.role.update', update).change).toEqual({
      type: 'addMember',
      userSlug: 'bob-k9',
      role: 'moderator',
    });
    expect(read('chat.group.member.role.update', { ...update, newRole: 'guest' }).change).toEqual({
      type: 'removeMember',
      userSlug: 'bob-k9',
    });
    // oldRole is not read: whatever it says, the room's state decides.
    expect(read('chat.group.member.role.update', { ...update, oldRole: 42 }).change).toMatchObject({
      role: 'moderator',
    });
  });

  it("a group's changed slug renames its room, from the old slug to the new one", () => {
    expect(read('group.slug.changed', PLATFORM['group.slug.changed']!)).toEqual({
      slug: 'hikers-4f',
      tenantId: 'Acme',
      change: { type: 'rename', newSlug: 'trail-hikers-4f' },
    });
  });

  it("the event's entity fields name the room and set its time; without an end it ends at its start, without a zone it is UTC", () => {
    expect(read('chat.event.created', PLATFORM['chat.event.created']!)).toEqual({
      slug: 'summer-meetup-x1y2',
      tenantId: 'Acme',
      change: {
        type: 'ensure',
        settings: { name: 'Summer meetup' },
        time: { startsAt: '2030-05-01T16:00:00.000Z', endsAt: '2030-05-01T18:00:00.000Z', timeZone: 'Europe/Berlin' },
      },
    });
    expect(read('chat.event.updated', { eventSlug: 'e1', startDate: '2030-05-01T16:00:00Z' }).change).toEqual({
      type: 'ensure',
      settings: {},
      time: { startsAt: '2030-05-01T16:00:00Z', endsAt: '2030-05-01T16:00:00Z', timeZone: 'UTC' },
    });
    expect(read('chat.event.updated', PLATFORM['chat.event.updated']!).change).toEqual({ type: 'ensure', settings: { name: 'Summer meetup' } });
    expect(() => read('chat.event.updated', { eventSlug: 'e1', startDate: '2030-05-01T16:00:00Z', endDate: '2030-05-01T15:00:00Z' })).toThrow(
      /"endDate" must not be before "startDate"/,
    );
  });

  it('fields the mapping does not read are ignored', () => {
    const extra = { eventId: 7, userId: 3, previousStatus: 'pending', sendNotifications: false, nested: { a: 1 } };
    expect(read('chat.event.member.add', { ...PLATFORM['chat.event.member.add']!, ...extra })).toEqual(
      read('chat.event.member.add', PLATFORM['chat.event.member.add']!),
    );
  });
});

describe('the intake takes them as they are', () => {
  it.each(Object.entries(PLATFORM))(
    '%s: valid per the spec, with extra fields too, and gets past validation',
    async (type, data) => {
      for (const body of [
        { type, data },
        { type, data: { ...data, eventId: 7, createdAt: '2026-01-01' } },
      ]) {
        expect(isValid(schema, body, doc)).toBe(true);
        expect(await post(body)).toEqual(ACCEPTED);
      }
    },
  );

  it('an unknown role is a 400 naming the field, the role and the roles there are', async () => {
    const add = await post({
      type: 'chat.group.member.add',
      data: { ...PLATFORM['chat.group.member.add'], userRole: 'overlord' },
    });
    expect(add.status).toBe(400);
    expect(add.error).toBe(
      `field "userRole": role "overlord" is not one of ${ROLES_BY_KIND.group.join(', ')} for group rooms`,
    );
    const update = await post({
      type: 'chat.group.member.role.update',
      data: { ...PLATFORM['chat.group.member.role.update'], newRole: 'host' },
    });
    expect(update.status).toBe(400);
    expect(update.error).toContain('field "newRole": role "host" is not one of owner, admin, moderator, member, guest');
  });

  it('an unknown event type is a 400 naming it and the known ones; a platform type not mapped says why', async () => {
    const unknown = await post({ type: 'chat.event.member.promote', data: { eventSlug: 'x', userSlug: 'y' } });
    expect(unknown.status).toBe(400);
    expect(unknown.error).toMatch(
      /^unknown event type "chat\.event\.member\.promote"; known: .*chat\.group\.member\.role\.update/,
    );
    const attendees = await post({ type: 'matrix.sync.event.attendees', data: { eventSlug: 'x', tenantId: 'Acme' } });
    expect(attendees.status).toBe(400);
    expect(attendees.error).toMatch(
      /^event type "matrix\.sync\.event\.attendees" is not mapped: it names no attendees/,
    );
  });

  it("the event's tenantId must name the path's tenant, in either case", async () => {
    const data = PLATFORM['chat.event.member.remove']!;
    expect(await post({ type: 'chat.event.member.remove', data: { ...data, tenantId: 'ACME' } })).toEqual(ACCEPTED);
    expect(await post({ type: 'chat.event.member.remove', data }, '/v1/tenants/ACME/events')).toEqual(ACCEPTED);
    expect(await post({ type: 'chat.event.member.remove', data: { ...data, tenantId: 'Other' } })).toEqual({
      status: 400,
      error: 'field "tenantId" names tenant "other", not the path\'s "acme"',
    });
    const bad = await post({ type: 'chat.event.member.remove', data: { ...data, tenantId: 'Ac_me' } });
    expect(bad.status).toBe(400);
    expect(bad.error).toMatch(/^field "tenantId": tenant must be/);
  });

  it('our shape and the platform\'s are told apart by "slug"; a body with neither names both', async () => {
    const both = await post({ type: 'chat.event.member.add', data: { slug: 'm', eventSlug: 'm', userSlug: 'bob' } });
    expect(both).toEqual({ status: 400, error: 'unknown field: "eventSlug"' });
    expect(
      isValid(schema, { type: 'chat.event.member.add', data: { slug: 'm', eventSlug: 'm', userSlug: 'bob' } }, doc),
    ).toBe(false);
    const neither = await post({ type: 'chat.group.member.add', data: { userSlug: 'bob', userRole: 'member' } });
    expect(neither).toEqual({ status: 400, error: 'missing field "slug" (or, in the platform\'s shape, "groupSlug")' });
  });

  /** Values probing each field's grammar; a `tenantId` naming another tenant is the one rule the spec states in words. */
  const PROBES: unknown[] = [
    '',
    ' ',
    'a\u0000b',
    'al ice',
    '-a',
    'Acme',
    'ACME',
    'other',
    'a_b',
    'x'.repeat(33),
    'x'.repeat(101),
  ];
  PROBES.push(...ROLES_BY_KIND.event, ...ROLES_BY_KIND.group, 'overlord', true, 0, null, [], {});
  // Formats the spec names but the schema check does not evaluate (date-time, IANA zones), and the time's own order.
  const CROSS_FIELD = /^field "tenantId" names tenant|must be an ISO 8601 date-time|must be an IANA time zone|must not be before|lasts at most/;

  it.each(Object.entries(PLATFORM))(
    '%s: each field set to each probe is refused with 400 exactly when the spec calls it invalid',
    async (type, data) => {
      for (const field of [...Object.keys(data), 'unexpected']) {
        for (const value of PROBES) {
          const body = { type, data: { ...data, [field]: value } };
          const valid = isValid(schema, body, doc);
          const answer = await post(body);
          const agrees = valid
            ? answer.status === 500 || (answer.status === 400 && CROSS_FIELD.test(answer.error))
            : answer.status === 400;
          if (!agrees)
            throw new Error(
              `${type} with ${field}=${JSON.stringify(value)}: spec says ${valid}, route answered ${answer.status} ${answer.error}`,
            );
        }
      }
    },
  );
});

describe('tenant ids in upper case', () => {
  it('a path tenant in any case is the tenant the token lists in any case, and another tenant stays forbidden', async () => {
    const remove = { type: 'chat.event.member.remove', data: { eventSlug: 'e', userSlug: 'u' } };
    const upperClaim = await serviceToken(config, { tenants: ['ACME'] });
    expect(await post(remove, '/v1/tenants/Acme/events', upperClaim)).toEqual(ACCEPTED);
    expect(await post(remove, '/v1/tenants/acme/events', upperClaim)).toEqual(ACCEPTED);
    expect(await post(remove, '/v1/tenants/beta/events', upperClaim)).toEqual({
      status: 403,
      error: 'this service token may not act for tenant "beta"',
    });
    // Only ASCII letters fold: the Kelvin sign is not a "k".
    const kelvin = await post(remove, `/v1/tenants/${encodeURIComponent('\u212Acme')}/events`);
    expect(kelvin.status).toBe(400);
    expect(kelvin.error).toMatch(/^tenant must be/);
  });
});
