/**
 * The typed client (client/) covers every route: each operation of the spec is called by one
 * client function (shown by the request it puts on the wire) or is listed, with why, among those
 * the client leaves out; and each client function calls an operation. A route added without a
 * client function fails here, naming its operationId.
 */
import { describe, expect, it } from '@jest/globals';
import { apiOperations } from '../../api/spec/openapi.js';
import { specPath, type Operation } from '../../api/spec/operation.js';
import * as Client from '../../client/index.js';

type Om = Client.MatrixOrchestratorClient;
const event = { tenant: 'acme', kind: 'event', slug: 'meetup' } as const;

/** One call of each client function, keyed by the operation it is for. */
const CALLS: Record<string, (om: Om) => Promise<unknown>> = {
  provisionUser: (om) => om.users.provision('acme', { slug: 'alice', displayName: 'Alice' }),
  provisionUsersBatch: (om) => om.users.provisionBatch('acme', { users: [{ slug: 'alice', displayName: 'Alice' }] }),
  renameUser: (om) => om.users.rename('acme', 'alice', { newSlug: 'alicia' }),
  offboardUser: (om) => om.users.offboard('acme', 'alice', { erase: true }),
  getOffboarding: (om) => om.users.offboarding('acme', 'alice'),
  cancelOffboarding: (om) => om.users.cancelOffboarding('acme', 'alice'),
  ensureRoom: (om) => om.rooms.ensure(event, { name: 'Meetup' }),
  getRoom: (om) => om.rooms.get(event),
  archiveRoom: (om) => om.rooms.archive(event),
  reconcileRoom: (om) => om.rooms.reconcile(event),
  unarchiveRoom: (om) => om.rooms.unarchive(event),
  cancelEvent: (om) => om.rooms.cancel(event, { reason: 'Rain' }),
  putEventTimers: (om) => om.eventTimers.put('acme', { reminderMinutes: [60] }),
  getEventTimers: (om) => om.eventTimers.get('acme'),
  renameRoom: (om) => om.rooms.rename({ tenant: 'acme', kind: 'group', slug: 'hikers' }, 'trail-hikers'),
  setMember: (om) => om.members.set(event, 'alice', { role: 'host' }),
  removeMember: (om) => om.members.remove(event, 'alice'),
  setMembers: (om) => om.members.setAll(event, [{ userSlug: 'alice', role: 'host' }, { userSlug: 'bob' }]),
  ensureDm: (om) => om.dms.ensure('acme', { users: ['alice', 'bob'] }),
  sendPlatformEvent: (om) =>
    om.events.send('acme', { type: 'chat.event.member.add', data: { eventSlug: 'meetup', userSlug: 'bob' } }),
  getOperation: (om) => om.operations.get('room:acme:event:meetup'),
  roomHistory: (om) => om.messages.history(event, { limit: 5, userSlug: 'alice' }),
  sendMessage: (om) => om.messages.send(event, { txnId: 't-1', body: 'Hello', userSlug: 'alice' }),
  setTyping: (om) => om.messages.typing(event, { typing: true, userSlug: 'alice' }),
  sendReceipt: (om) => om.messages.receipt(event, { eventId: '$e', userSlug: 'alice' }),
  uploadMedia: (om) =>
    om.messages.upload(event, new Blob(['hi'], { type: 'text/plain' }), {
      txnId: 't-2',
      filename: 'hi.txt',
      userSlug: 'alice',
    }),
  myRooms: (om) => om.messages.rooms('acme', { userSlug: 'alice' }),
  deleteMessage: (om) => om.messages.delete(event, '$e', { reason: 'spam', userSlug: 'alice' }),
  addReaction: (om) => om.messages.react(event, '$e', { key: '👍', userSlug: 'alice' }),
  removeReaction: (om) => om.messages.unreact(event, '$e', { key: '👍', userSlug: 'alice' }),
  search: (om) => om.search('acme', { q: 'launch', room: ['event/meetup'], userSlug: 'alice' }),
  putWebhook: (om) => om.webhooks.put('acme', { url: 'https://platform.test/hooks', secret: 's'.repeat(32) }),
  getWebhook: (om) => om.webhooks.get('acme'),
  banFromGroup: (om) => om.groups.ban('acme', 'hikers', 'alice', { reason: 'spam' }),
  unbanFromGroup: (om) => om.groups.unban('acme', 'hikers', 'alice', { actorSlug: 'hana' }),
  listGroupBans: (om) => om.groups.bans('acme', 'hikers'),
  putSpaceSettings: (om) => om.groups.putSpaceSettings('acme', { eventRooms: 'group-members' }),
  getSpaceSettings: (om) => om.groups.spaceSettings('acme'),
  deleteWebhook: (om) => om.webhooks.delete('acme'),
  listWebhookDeliveries: (om) => om.webhooks.deliveries('acme', { state: 'pending', limit: 10 }),
  listAudit: (om) => om.audit('acme', { room: 'event/meetup', user: 'alice', limit: 10 }),
  listJoinRequests: (om) => om.requests.list({ tenant: 'acme', kind: 'event', slug: 'meetup' }, 'pending'),
  decideJoinRequest: (om) =>
    om.requests.decide({ tenant: 'acme', kind: 'event', slug: 'meetup' }, '@bob:elsewhere.test', { approve: true }),
  muteMember: (om) => om.mutes.add(event, { actorSlug: 'hana', userSlug: 'alice', durationSeconds: 60 }),
  unmuteMember: (om) => om.mutes.remove(event, 'alice', 'hana'),
  tenantDrift: (om) => om.drift.tenant('acme', { limit: 10, after: 'event/meetup' }),
  roomDrift: (om) => om.drift.room(event),
  health: (om) => om.health(),
  readiness: (om) => om.ready(),
  metrics: (om) => om.metrics(),
};

/** Client functions over other functions, not routes of their own. */
const HELPERS: Record<string, string> = { 'operations.wait': 'polls operations.get' };

/** The operations the client leaves out, and why: a new route belongs in CALLS or here. */
const NOT_FOR_THE_CLIENT: Record<string, string> = {
  realtime: 'a WebSocket, not a fetch: browsers open it themselves (docs/api.md, "Realtime relay")',
  codecEncode: "the Temporal UI's remote codec",
  codecDecode: "the Temporal UI's remote codec",
  appserviceTransaction: "the application service API: Synapse's to call",
  appserviceUser: "the application service API: Synapse's to call",
  appserviceRoomAlias: "the application service API: Synapse's to call",
  appservicePing: "the application service API: Synapse's to call",
  openapi: 'the spec the client is generated from',
  docsPage: 'pages for people in a browser',
  docsAsset: 'pages for people in a browser',
  root: 'pages for people in a browser',
  demoRedirect: 'pages for people in a browser',
  demoPage: 'pages for people in a browser',
  downloadMedia: 'signed URLs from events, used as they are (an <img src>), never built by a client',
};

interface Sent {
  method: string;
  path: string;
}

/** A client whose fetch records each request, and the client functions called (by their path, e.g. `rooms.get`). */
function recordingClient(): { om: Om; sent: Sent[]; called: Set<string> } {
  const sent: Sent[] = [];
  const called = new Set<string>();
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    sent.push({ method: init?.method ?? 'GET', path: url.pathname });
    return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  const om = Client.createClient({ baseUrl: 'http://api.test', token: 't', fetch });
  const watch = <T extends object>(target: T, prefix: string): T =>
    new Proxy(target, {
      get(t, key, receiver) {
        const v = Reflect.get(t, key, receiver) as unknown;
        const name = `${prefix}${String(key)}`;
        if (typeof v === 'function')
          return (...args: unknown[]) => (called.add(name), (v as (...a: unknown[]) => unknown)(...args));
        return v && typeof v === 'object' ? watch(v, `${name}.`) : v;
      },
    });
  return { om: watch(om, ''), sent, called };
}

/** Every function of the client, by path. */
function functionsOf(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'function'
      ? [`${prefix}${k}`]
      : v && typeof v === 'object'
        ? functionsOf(v as object, `${prefix}${k}.`)
        : [],
  );
}

const matches = (op: Operation, s: Sent): boolean =>
  op.method.toUpperCase() === s.method &&
  new RegExp(`^${specPath(op.path).replace(/\{[^}]+\}/g, '[^/]+')}$`).test(s.path);

/** The operations no call of CALLS reaches and NOT_FOR_THE_CLIENT does not excuse, by operationId. */
async function uncovered(operations: readonly Operation[]): Promise<string[]> {
  const covered = new Set<string>();
  for (const [id, call] of Object.entries(CALLS)) {
    const { om, sent } = recordingClient();
    await call(om);
    const hit = operations.filter((op) => sent.length === 1 && matches(op, sent[0]!)).map((op) => op.operationId);
    if (!hit.includes(id))
      throw new Error(`CALLS.${id} sent ${JSON.stringify(sent)}, which is operation(s) [${hit.join(', ')}]`);
    covered.add(id);
  }
  return operations.map((op) => op.operationId).filter((id) => !covered.has(id) && !(id in NOT_FOR_THE_CLIENT));
}

describe('the typed client covers the API', () => {
  it('every operation of the spec has a client function, or a reason not to', async () => {
    const missing = await uncovered(apiOperations());
    if (missing.length > 0)
      throw new Error(
        `operations without a client function: ${missing.join(', ')}. Add one to client/index.ts and its call to CALLS here, or say why not in NOT_FOR_THE_CLIENT`,
      );
  });

  it('names an operation that has none (the check can fail)', async () => {
    const pin: Operation = {
      method: 'post',
      path: '/v1/tenants/:tenant/rooms/:kind/:slug/pin',
      operationId: 'pinRoom',
      summary: 'A route added without a client function',
      tags: ['rooms'],
      security: 'service',
      responses: {},
    };
    expect(await uncovered([...apiOperations(), pin])).toEqual(['pinRoom']);
  });

  it('lists only operations that exist, each once', () => {
    const ids = apiOperations().map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...Object.keys(CALLS), ...Object.keys(NOT_FOR_THE_CLIENT)].filter((id) => !ids.includes(id))).toEqual([]);
    expect(Object.keys(CALLS).filter((id) => id in NOT_FOR_THE_CLIENT)).toEqual([]);
  });

  it('every client function is called above (each is a route, or a helper over one)', async () => {
    const { om, called } = recordingClient();
    for (const call of Object.values(CALLS)) await call(om);
    const all = functionsOf(Client.createClient({ baseUrl: 'http://api.test', token: 't' }));
    expect(all.filter((f) => !called.has(f) && !(f in HELPERS)).sort()).toEqual([]);
    expect(Object.keys(HELPERS).filter((f) => !all.includes(f))).toEqual([]);
  });
});
