/**
 * Attachments' pure parts (decision 0041): the MEDIA_* configuration, signed download URLs, the
 * URLs added to media events, the byte-range reading and slicing, the upload counter, image
 * dimensions. The real upload and download are test/integration/media.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../lib/config.js';
import { mediaTypeAllowed } from '../../lib/config/media.js';
import { msgtypeOf } from '../../api/media/attach.js';
import { withMediaUrls } from '../../api/media/event-media.js';
import { grantProblem, mediaUrlSigner, parseMxc, type Grant } from '../../api/media/signed-urls.js';
import { counted, dimensions, parseRange, sliced, UploadTooLarge } from '../../api/media/stream.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';
import { png } from '../helpers/png.js';

const secret = new TextEncoder().encode('x'.repeat(40));
const mxc = { server: 'localhost', mediaId: 'AbC123' };
const NOW = 1_800_000_000_000;

/** The grant a signed URL carries, read back from it. */
function grantOf(url: string): { grant: Grant; sig: string } {
  const u = new URL(url, 'http://api.test');
  const [, , , server, mediaId] = u.pathname.split('/');
  const q = u.searchParams;
  return {
    grant: {
      mxc: { server: server!, mediaId: mediaId! },
      roomId: q.get('room')!,
      userId: q.get('user')!,
      expires: Number(q.get('exp')),
    },
    sig: q.get('sig')!,
  };
}

describe('MEDIA_* configuration', () => {
  it('defaults: off without a secret, 10 MiB, 10 minutes, common types and never HTML', () => {
    const c = loadConfig(MINIMAL_ENV).media;
    expect(c.urlSecret).toBeNull();
    expect([c.maxBytes, c.urlTtlSeconds]).toEqual([10_485_760, 600]);
    expect(mediaTypeAllowed(c.allowedTypes, 'image/png')).toBe(true);
    expect(mediaTypeAllowed(c.allowedTypes, 'text/html')).toBe(false);
    expect(mediaTypeAllowed(c.allowedTypes, 'image/svg+xml')).toBe(false);
  });

  it('reads the variables, wildcards included, and names a bad value', () => {
    const c = loadConfig({
      ...MINIMAL_ENV,
      MEDIA_URL_SECRET: 'y'.repeat(32),
      MEDIA_MAX_BYTES: '100',
      MEDIA_ALLOWED_TYPES: 'image/*, Application/PDF',
    }).media;
    expect(c.urlSecret).not.toBeNull();
    expect(c.maxBytes).toBe(100);
    expect(['image/avif', 'application/pdf', 'video/mp4'].map((t) => mediaTypeAllowed(c.allowedTypes, t))).toEqual([
      true,
      true,
      false,
    ]);
    expect(() => loadConfig({ ...MINIMAL_ENV, MEDIA_URL_SECRET: 'short' })).toThrow(
      /MEDIA_URL_SECRET must be at least 32 bytes/,
    );
    expect(() => loadConfig({ ...MINIMAL_ENV, MEDIA_ALLOWED_TYPES: 'images' })).toThrow(
      /MEDIA_ALLOWED_TYPES lists "images"/,
    );
    expect(() => loadConfig({ ...MINIMAL_ENV, MEDIA_URL_TTL_SECONDS: '0' })).toThrow(
      /MEDIA_URL_TTL_SECONDS must be between/,
    );
  });
});

describe('signed download URLs', () => {
  const signer = mediaUrlSigner(secret, 600, () => NOW);

  it('a URL signed now holds until it expires', () => {
    const { grant, sig } = grantOf(signer.url(mxc, '!room:localhost', '@om_a:localhost'));
    expect(grant).toEqual({ mxc, roomId: '!room:localhost', userId: '@om_a:localhost', expires: NOW / 1000 + 600 });
    expect(grantProblem(secret, grant, sig, NOW)).toBeNull();
    expect(grantProblem(secret, grant, sig, NOW + 600_000)).toMatch(/has expired/);
  });

  it('is refused when any signed part is changed, or the key differs', () => {
    const { grant, sig } = grantOf(signer.url(mxc, '!room:localhost', '@om_a:localhost'));
    const forged: Grant[] = [
      { ...grant, userId: '@om_b:localhost' },
      { ...grant, roomId: '!other:localhost' },
      { ...grant, expires: grant.expires + 3600 },
      { ...grant, mxc: { ...mxc, mediaId: 'Other' } },
    ];
    for (const g of forged) expect(grantProblem(secret, g, sig, NOW)).toMatch(/signature does not match/);
    expect(grantProblem(new TextEncoder().encode('z'.repeat(40)), grant, sig, NOW)).toMatch(/signature/);
    expect(grantProblem(secret, grant, `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`, NOW)).toMatch(
      /signature/,
    );
    expect(grantProblem(secret, grant, 'short', NOW)).toMatch(/signature/);
  });

  it('reads only well-formed mxc URIs', () => {
    expect(parseMxc('mxc://localhost:8448/abc_-1')).toEqual({ server: 'localhost:8448', mediaId: 'abc_-1' });
    for (const bad of ['http://x/y', 'mxc://x/y/z', 'mxc://x/../y', 'mxc:///y', 42, undefined])
      expect(parseMxc(bad)).toBeNull();
  });
});

describe('media URLs on events', () => {
  const signer = mediaUrlSigner(secret, 600, () => NOW);
  const image = {
    type: 'm.room.message',
    content: {
      msgtype: 'm.image',
      body: 'a.png',
      url: 'mxc://localhost/Img',
      info: { thumbnail_url: 'mxc://localhost/Thumb' },
    },
  };

  it('adds url and thumbnailUrl signed for the user, leaving the event itself unchanged', () => {
    const shown = withMediaUrls(image, '!r:localhost', '@om_a:localhost', signer) as typeof image & {
      media: { url: string; thumbnailUrl: string };
    };
    expect(grantOf(shown.media.url).grant).toMatchObject({
      mxc: { mediaId: 'Img' },
      userId: '@om_a:localhost',
      roomId: '!r:localhost',
    });
    expect(grantOf(shown.media.thumbnailUrl).grant.mxc.mediaId).toBe('Thumb');
    expect(image).not.toHaveProperty('media');
  });

  it('leaves text, encrypted files and odd urls alone (the same object)', () => {
    const events = [
      { type: 'm.room.message', content: { msgtype: 'm.text', body: 'hi', url: 'mxc://localhost/X' } },
      { type: 'm.room.message', content: { msgtype: 'm.file', file: { url: 'mxc://localhost/E' } } },
      { type: 'm.room.message', content: { msgtype: 'm.image', url: 'https://evil.example/x.png' } },
      { type: 'm.room.member', content: { membership: 'join' } },
    ];
    for (const e of events) expect(withMediaUrls(e, '!r:localhost', '@om_a:localhost', signer)).toBe(e);
  });
});

describe('byte ranges', () => {
  it.each([
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=10-', { start: 10, end: 99 }],
    ['bytes=-5', { start: 95, end: 99 }],
    ['bytes=90-200', { start: 90, end: 99 }],
    ['bytes=-500', { start: 0, end: 99 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=5-1', null],
    ['bytes=0-1,5-6', null],
    ['items=0-1', null],
    [undefined, null],
  ])('%s of 100 bytes → %j', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });

  it('slices a stream across chunk boundaries', async () => {
    const chunks = [Buffer.from('0123'), Buffer.from('4567'), Buffer.from('89ab')];
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        chunks.forEach((x) => c.enqueue(x));
        c.close();
      },
    });
    const out = Buffer.from(await new Response(sliced(source, { start: 3, end: 9 })).arrayBuffer());
    expect(out.toString()).toBe('3456789');
  });
});

describe('uploads in passing', () => {
  const streamOf = (parts: Buffer[]): ReadableStream<Uint8Array> =>
    new ReadableStream({
      start(c) {
        parts.forEach((p) => c.enqueue(p));
        c.close();
      },
    });

  it('counts the bytes and keeps the first ones for the dimensions', async () => {
    const file = png(1200, 900);
    const c = counted(streamOf([file.subarray(0, 10), file.subarray(10)]), file.length);
    await new Response(c.stream).arrayBuffer();
    expect(c.bytes()).toBe(file.length);
    expect(dimensions(c.prefix())).toEqual({ w: 1200, h: 900 });
    expect(dimensions(Buffer.from('not an image'))).toBeNull();
  });

  it('errors as soon as the stream passes the limit', async () => {
    const c = counted(streamOf([Buffer.alloc(60), Buffer.alloc(60)]), 100);
    expect(c.overLimit()).toBe(false);
    await expect(new Response(c.stream).arrayBuffer()).rejects.toBeInstanceOf(UploadTooLarge);
    expect(c.overLimit()).toBe(true);
  });

  it('names the msgtype by the media type', () => {
    expect(['image/png', 'image/svg+xml', 'video/mp4', 'audio/ogg', 'application/pdf'].map(msgtypeOf)).toEqual([
      'm.image',
      'm.file',
      'm.video',
      'm.audio',
      'm.file',
    ]);
  });
});
