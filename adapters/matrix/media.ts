/**
 * The homeserver's content repository: uploads streamed to it as a user, downloads and thumbnails
 * read from its authenticated media endpoints (decision 0041). Bodies stream; nothing is buffered
 * whole here.
 */
import { MatrixHttpError, MatrixUnreachableError } from './errors.js';
import { enc, type RequestAuth } from './http.js';

export interface MediaRef {
  server: string;
  mediaId: string;
}

function urlOf(baseUrl: string, path: string, query: Record<string, string> = {}): URL {
  const url = new URL(baseUrl + path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url;
}

async function refusal(res: Response, method: string, path: string): Promise<MatrixHttpError> {
  let body: { errcode?: unknown; error?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = {};
  }
  return new MatrixHttpError(
    res.status,
    typeof body.errcode === 'string' ? body.errcode : undefined,
    typeof body.error === 'string' ? body.error : undefined,
    undefined,
    method,
    path,
  );
}

/**
 * `POST /_matrix/media/v3/upload` as the user: the body streamed with the length declared (the
 * homeserver requires one). Returns the `mxc://` URI. A body stream that errors (e.g. past a
 * limit) rejects with a MatrixUnreachableError.
 */
export async function uploadMedia(
  baseUrl: string,
  as: RequestAuth,
  body: ReadableStream<Uint8Array> | Uint8Array,
  file: { contentType: string; contentLength: number; filename: string },
  signal?: AbortSignal,
): Promise<string> {
  const path = '/_matrix/media/v3/upload';
  const url = urlOf(baseUrl, path, { filename: file.filename, ...as.query });
  const init: RequestInit & { duplex: 'half' } = {
    method: 'POST',
    headers: {
      authorization: `Bearer ${as.token}`,
      'content-type': file.contentType,
      'content-length': String(file.contentLength),
    },
    body,
    duplex: 'half',
    signal: signal ?? null,
  };
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    // Also what an erroring body stream ends as (the caller's counter knows why).
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new MatrixUnreachableError(`POST ${path}: homeserver unreachable (${cause})`, { cause: err });
  }
  if (!res.ok) throw await refusal(res, 'POST', path);
  const answer = (await res.json()) as { content_uri?: unknown };
  if (typeof answer.content_uri !== 'string')
    throw new MatrixHttpError(502, undefined, 'no content_uri', undefined, 'POST', path);
  return answer.content_uri;
}

/**
 * The media's bytes from `/_matrix/client/v1/media/download/…` (or a thumbnail of it), as whoever
 * `token` and `query` name. The answer streams; a refusal (404 for media the homeserver does not
 * have) is thrown as MatrixHttpError.
 */
export async function downloadMedia(
  baseUrl: string,
  as: RequestAuth,
  media: MediaRef,
  opts: { thumbnail?: { width: number; height: number; method: 'scale' | 'crop' }; signal?: AbortSignal } = {},
): Promise<Response> {
  const what = opts.thumbnail ? 'thumbnail' : 'download';
  const path = `/_matrix/client/v1/media/${what}/${enc(media.server)}/${enc(media.mediaId)}`;
  const t = opts.thumbnail;
  const query = { ...(t ? { width: String(t.width), height: String(t.height), method: t.method } : {}), ...as.query };
  let res: Response;
  try {
    res = await fetch(urlOf(baseUrl, path, query), {
      headers: { authorization: `Bearer ${as.token}` },
      signal: opts.signal ?? null,
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new MatrixUnreachableError(`GET ${path}: homeserver unreachable (${cause})`, { cause: err });
  }
  if (!res.ok) throw await refusal(res, 'GET', path);
  return res;
}
