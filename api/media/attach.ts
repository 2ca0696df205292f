/**
 * An attachment sent as a user (decision 0041): the body streamed to the content repository, a
 * thumbnail where the homeserver makes one, then the m.image / m.video / m.audio / m.file event,
 * all as the user through the identity adapter (both modes).
 */
import { createHash } from 'node:crypto';
import type { Identity } from '../../adapters/identity/types.js';
import { MatrixHttpError, MatrixUnreachableError } from '../../adapters/matrix/errors.js';
import { authorized, enc, matrixRequest, type RequestAuth } from '../../adapters/matrix/http.js';
import { downloadMedia, uploadMedia } from '../../adapters/matrix/media.js';
import type { Logger } from '../../lib/log.js';
import { sendFailureOf } from '../../starters/send-failure.js';
import { CLIENT_TXN_ID_KEY } from '../../vocabulary/contract.js';
import { ApiError, type ErrorCode } from '../errors.js';
import { parseMxc } from './signed-urls.js';
import { counted, dimensions } from './stream.js';

/** Synapse's largest pre-made thumbnail (its default `thumbnail_sizes`); larger images get one. */
const THUMBNAIL = { width: 800, height: 600, method: 'scale' } as const;
const THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024;

export type MediaMsgtype = 'm.image' | 'm.video' | 'm.audio' | 'm.file';

export function msgtypeOf(contentType: string): MediaMsgtype {
  if (contentType.startsWith('image/') && contentType !== 'image/svg+xml') return 'm.image';
  if (contentType.startsWith('video/')) return 'm.video';
  if (contentType.startsWith('audio/')) return 'm.audio';
  return 'm.file';
}

export interface MediaInfo {
  size: number;
  mimetype: string;
  w?: number;
  h?: number;
  thumbnail_url?: string;
  thumbnail_info?: { w: number; h: number; mimetype: string; size: number };
}

export interface Attachment {
  txnId: string;
  filename: string;
  contentType: string;
  contentLength: number;
  body: ReadableStream<Uint8Array>;
}

export interface Attached {
  eventId: string;
  contentUri: string;
  msgtype: MediaMsgtype;
  info: MediaInfo;
}

/**
 * The Matrix transaction id of an attachment's event: a repeat of the same client `txnId` by the
 * same user is answered by the homeserver with the event it already has (decision 0026's rule,
 * its own prefix so it never meets a text message's).
 */
export function attachmentTxnId(tenant: string, userSlug: string, txnId: string): string {
  return `om1m.${createHash('sha256').update(`media:${tenant}:${userSlug}:${txnId}`).digest('base64url')}`;
}

function upstreamError(err: unknown, what: string): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof MatrixUnreachableError)
    return new ApiError('OM_UNAVAILABLE', `${what}: the homeserver is unreachable; retry later`);
  if (err instanceof MatrixHttpError) {
    if (err.status === 413) return new ApiError('M_TOO_LARGE', `${what}: the homeserver refused the file as too large`);
    if (err.status === 429)
      return new ApiError('M_LIMIT_EXCEEDED', `${what}: the homeserver rate-limited the upload; retry later`);
    if (err.status === 403)
      return new ApiError('M_FORBIDDEN', `${what}: the homeserver refused (${err.errcode ?? err.status})`);
    return new ApiError(
      'OM_UPSTREAM_FAILED',
      `${what}: the homeserver answered ${err.status} ${err.errcode ?? ''}`.trim(),
    );
  }
  const { errcode, message } = sendFailureOf(err);
  return new ApiError(errcode as ErrorCode, message);
}

/** The credentials of one request as the user, or the refusal as an ApiError (e.g. OM_USER_NOT_MANAGED). */
async function credentials(identity: Identity, tenant: string, slug: string): Promise<RequestAuth> {
  try {
    return await identity.actAs({ tenant, slug }, (as) => Promise.resolve({ token: as.token, query: as.query }));
  } catch (err) {
    throw upstreamError(err, 'acting as the user');
  }
}

/** Synapse's scaled thumbnail, uploaded as its own media for `thumbnail_url`; null when there is none. */
async function thumbnail(
  hs: string,
  as: RequestAuth,
  mxc: string,
  log: Logger,
): Promise<(MediaInfo['thumbnail_info'] & { url: string }) | null> {
  const ref = parseMxc(mxc);
  if (!ref) return null;
  try {
    const res = await downloadMedia(hs, as, ref, { thumbnail: THUMBNAIL, signal: AbortSignal.timeout(15_000) });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const mimetype = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const size = dimensions(bytes);
    if (!size || bytes.byteLength > THUMBNAIL_MAX_BYTES || !mimetype.startsWith('image/')) return null;
    const ext = mimetype === 'image/jpeg' ? 'jpg' : mimetype.slice(6);
    const url = await uploadMedia(hs, as, bytes, {
      contentType: mimetype,
      contentLength: bytes.byteLength,
      filename: `thumbnail.${ext}`,
    });
    return { url, ...size, mimetype, size: bytes.byteLength };
  } catch (err) {
    log.warn({ err, mxc }, 'media: no thumbnail from the homeserver; the image is sent without one');
    return null;
  }
}

export async function attach(
  deps: {
    identity: Identity;
    homeserverUrl: string;
    maxBytes: number;
    log: Logger;
    /** The homeserver refused the user's own token (admin mode): renew it, so that a repeat succeeds. */
    renewToken?: () => Promise<void>;
  },
  who: { tenant: string; userSlug: string },
  roomId: string,
  file: Attachment,
): Promise<Attached> {
  const hs = deps.homeserverUrl;
  /** What the client is told; a refused token is renewed first (the bytes are gone: the client repeats). */
  const refused = async (err: unknown, what: string): Promise<ApiError> => {
    if (!(err instanceof MatrixHttpError && err.errcode === 'M_UNKNOWN_TOKEN' && deps.renewToken))
      return upstreamError(err, what);
    await deps.renewToken();
    return new ApiError(
      'OM_UNAVAILABLE',
      `${what}: the homeserver refused the user's token, now renewed: repeat the upload with the same txnId`,
    );
  };
  const as = await credentials(deps.identity, who.tenant, who.userSlug);
  const body = counted(file.body, Math.min(deps.maxBytes, file.contentLength));
  let contentUri: string;
  try {
    contentUri = await uploadMedia(hs, as, body.stream, file);
  } catch (err) {
    // The counter says so itself: how fetch wraps a body stream's error is its own business.
    if (body.overLimit()) {
      throw file.contentLength < deps.maxBytes
        ? new ApiError('M_INVALID_PARAM', `the body is longer than its Content-Length of ${file.contentLength} bytes`)
        : new ApiError('M_TOO_LARGE', `the file is larger than the limit of ${deps.maxBytes} bytes`);
    }
    throw await refused(err, 'uploading the file');
  }
  const msgtype = msgtypeOf(file.contentType);
  const info: MediaInfo = { size: body.bytes(), mimetype: file.contentType };
  if (msgtype === 'm.image') {
    const size = dimensions(body.prefix());
    if (size) Object.assign(info, size);
    if (size && (size.w > THUMBNAIL.width || size.h > THUMBNAIL.height)) {
      const t = await thumbnail(hs, as, contentUri, deps.log);
      if (t) {
        const { url, ...thumbnailInfo } = t;
        info.thumbnail_url = url;
        info.thumbnail_info = thumbnailInfo;
      }
    }
  }
  const content = {
    msgtype,
    body: file.filename,
    filename: file.filename,
    url: contentUri,
    info,
    [CLIENT_TXN_ID_KEY]: file.txnId,
  };
  const txn = attachmentTxnId(who.tenant, who.userSlug, file.txnId);
  try {
    const r = await matrixRequest<{ event_id: string }>(
      hs,
      authorized(as, {
        method: 'PUT',
        path: `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${enc(txn)}`,
        body: content,
      }),
    );
    return { eventId: r.event_id, contentUri, msgtype, info };
  } catch (err) {
    throw await refused(err, 'sending the attachment');
  }
}
