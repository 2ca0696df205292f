/**
 * Attachments on the real stack (issue #19 part 1, decision 0041): an upload through a real API
 * process lands in Synapse's content repository as the user (read back with an authenticated media
 * request, byte for byte) and in the room as an m.image / m.file event with its info; history and
 * relay frames carry signed download URLs that serve the bytes and ranges of them, refused when
 * forged, expired or held by a user who has left the room. Runs in both identity modes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { identityFor } from '../../adapters/identity/index.js';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { asPlatformUser } from '../helpers/matrix.js';
import { createUserStore } from '../../adapters/store/users.js';
import { attach } from '../../api/media/attach.js';
import { createLogger } from '../../lib/log.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { mediaUrlSigner, parseMxc } from '../../api/media/signed-urls.js';
import { dimensions } from '../../api/media/stream.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { png } from '../helpers/png.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, RelayClient, startApi, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('media');
const MAX_BYTES = 300_000;
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('media');
const base = `http://127.0.0.1:${stackEnv().API_PORT}`;
const hs = config.matrix.homeserverUrl;
const uid = (slug: string): string => `@om_${tenant}_${slug}:${config.matrix.serverName}`;
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
const rooms: Record<string, string> = {};
const image = png(1200, 900);

interface Sent {
  status: string;
  eventId: string;
  contentUri: string;
  msgtype: string;
  info: Record<string, unknown> & { thumbnail_url?: string; thumbnail_info?: { size: number; w: number; h: number } };
  media: { url: string; thumbnailUrl?: string };
  errcode?: string;
  error?: string;
}

async function upload(
  slug: string,
  user: string,
  body: Uint8Array,
  type: string,
  q: Record<string, string> = {},
): Promise<{ status: number; body: Sent }> {
  const query = new URLSearchParams({ txnId: randomUUID(), filename: 'picture.png', ...q });
  const res = await fetch(`${base}/v1/tenants/${tenant}/rooms/event/${slug}/media?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await userToken(config, tenant, user)}`, 'content-type': type },
    body,
  });
  return { status: res.status, body: (await res.json()) as Sent };
}

/** The media's bytes as Synapse serves them to an authenticated client (the bot). */
async function fromSynapse(mxc: string, thumbnail = false): Promise<Buffer> {
  const ref = parseMxc(mxc)!;
  const what = thumbnail ? 'thumbnail' : 'download';
  const res = await fetch(`${hs}/_matrix/client/v1/media/${what}/${ref.server}/${ref.mediaId}`, {
    headers: { authorization: `Bearer ${config.matrix.asToken}` },
  });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

const event = (roomId: string, eventId: string) =>
  matrixRequest<{ type: string; sender: string; content: Record<string, unknown> }>(hs, {
    method: 'GET',
    path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`,
    token: config.matrix.asToken,
  });

/** The first media event of the room's history as `user` sees it (through the API). */
async function historyMedia(
  slug: string,
  user: string,
  msgtype: string,
): Promise<{ url: string; thumbnailUrl?: string }> {
  const res = await fetch(`${base}/v1/tenants/${tenant}/rooms/event/${slug}/messages?limit=20`, {
    headers: { authorization: `Bearer ${await userToken(config, tenant, user)}` },
  });
  expect(res.status).toBe(200);
  const page = (await res.json()) as {
    events: { content?: { msgtype?: string }; media?: { url: string; thumbnailUrl?: string } }[];
  };
  const found = page.events.find((e) => e.content?.msgtype === msgtype);
  if (!found?.media) throw new Error(`no media event in ${slug} for ${user}`);
  return found.media;
}

const get = (url: string, headers: Record<string, string> = {}) => fetch(base + url, { headers });

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue, { MEDIA_MAX_BYTES: String(MAX_BYTES) });
  api = await createTestApi(config);
  rooms.pics = await eventRoomWith(api, tenant, 'pics', ['alice', 'bob']);
  rooms.gone = await eventRoomWith(api, tenant, 'gone', ['alice', 'carol']);
}, 240_000);
afterAll(async () => {
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

describe('POST …/rooms/{kind}/{slug}/media', () => {
  let sent: Sent;

  it('puts the file in the content repository as the user and sends an m.image with its info and thumbnail', async () => {
    const bob = await RelayClient.connect(base, await userToken(config, tenant, 'bob'));
    await bob.waitFor((f) => f.type === 'live');
    const res = await upload('pics', 'alice', image, 'image/png');
    expect(res.status).toBe(200);
    sent = res.body;
    expect(sent).toMatchObject({
      status: 'sent',
      msgtype: 'm.image',
      info: { size: image.length, mimetype: 'image/png', w: 1200, h: 900 },
    });
    // The homeserver's side: the bytes in its content repository, the event in the room, as alice.
    expect((await fromSynapse(sent.contentUri)).equals(image)).toBe(true);
    const ev = await event(rooms.pics!, sent.eventId);
    expect(ev).toMatchObject({
      type: 'm.room.message',
      sender: uid('alice'),
      content: {
        msgtype: 'm.image',
        body: 'picture.png',
        url: sent.contentUri,
        info: { size: image.length, mimetype: 'image/png', w: 1200, h: 900 },
      },
    });
    // The thumbnail Synapse made, uploaded as its own media and described as clients expect.
    const info = ev.content.info as Sent['info'];
    expect(info.thumbnail_url).toMatch(/^mxc:\/\//);
    const thumb = await fromSynapse(info.thumbnail_url!);
    expect(dimensions(thumb)).toEqual({ w: 800, h: 600 });
    expect(info.thumbnail_info).toMatchObject({ w: 800, h: 600, size: thumb.length });
    // Bob's socket gets the event with URLs signed for him; the log keeps the event without them.
    const frame = await bob.waitFor((f) => f.type === 'event' && f.event?.event_id === sent.eventId);
    const media = (frame.event as { media?: { url: string; thumbnailUrl: string } }).media!;
    expect(new URL(media.url, base).searchParams.get('user')).toBe(uid('bob'));
    const served = await get(media.url);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(image)).toBe(true);
    expect((await get(media.thumbnailUrl)).status).toBe(200);
    const stored = await api.db.query<{ event: unknown }>('SELECT event FROM relay_events WHERE event_id = $1', [
      sent.eventId,
    ]);
    expect(stored.rows).toHaveLength(1);
    expect(JSON.stringify(stored.rows[0]!.event)).not.toMatch(/"media"|sig=/);
    await bob.close();
  });

  it('sends once per txnId: a repeat is answered with the same event', async () => {
    const txnId = randomUUID();
    const first = await upload('pics', 'alice', Buffer.from('first'), 'text/plain', { txnId, filename: 'a.txt' });
    const again = await upload('pics', 'alice', Buffer.from('first'), 'text/plain', { txnId, filename: 'a.txt' });
    expect(first.status).toBe(200);
    expect(first.body.msgtype).toBe('m.file');
    expect(again.body.eventId).toBe(first.body.eventId);
    expect((await event(rooms.pics!, first.body.eventId)).content).toMatchObject({
      msgtype: 'm.file',
      info: { size: 5, mimetype: 'text/plain' },
    });
  });

  it('cuts a body off as soon as it streams past its limit, before the homeserver has it all', async () => {
    const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
    const { identity } = identityFor(config, createUserStore(api.db, cipher));
    const deps = { identity, homeserverUrl: hs, maxBytes: 200_000, log: createLogger('media-test', 'silent') };
    let streamed = 0;
    const endless = (): ReadableStream<Uint8Array> =>
      new ReadableStream({
        pull(c) {
          streamed += 65_536;
          c.enqueue(new Uint8Array(65_536));
        },
      });
    const file = (contentLength: number) => ({
      txnId: randomUUID(),
      filename: 'big.pdf',
      contentType: 'application/pdf',
      contentLength,
      body: endless(),
    });
    await expect(attach(deps, { tenant, userSlug: 'alice' }, rooms.pics!, file(200_000))).rejects.toMatchObject({
      errcode: 'M_TOO_LARGE',
      message: 'the file is larger than the limit of 200000 bytes',
    });
    expect(streamed).toBeLessThan(200_000 + 5 * 65_536);
    await expect(attach(deps, { tenant, userSlug: 'alice' }, rooms.pics!, file(1_000))).rejects.toMatchObject({
      errcode: 'M_INVALID_PARAM',
      message: 'the body is longer than its Content-Length of 1000 bytes',
    });
  });

  // Admin mode only: appservice mode acts with the as_token, no per-user token to lose.
  (config.matrix.identityMode === 'admin' ? it : it.skip)(
    'renews a token the homeserver refused, and the repeat of the upload goes through',
    async () => {
      const dead = await asPlatformUser(config, api.db, tenant, 'alice');
      await matrixRequest(hs, { method: 'POST', path: '/_matrix/client/v3/logout', token: dead.token, body: {} });
      const txnId = randomUUID();
      expect(await upload('pics', 'alice', Buffer.from('after logout'), 'text/plain', { txnId })).toMatchObject({
        status: 503,
        body: { errcode: 'OM_UNAVAILABLE', error: expect.stringMatching(/refused the user's token, now renewed/) },
      });
      expect((await asPlatformUser(config, api.db, tenant, 'alice')).token).not.toBe(dead.token);
      const again = await upload('pics', 'alice', Buffer.from('after logout'), 'text/plain', { txnId });
      expect(again.status).toBe(200);
      expect((await event(rooms.pics!, again.body.eventId)).sender).toBe(uid('alice'));
    },
    60_000,
  );

  it('refuses a type not allowed (415), a file over the limit (413), and bad parameters (400), naming why', async () => {
    expect(await upload('pics', 'alice', Buffer.from('<script>alert(1)</script>'), 'text/html')).toMatchObject({
      status: 415,
      body: {
        errcode: 'M_UNSUPPORTED_MEDIA_TYPE',
        error: expect.stringMatching(/"text\/html" are not accepted; allowed: image\/png/),
      },
    });
    expect(await upload('pics', 'alice', randomBytes(MAX_BYTES + 1), 'image/png')).toMatchObject({
      status: 413,
      body: { errcode: 'M_TOO_LARGE', error: `the file is ${MAX_BYTES + 1} bytes; the limit is ${MAX_BYTES} bytes` },
    });
    expect(await upload('pics', 'alice', image, 'image/png', { filename: '../x' })).toMatchObject({
      status: 400,
      body: { errcode: 'M_INVALID_PARAM' },
    });
    expect(await upload('pics', 'alice', image, 'image/png', { txnId: 'no spaces' })).toMatchObject({ status: 400 });
    expect(await upload('gone', 'bob', image, 'image/png')).toMatchObject({
      status: 403,
      body: { error: 'bob is not joined to event gone' },
    });
  });
});

describe('signed download URLs', () => {
  it('serve the bytes, and a Range request gets 206 with the right slice', async () => {
    const { url } = await historyMedia('pics', 'bob', 'm.image');
    const whole = await get(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('x-content-type-options')).toBe('nosniff');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(image)).toBe(true);
    const part = await get(url, { range: 'bytes=100-1099' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1099/${image.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(image.subarray(100, 1100))).toBe(true);
    const tail = await get(url, { range: 'bytes=-10' });
    expect([tail.status, Buffer.from(await tail.arrayBuffer()).equals(image.subarray(-10))]).toEqual([206, true]);
    const past = await get(url, { range: `bytes=${image.length}-` });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, `bytes */${image.length}`]);
  });

  it('are refused when tampered with or expired', async () => {
    const { url } = await historyMedia('pics', 'bob', 'm.image');
    const u = new URL(url, base);
    const asAlice = new URL(u);
    asAlice.searchParams.set('user', uid('alice'));
    const badSig = new URL(u);
    const sig = u.searchParams.get('sig')!;
    badSig.searchParams.set('sig', `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`);
    for (const forged of [asAlice, badSig]) {
      const res = await get(forged.pathname + forged.search);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({
        errcode: 'M_FORBIDDEN',
        error: expect.stringMatching(/signature does not match/),
      });
    }
    const [, , , server, mediaId] = u.pathname.split('/');
    const mxc = { server: decodeURIComponent(server!), mediaId: mediaId! };
    const signedAt = (ms: number) =>
      mediaUrlSigner(config.media.urlSecret!, 60, () => ms).url(mxc, rooms.pics!, uid('bob'));
    const expired = await get(signedAt(Date.now() - 61_000));
    expect(expired.status).toBe(403);
    expect(await expired.json()).toMatchObject({ error: expect.stringMatching(/has expired/) });
    // Signed the same way a moment ago: served (the refusals above are the signature's and the clock's).
    expect((await get(signedAt(Date.now() - 30_000))).status).toBe(200);
  });

  it('are refused to a user who has left the room', async () => {
    const sent = await upload('gone', 'alice', Buffer.from('for carol'), 'text/plain', { filename: 'note.txt' });
    expect(sent.status).toBe(200);
    const { url } = await historyMedia('gone', 'carol', 'm.file');
    const before = await get(url);
    expect([before.status, await before.text()]).toEqual([200, 'for carol']);
    expect(before.headers.get('content-disposition')).toMatch(/^attachment/);
    const removed = await api.app.request(`/v1/tenants/${tenant}/rooms/event/gone/members/carol`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(removed.status).toBe(200);
    const refused = await eventually(
      async () => {
        const res = await get(url);
        return res.status === 403 ? res : null;
      },
      30_000,
      'the URL refused once carol has left',
    );
    expect(await refused.json()).toMatchObject({
      errcode: 'M_FORBIDDEN',
      error: expect.stringMatching(/no longer in the room/),
    });
  });
});
