/**
 * Media as the download route answers it (decision 0041): the homeserver's bytes, a byte range of
 * them when asked, never user HTML inline: only images, video and audio are shown inline, the rest
 * is an attachment, and nothing may be sniffed into something else.
 */
import { parseRange, sliced } from './stream.js';

const INLINE = /^(image\/(png|jpeg|gif|webp)|video\/[a-z0-9.+-]+|audio\/[a-z0-9.+-]+)$/;

/** The homeserver's Content-Disposition with our own disposition type (its filename kept). */
function disposition(upstream: string | null, inline: boolean): string {
  const kind = inline ? 'inline' : 'attachment';
  const params = upstream?.replace(/^\s*(inline|attachment)\s*;?\s*/i, '') ?? '';
  // The homeserver's parameters are its own quoting of the upload name; anything odd is dropped.
  return params && /^[\x20-\x7e]*$/.test(params) && !/[\r\n]/.test(params) ? `${kind}; ${params}` : kind;
}

export function serveMedia(upstream: Response, rangeHeader: string | undefined, expires: number): Response {
  const type = (upstream.headers.get('content-type') ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase();
  const inline = INLINE.test(type);
  const headers = new Headers({
    'content-type': inline ? type : 'application/octet-stream',
    'content-disposition': disposition(upstream.headers.get('content-disposition'), inline),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cross-origin-resource-policy': 'cross-origin',
    'accept-ranges': 'bytes',
    'cache-control': `private, max-age=${Math.max(0, expires - Math.floor(Date.now() / 1000))}`,
  });
  const lengthRaw = upstream.headers.get('content-length');
  const size = lengthRaw && /^\d+$/.test(lengthRaw) ? Number(lengthRaw) : null;
  const body = upstream.body;
  if (size === null || !body) return new Response(body, { status: 200, headers });
  const range = parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') {
    void body.cancel();
    headers.set('content-range', `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  if (!range) {
    headers.set('content-length', String(size));
    return new Response(body, { status: 200, headers });
  }
  headers.set('content-range', `bytes ${range.start}-${range.end}/${size}`);
  headers.set('content-length', String(range.end - range.start + 1));
  return new Response(sliced(body, range), { status: 206, headers });
}
