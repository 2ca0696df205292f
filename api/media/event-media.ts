/**
 * Download URLs on media events as a user gets them (decision 0041): the history route and the
 * relay's frames add `media: { url, thumbnailUrl? }` beside the `content` of an event whose content
 * points at the content repository. Signed per user at delivery: the event log keeps the event as
 * the homeserver sent it, without any URL of ours.
 */
import type { Config } from '../../lib/config.js';
import { mediaUrlSigner, parseMxc, type MediaUrlSigner } from './signed-urls.js';

/** The msgtypes whose `url` is an attachment (m.sticker events carry one too). */
const MEDIA_MSGTYPES = new Set(['m.image', 'm.file', 'm.video', 'm.audio']);

export interface EventMedia {
  url: string;
  thumbnailUrl?: string;
}

/** The configured signer, or null when media is off (no MEDIA_URL_SECRET). */
export function signerFor(config: Pick<Config, 'media'>): MediaUrlSigner | null {
  const { urlSecret, urlTtlSeconds } = config.media;
  return urlSecret ? mediaUrlSigner(urlSecret, urlTtlSeconds) : null;
}

/**
 * `event` with `media` added for `userId`, or `event` itself (the same object) when it carries no
 * attachment: a plain message, an encrypted file, an `url` that is not an mxc URI.
 */
export function withMediaUrls<E extends Record<string, unknown>>(
  event: E,
  roomId: string,
  userId: string,
  signer: MediaUrlSigner,
): E | (E & { media: EventMedia }) {
  const content = event.content as { msgtype?: unknown; url?: unknown; info?: { thumbnail_url?: unknown } } | undefined;
  if (!content || typeof content !== 'object') return event;
  const isMedia =
    (event.type === 'm.room.message' && MEDIA_MSGTYPES.has(content.msgtype as string)) || event.type === 'm.sticker';
  const mxc = isMedia ? parseMxc(content.url) : null;
  if (!mxc) return event;
  const media: EventMedia = { url: signer.url(mxc, roomId, userId) };
  const thumb = parseMxc(content.info && typeof content.info === 'object' ? content.info.thumbnail_url : undefined);
  if (thumb) media.thumbnailUrl = signer.url(thumb, roomId, userId);
  return { ...event, media };
}
