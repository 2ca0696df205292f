/**
 * The platform's own events on the real stack, fed as openmeet-api emits them (its tenant id in
 * upper case, fields we do not read included) and checked on the homeserver: the room created,
 * members joined at the power level their role maps to (through POWER_LEVELS, applied by the
 * worker), role changes applied, members removed. Also: their refusals, and CORS on a real answer.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { matrixUserId } from '../../vocabulary/ids.js';
import { serviceToken } from '../helpers/api.js';
import { serviceFixture } from '../helpers/fixture.js';
import { botView } from '../helpers/matrix.js';
import { userToken } from '../helpers/relay.js';

const APP = 'https://app.example';
/** The levels this file's worker applies: the defaults, with two of the platform's roles patched. */
const POWER_LEVELS = '{"event":{"participant":10},"group":{"guest":5}}';
const fx = serviceFixture('platform', { API_WAIT_MS: '60000', API_CORS_ORIGINS: APP }, 'plat', { POWER_LEVELS });
const { config, tenant } = fx;
/** The same tenant as the platform may spell it. */
const UPPER = tenant.toUpperCase();
const MIXED = tenant[0]!.toUpperCase() + tenant.slice(1);
const uid = (slug: string): string => matrixUserId('om', 'localhost', tenant, slug);
const BOT = '@openmeet-bot:localhost';
const bot = botView(config);

interface Answer {
  status: number;
  body: { roomId: string; alias: string; actions: string[]; errcode?: string; error?: string };
}

/** `POST /v1/tenants/{UPPER}/events` `{type, data}`, as a forwarder of the platform's events would. */
async function emit(type: string, data: Record<string, unknown>, pathTenant = UPPER): Promise<Answer> {
  const res = await fx.api.post(`/v1/tenants/${pathTenant}/events`, { type, data });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

/** The member's level in the room (absent from `users`: the default, 0). */
const levelOf = async (roomId: string, slug: string): Promise<number> => (await bot.powerLevels(roomId))[uid(slug)] ?? 0;

// The tenant's reconciliation schedule (created with its first room) would outlive this file.
afterAll(async () => {
  await fx.api.temporal.schedule
    .getHandle(`reconcile:${tenant}`)
    .delete()
    .catch(() => undefined);
});

describe("a group, through the platform's events", () => {
  let roomId = '';

  it('chat.group.member.add (joinGroup) creates the room and joins the member with their role; unread fields are ignored', async () => {
    // openmeet-api src/group/group.service.ts joinGroup:
    //   emit('chat.group.member.add', { groupSlug, userSlug, userRole: assignedRole, tenantId })
    const res = await emit('chat.group.member.add', {
      groupSlug: 'hikers-4f',
      userSlug: 'Hana-Q7',
      userRole: 'member',
      tenantId: MIXED,
      groupId: 12, // not read: ignored
    });
    expect(res.status).toBe(200);
    roomId = res.body.roomId;
    expect(res.body.alias).toBe(`#om_${tenant}_group_hikers-4f:localhost`);
    expect(res.body.actions).toEqual(expect.arrayContaining([`provisioned ${uid('Hana-Q7')}`, `joined ${uid('Hana-Q7')}`]));
    expect(await bot.joined(roomId)).toEqual([BOT, uid('Hana-Q7')].sort());
    expect(await levelOf(roomId, 'Hana-Q7')).toBe(0);
  });

  it('chat.group.member.role.update (updateRole) moves the power level: member → admin 75 → moderator 50', async () => {
    // openmeet-api src/group-member/group-member-query.service.ts updateRole:
    //   emit('chat.group.member.role.update', { groupSlug, userSlug, oldRole, newRole, tenantId })
    const update = (oldRole: string, newRole: string) =>
      emit('chat.group.member.role.update', { groupSlug: 'hikers-4f', userSlug: 'Hana-Q7', oldRole, newRole, tenantId: MIXED });
    expect((await update('member', 'admin')).body.actions).toEqual([`power level ${uid('Hana-Q7')} 0→75`]);
    expect(await levelOf(roomId, 'Hana-Q7')).toBe(75);
    expect((await update('admin', 'moderator')).body.actions).toEqual([`power level ${uid('Hana-Q7')} 75→50`]);
    expect(await levelOf(roomId, 'Hana-Q7')).toBe(50);
    // The platform re-announces her membership (matrix.handle.registered: src/group/group.listener.ts,
    // no userRole): she stays a moderator.
    const again = await emit('chat.group.member.add', { groupSlug: 'hikers-4f', userSlug: 'Hana-Q7', tenantId: MIXED });
    expect(again).toMatchObject({ status: 200, body: { actions: [] } });
    expect(await levelOf(roomId, 'Hana-Q7')).toBe(50);
  });

  it("a guest joins at the guest level (POWER_LEVELS), becomes a member when approved, and leaves when demoted to guest", async () => {
    const guest = await emit('chat.group.member.add', {
      groupSlug: 'hikers-4f',
      userSlug: 'bob-k9',
      userRole: 'guest', // joinGroup, in a group that requires approval
      tenantId: MIXED,
    });
    expect(guest.status).toBe(200);
    expect(await bot.joined(roomId)).toEqual([BOT, uid('Hana-Q7'), uid('bob-k9')].sort());
    expect(await levelOf(roomId, 'bob-k9')).toBe(5);
    // src/group/group.service.ts approveMember: emit('chat.group.member.add', { groupSlug, userSlug, tenantId })
    await emit('chat.group.member.add', { groupSlug: 'hikers-4f', userSlug: 'bob-k9', tenantId: MIXED });
    expect(await levelOf(roomId, 'bob-k9')).toBe(0);
    const view = (await (await fx.api.get(`/v1/tenants/${tenant}/rooms/group/hikers-4f`)).json()) as { members: object };
    expect(view.members).toEqual({ 'Hana-Q7': 'moderator', 'bob-k9': 'member' });

    const demoted = await emit('chat.group.member.role.update', {
      groupSlug: 'hikers-4f',
      userSlug: 'bob-k9',
      oldRole: 'member',
      newRole: 'guest',
      tenantId: MIXED,
    });
    expect(demoted.status).toBe(200);
    expect(demoted.body.actions).toContain(`removed ${uid('bob-k9')}`);
    expect(await bot.joined(roomId)).toEqual([BOT, uid('Hana-Q7')].sort());
  });

  it('chat.group.member.remove takes the member out; the tenant in lower case is the same tenant and room', async () => {
    const res = await emit('chat.group.member.remove', { groupSlug: 'hikers-4f', userSlug: 'Hana-Q7', tenantId: UPPER }, tenant);
    expect(res).toMatchObject({ status: 200, body: { roomId } });
    expect(await bot.joined(roomId)).toEqual([BOT]);
  });
});

describe("an event, through the platform's events", () => {
  it('a roleless chat.event.member.add joins a newcomer as a participant (10 here) and leaves a host a host; remove takes them out', async () => {
    // A host set through this service's own route, then re-announced by the platform without a role.
    const host = await fx.api.app.request(`/v1/tenants/${tenant}/rooms/event/summer-meetup-x1/members/lena`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${fx.api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'host' }),
    });
    expect(host.status).toBe(200);
    // openmeet-api src/event/event.listener.ts (a confirmed attendance):
    //   emit('chat.event.member.add', { eventSlug, userSlug, tenantId })
    const lena = await emit('chat.event.member.add', { eventSlug: 'summer-meetup-x1', userSlug: 'lena', tenantId: UPPER });
    expect(lena).toMatchObject({ status: 200, body: { actions: [] } });
    const roomId = lena.body.roomId;
    expect(await levelOf(roomId, 'lena')).toBe(100);

    const ivo = await emit('chat.event.member.add', { eventSlug: 'summer-meetup-x1', userSlug: 'ivo-3', tenantId: UPPER });
    expect(ivo.body.actions).toEqual(expect.arrayContaining([`joined ${uid('ivo-3')}`, `power level ${uid('ivo-3')} 0→10`]));
    expect(await bot.joined(roomId)).toEqual([BOT, uid('lena'), uid('ivo-3')].sort());
    expect(await levelOf(roomId, 'ivo-3')).toBe(10);

    // openmeet-api src/event/event.listener.ts (an attendance no longer confirmed):
    //   emit('chat.event.member.remove', { eventSlug, userSlug, tenantId })
    const gone = await emit('chat.event.member.remove', { eventSlug: 'summer-meetup-x1', userSlug: 'ivo-3', tenantId: UPPER });
    expect(gone.body.actions).toContain(`removed ${uid('ivo-3')}`);
    expect(await bot.joined(roomId)).toEqual([BOT, uid('lena')].sort());
  });
});

describe('refusals', () => {
  it('an unknown role and an unknown event type are 400s naming them; a tenantId of another tenant is a 400', async () => {
    const role = await emit('chat.group.member.add', { groupSlug: 'hikers-4f', userSlug: 'x', userRole: 'superuser', tenantId: MIXED });
    expect(role).toMatchObject({
      status: 400,
      body: {
        errcode: 'M_INVALID_PARAM',
        error: 'field "userRole": role "superuser" is not one of owner, admin, moderator, member, guest for group rooms',
      },
    });
    const type = await emit('chat.event.attendee.promoted', { eventSlug: 'summer-meetup-x1', userSlug: 'x' });
    expect(type.status).toBe(400);
    expect(type.body.errcode).toBe('M_INVALID_PARAM');
    expect(type.body.error).toMatch(/^unknown event type "chat\.event\.attendee\.promoted"; known: chat\.event\.created, /);
    const other = await emit('chat.event.member.add', { eventSlug: 'summer-meetup-x1', userSlug: 'x', tenantId: 'someone-else' });
    expect(other).toMatchObject({ status: 400, body: { error: `field "tenantId" names tenant "someone-else", not the path's "${tenant}"` } });
  });
});

describe('CORS and tenant case on the message routes', () => {
  it("a browser of an allowed origin reads the history with a user JWT whose tenant is in upper case; another origin gets no CORS header", async () => {
    await emit('chat.event.member.add', { eventSlug: 'summer-meetup-x1', userSlug: 'mia', tenantId: UPPER });
    const jwt = await userToken(config, UPPER, 'mia');
    const read = (origin: string) =>
      fx.api.app.request(`/v1/tenants/${MIXED}/rooms/event/summer-meetup-x1/messages?limit=5`, {
        headers: { authorization: `Bearer ${jwt}`, origin },
      });
    const allowed = await read(APP);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(((await allowed.json()) as { events: unknown[] }).events.length).toBeGreaterThan(0);
    const other = await read('https://elsewhere.example');
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // A service token listing the tenant in upper case may act for it too.
    const upperClaim = await serviceToken(config, { tenants: [UPPER] });
    const viaService = await fx.api.get(`/v1/tenants/${tenant}/rooms/event/summer-meetup-x1/messages?userSlug=mia`, upperClaim);
    expect(viaService.status).toBe(200);
  });
});
