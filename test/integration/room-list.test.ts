/**
 * The room list and its unread counts (decision 0045), on the real stack in both identity modes
 * (jest.appservice.config.js): `GET …/me/rooms` and the socket's `hello` list the user's rooms
 * with their unread count, the last message and its time; a message from another user raises the
 * count on two sockets of the reader at once, and a read receipt (the socket's `read` frame)
 * clears it on both.
 *
 * The count is compared with the homeserver's, read independently: in admin mode the count Synapse
 * keeps for the user (a `/sync` as the user, as their own client would make it:
 * `unread_notifications.notification_count`); in appservice mode, where Synapse counts nothing
 * for the appservice's exclusive namespace (asserted: 0), the messages from others after the
 * user's read receipt — the room's history read as the service bot (`/messages`), the receipt
 * read from a receipts-only `/sync` as the user.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { authorized, matrixRequest } from '../../adapters/matrix/http.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { asPlatformUser } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, RelayClient, sayAsBob, startApi, userToken, type Frame } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('roomlist');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('list');
const url = `http://127.0.0.1:${stackEnv().API_PORT}`;
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
const rooms: Record<string, string> = {};
const open: RelayClient[] = [];

interface Listed {
  roomId: string;
  kind: string;
  slug: string;
  unread: number | null;
  highlights: number | null;
  unreadCapped: boolean | null;
  lastMessage: { eventId: string; sender: string; ts: number; encrypted: boolean; body?: string } | null;
}

let syncs = 0;
/** What Synapse itself says for alice: a /sync made as alice, as her own client would make it. */
async function synapseSays(): Promise<
  Map<string, { count: number; last: { event_id: string; origin_server_ts: number } }>
> {
  const as = await asPlatformUser(config, api.db, tenant, 'alice');
  // Unfiltered timeline (any last event): every joined room is in the answer.
  const filter = { room: { timeline: { limit: 1 }, state: { types: [] } } };
  const r = await matrixRequest<{
    rooms: {
      join: Record<
        string,
        {
          unread_notifications: { notification_count: number };
          timeline: { events: { event_id: string; origin_server_ts: number }[] };
        }
      >;
    };
  }>(
    config.matrix.homeserverUrl,
    authorized(as, {
      method: 'GET',
      path: '/_matrix/client/v3/sync',
      // Synapse caches a /sync answer for 2 minutes under a key that includes the timeout (ignored
      // without `since`): a fresh one per call, or this would read the first answer again.
      query: { filter: JSON.stringify(filter), timeout: String(++syncs) },
    }),
  );
  return new Map(
    Object.entries(r.rooms.join).map(([id, room]) => [
      id,
      { count: room.unread_notifications.notification_count, last: room.timeline.events.at(-1)! },
    ]),
  );
}

const appservice = config.matrix.identityMode === 'appservice';
let aliceId: string;

/** alice's read receipt in a room, as Synapse gives it: a receipts-only /sync as alice. */
async function receiptOfAlice(roomId: string): Promise<string | null> {
  const as = await asPlatformUser(config, api.db, tenant, 'alice');
  const filter = {
    room: { rooms: [roomId], timeline: { limit: 0 }, state: { types: [] }, ephemeral: { types: ['m.receipt'] } },
  };
  const r = await matrixRequest<{
    rooms?: {
      join?: Record<
        string,
        { ephemeral?: { events?: { content: Record<string, Record<string, Record<string, unknown>>> }[] } }
      >;
    };
  }>(
    config.matrix.homeserverUrl,
    authorized(as, {
      method: 'GET',
      path: '/_matrix/client/v3/sync',
      query: { filter: JSON.stringify(filter), timeout: String(++syncs) },
    }),
  );
  for (const e of r.rooms?.join?.[roomId]?.ephemeral?.events ?? [])
    for (const [eventId, types] of Object.entries(e.content)) if (types['m.read']?.[aliceId]) return eventId;
  return null;
}

/** The messages from others after alice's receipt (all of them without one), walking the room's history back as the bot. */
async function unreadAfterReceipt(roomId: string): Promise<number> {
  const receipt = await receiptOfAlice(roomId);
  const page = await matrixRequest<{
    chunk: {
      type: string;
      event_id: string;
      sender: string;
      content: { 'm.relates_to'?: { rel_type?: string } };
      unsigned?: { redacted_because?: unknown };
    }[];
  }>(config.matrix.homeserverUrl, {
    method: 'GET',
    path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`,
    token: config.matrix.asToken,
    query: { dir: 'b', limit: '200' },
  });
  let count = 0;
  for (const e of page.chunk) {
    if (e.event_id === receipt) break;
    const edit = e.content['m.relates_to']?.rel_type === 'm.replace';
    if (e.type === 'm.room.message' && e.sender !== aliceId && !e.unsigned?.redacted_because && !edit) count++;
  }
  return count;
}

/** The unread count of alice in a room as the homeserver's data says, read independently of the service. */
async function homeserverCount(roomId: string): Promise<number> {
  const synapse = (await synapseSays()).get(roomId)?.count ?? 0;
  if (!appservice) return synapse;
  // The gap this mode's count fills: Synapse counts nothing for the exclusive namespace.
  expect(synapse).toBe(0);
  return unreadAfterReceipt(roomId);
}

async function listOverHttp(): Promise<Listed[]> {
  const res = await fetch(`${url}/v1/tenants/${tenant}/me/rooms`, {
    headers: { authorization: `Bearer ${await userToken(config, tenant, 'alice')}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { rooms: Listed[] }).rooms;
}

async function live(slug: string): Promise<RelayClient> {
  const c = await RelayClient.connect(url, await userToken(config, tenant, slug));
  open.push(c);
  await c.waitFor((f) => f.type === 'live');
  return c;
}

const unreadOf = (c: RelayClient, roomId: string, count: number, from: number): Promise<Frame> =>
  c.waitFor((f) => f.type === 'unread' && (f.room as { id: string }).id === roomId && f.unread === count, 30_000, from);

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue);
  api = await createTestApi(config);
  rooms.talk = await eventRoomWith(api, tenant, 'talk', ['alice', 'bob']);
  rooms.quiet = await eventRoomWith(api, tenant, 'quiet', ['alice', 'bob']);
  rooms.elsewhere = await eventRoomWith(api, tenant, 'elsewhere', ['bob']);
  const alice = await api.db.query<{ user_id: string }>(
    'SELECT user_id FROM matrix_users WHERE tenant = $1 AND slug = $2',
    [tenant, 'alice'],
  );
  aliceId = alice.rows[0]!.user_id;
}, 240_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

describe("the user's room list", () => {
  it("lists over HTTP the user's rooms with Synapse's count for them, the last message and its time", async () => {
    await sayAsBob(api, tenant, 'talk', 'first');
    const last = await sayAsBob(api, tenant, 'talk', 'second');
    const list = await listOverHttp();
    // Only the rooms alice is in; the most recently active first.
    expect(list.map((r) => r.slug)).toEqual(['talk', 'quiet']);
    const synapse = await synapseSays();
    const talk = list[0]!;
    // Two messages from bob unread (Synapse may count alice's invite too: its count is the truth).
    expect(talk.unread).toBe(await homeserverCount(rooms.talk!));
    expect(talk.unread).toBeGreaterThanOrEqual(2);
    expect(talk.unreadCapped).toBe(false);
    expect(talk.lastMessage).toMatchObject({
      eventId: last,
      body: 'second',
      encrypted: false,
      sender: expect.stringContaining('_bob:'),
    });
    expect(talk.lastMessage!.eventId).toBe(synapse.get(rooms.talk!)!.last.event_id);
    expect(talk.lastMessage!.ts).toBe(synapse.get(rooms.talk!)!.last.origin_server_ts);
    // No message yet (its last event is a membership): nothing unread, no last message.
    expect(await homeserverCount(rooms.quiet!)).toBe(0);
    expect(list[1]).toMatchObject({ slug: 'quiet', unread: 0, lastMessage: null });
    expect(synapse.has(rooms.elsewhere!)).toBe(false);
  });

  it('gives the same list in hello; a message raises the count on both sockets of the reader, a read clears it on both', async () => {
    const [tab1, tab2] = [await live('alice'), await live('alice')];
    for (const tab of [tab1, tab2]) {
      const hello = tab.frames.find((f) => f.type === 'hello')!;
      expect(hello.rooms).toEqual(await listOverHttp());
    }
    const before = await homeserverCount(rooms.talk!);
    expect(before).toBeGreaterThanOrEqual(2);
    const [from1, from2] = [tab1.frames.length, tab2.frames.length];
    const third = await sayAsBob(api, tenant, 'talk', 'third');
    const [up1, up2] = await Promise.all([
      unreadOf(tab1, rooms.talk!, before + 1, from1),
      unreadOf(tab2, rooms.talk!, before + 1, from2),
    ]);
    for (const up of [up1, up2])
      expect(up).toMatchObject({
        room: { id: rooms.talk, kind: 'event', slug: 'talk' },
        lastMessage: { eventId: third, body: 'third' },
      });
    expect(await homeserverCount(rooms.talk!)).toBe(before + 1);

    // alice reads in the first tab: both tabs are told the room has nothing unread.
    const [at1, at2] = [tab1.frames.length, tab2.frames.length];
    tab1.send({ type: 'read', roomId: rooms.talk, eventId: third });
    await Promise.all([unreadOf(tab1, rooms.talk!, 0, at1), unreadOf(tab2, rooms.talk!, 0, at2)]);
    expect(await homeserverCount(rooms.talk!)).toBe(0);
    expect((await listOverHttp()).find((r) => r.slug === 'talk')).toMatchObject({
      unread: 0,
      lastMessage: { eventId: third },
    });
  }, 60_000);

  it('says nothing of a room the user is not in, and refuses another tenant', async () => {
    const before = open[0]!.frames.length;
    await sayAsBob(api, tenant, 'elsewhere', 'not for alice');
    // The next message in a room of hers shows up; the one in "elsewhere" never did.
    await sayAsBob(api, tenant, 'quiet', 'hello quiet');
    await unreadOf(open[0]!, rooms.quiet!, 1, before);
    expect(await homeserverCount(rooms.quiet!)).toBe(1);
    expect(
      open[0]!.frames
        .slice(before)
        .some((f) => f.type === 'unread' && (f.room as { id: string }).id === rooms.elsewhere),
    ).toBe(false);
    const res = await fetch(`${url}/v1/tenants/other-${tenant}/me/rooms`, {
      headers: { authorization: `Bearer ${await userToken(config, tenant, 'alice')}` },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ errcode: 'M_FORBIDDEN' });
  }, 60_000);

  it("follows the homeserver's data through an edit, a redaction and the user's own message, alike in both modes", async () => {
    const c = open[0]!;
    const bob = await asPlatformUser(config, api.db, tenant, 'bob');
    const put = (path: string, body: unknown) =>
      matrixRequest<{ event_id: string }>(config.matrix.homeserverUrl, authorized(bob, { method: 'PUT', path, body }));
    const room = encodeURIComponent(rooms.quiet!);
    // Moves the room's data as `act` does, then waits for the frame with the count read independently.
    const step = async (act: () => Promise<unknown>): Promise<number> => {
      const from = c.frames.length;
      await act();
      const expected = await homeserverCount(rooms.quiet!);
      await unreadOf(c, rooms.quiet!, expected, from);
      return expected;
    };
    const target = await sayAsBob(api, tenant, 'quiet', 'to be edited');
    const n = await step(() =>
      put(`/_matrix/client/v3/rooms/${room}/send/m.room.message/edit-${Date.now()}`, {
        msgtype: 'm.text',
        body: '* edited',
        'm.new_content': { msgtype: 'm.text', body: 'edited' },
        'm.relates_to': { rel_type: 'm.replace', event_id: target },
      }),
    );
    // Both modes agree (Synapse's count in admin mode): "hello quiet" and the edited one; the edit is not a message of its own.
    expect(n).toBe(2);
    const after = await step(() =>
      put(`/_matrix/client/v3/rooms/${room}/redact/${encodeURIComponent(target)}/r-${Date.now()}`, {}),
    );
    expect(after).toBe(1);
    // alice writes in the room: her message is not unread for her, and without a receipt the rest stays unread.
    const own = await step(async () => {
      const res = await api.post(`/v1/tenants/${tenant}/rooms/event/quiet/messages`, {
        txnId: `own-${Date.now()}`,
        body: 'mine',
        userSlug: 'alice',
      });
      expect(res.status).toBe(200);
    });
    expect(own).toBe(1);
  }, 90_000);

  it("caps a count it makes at 50 and says so (appservice mode); admin mode gives Synapse's full count", async () => {
    const busy = await eventRoomWith(api, tenant, 'busy', ['alice', 'bob']);
    const room = encodeURIComponent(busy);
    const [bob, alice] = [
      await asPlatformUser(config, api.db, tenant, 'bob'),
      await asPlatformUser(config, api.db, tenant, 'alice'),
    ];
    const say = (i: number) =>
      matrixRequest<{ event_id: string }>(
        config.matrix.homeserverUrl,
        authorized(bob, {
          method: 'PUT',
          path: `/_matrix/client/v3/rooms/${room}/send/m.room.message/busy-${i}-${Date.now()}`,
          body: { msgtype: 'm.text', body: `busy ${i}` },
        }),
      );
    const first = await say(0);
    // alice reads the first; then 55 more arrive, her receipt falls out of the window of 50.
    await matrixRequest(
      config.matrix.homeserverUrl,
      authorized(alice, {
        method: 'POST',
        path: `/_matrix/client/v3/rooms/${room}/receipt/m.read/${encodeURIComponent(first.event_id)}`,
        body: {},
      }),
    );
    for (let i = 1; i <= 55; i++) await say(i);
    expect(await homeserverCount(busy)).toBe(55);
    const listed = (await listOverHttp()).find((r) => r.slug === 'busy')!;
    expect(listed.lastMessage).toMatchObject({ body: 'busy 55' });
    if (appservice) expect(listed).toMatchObject({ unread: 50, unreadCapped: true });
    else expect(listed).toMatchObject({ unread: 55, unreadCapped: false });
  }, 120_000);

  // Admin mode only: the appservice mode has no per-user token to refuse.
  (appservice ? it.skip : it)(
    "renews alice's stored token when the homeserver refuses it, for the HTTP list and for hello",
    async () => {
      const store = createUserStore(api.db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
      const refuseStored = async () => {
        const stored = (await store.getCredential(tenant, 'alice'))!;
        await matrixRequest(config.matrix.homeserverUrl, {
          method: 'POST',
          path: '/_matrix/client/v3/logout',
          token: stored.accessToken!,
          body: {},
        });
        return stored.generation;
      };
      const first = await refuseStored();
      const listed = await listOverHttp();
      expect(listed.find((r) => r.slug === 'talk')).toMatchObject({ unread: await homeserverCount(rooms.talk!) });
      expect((await store.getCredential(tenant, 'alice'))!.generation).toBe(first + 1);

      await refuseStored();
      const tab = await live('alice');
      const hello = tab.frames.find((f) => f.type === 'hello')!;
      const talk = (hello.rooms as Listed[]).find((r) => r.slug === 'talk')!;
      // Counted, not the null of a failed read.
      expect(talk.unread).toBe(await homeserverCount(rooms.talk!));
      expect((await store.getCredential(tenant, 'alice'))!.generation).toBe(first + 2);
    },
    60_000,
  );
});
