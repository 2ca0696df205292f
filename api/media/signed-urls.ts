/**
 * Signed download URLs (decision 0041): an `<img src>` cannot send a token, so the API hands each
 * user, for each media event it shows them, a URL that names the media, the room it was sent in,
 * the user and an expiry, signed with HMAC-SHA256 (`MEDIA_URL_SECRET`). The download route checks
 * all four, then that the user is joined to the room now.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Where the download route is mounted; a URL is this path plus its query. */
export const MEDIA_DOWNLOAD_PREFIX = '/v1/media';

const SERVER_NAME = /^[A-Za-z0-9.-]{1,255}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;
const MEDIA_ID = /^[A-Za-z0-9_-]{1,255}$/;

export interface MxcParts {
  server: string;
  mediaId: string;
}

/** `mxc://server/id` split, or null when it is not one (a client-written event may hold anything). */
export function parseMxc(uri: unknown): MxcParts | null {
  if (typeof uri !== 'string' || !uri.startsWith('mxc://')) return null;
  const [server = '', mediaId = '', ...rest] = uri.slice(6).split('/');
  if (rest.length > 0 || !SERVER_NAME.test(server) || !MEDIA_ID.test(mediaId)) return null;
  return { server, mediaId };
}

export function isMediaPart(server: string, mediaId: string): boolean {
  return SERVER_NAME.test(server) && MEDIA_ID.test(mediaId);
}

export interface Grant {
  mxc: MxcParts;
  roomId: string;
  userId: string;
  /** Unix seconds. */
  expires: number;
}

function signature(secret: Uint8Array, g: Grant): Buffer {
  const text = ['om-media-v1', `mxc://${g.mxc.server}/${g.mxc.mediaId}`, g.roomId, g.userId, String(g.expires)].join(
    '\n',
  );
  return createHmac('sha256', secret).update(text).digest();
}

export interface MediaUrlSigner {
  /** The download URL (relative to the API's base URL) for this user, good for the configured lifetime. */
  url(mxc: MxcParts, roomId: string, userId: string): string;
}

export function mediaUrlSigner(secret: Uint8Array, ttlSeconds: number, now: () => number = Date.now): MediaUrlSigner {
  return {
    url(mxc, roomId, userId) {
      const expires = Math.floor(now() / 1000) + ttlSeconds;
      const sig = signature(secret, { mxc, roomId, userId, expires }).toString('base64url');
      const q = new URLSearchParams({ room: roomId, user: userId, exp: String(expires), sig });
      return `${MEDIA_DOWNLOAD_PREFIX}/${encodeURIComponent(mxc.server)}/${encodeURIComponent(mxc.mediaId)}?${q}`;
    },
  };
}

/** Why a signed URL is refused, or null when its signature and expiry hold (membership is the route's check). */
export function grantProblem(secret: Uint8Array, g: Grant, sig: string, nowMs: number = Date.now()): string | null {
  const given = /^[A-Za-z0-9_-]{43}$/.test(sig) ? Buffer.from(sig, 'base64url') : null;
  if (!given || given.length !== 32 || !timingSafeEqual(given, signature(secret, g)))
    return 'the download URL is not valid (its signature does not match): ask for the event again';
  if (g.expires * 1000 <= nowMs) return 'the download URL has expired: ask for the event again for a fresh one';
  return null;
}
