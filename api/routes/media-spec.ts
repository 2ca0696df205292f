/** The media routes as documented (api/spec): upload and signed download (decision 0041). */
import { MEDIA_DOWNLOAD_PREFIX } from '../media/signed-urls.js';
import { operation, ref, type Operation } from '../spec/operation.js';
import type { JsonSchema } from '../spec/schema.js';

const ROOM = '/v1/tenants/:tenant/rooms/:kind/:slug';

export const mediaOps = {
  upload: operation({
    method: 'post',
    path: `${ROOM}/media`,
    operationId: 'uploadMedia',
    security: 'relay',
    tags: ['messages'],
    summary: 'Upload a file as the user and send it to the room as m.image, m.video, m.audio or m.file',
    description:
      'The body is the file itself (`fetch(url, {method: "POST", body: file})`), its type in `Content-Type`, its length in ' +
      "`Content-Length` (required: the homeserver needs it). It is streamed to the homeserver's content repository as the " +
      'user, then sent as an event with `info` (size, mimetype; width, height and a thumbnail for images). Larger than ' +
      '`MEDIA_MAX_BYTES`: 413 `M_TOO_LARGE`; a type not in `MEDIA_ALLOWED_TYPES`: 415 `M_UNSUPPORTED_MEDIA_TYPE`. ' +
      'Once per `txnId` and user: a repeat is answered with the event already sent.',
    query: [
      {
        name: 'txnId',
        required: true,
        description: 'Chosen by the client: one event per transaction id and user.',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._~-]{1,64}$' },
      },
      {
        name: 'filename',
        required: true,
        description: 'The name the file is shown with.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      },
      {
        name: 'userSlug',
        description: 'The user to act as (service JWT only).',
        schema: { type: 'string', maxLength: 100 },
      },
    ],
    body: { schema: { type: 'string', format: 'binary' }, contentType: '*/*', description: 'The file.' },
    responses: { 200: { description: 'Uploaded and sent.', json: ref('MediaSent') } },
    errors: [
      'M_INVALID_PARAM',
      'M_BAD_JSON',
      'M_NOT_FOUND',
      'M_TOO_LARGE',
      'M_UNSUPPORTED_MEDIA_TYPE',
      'M_UNRECOGNIZED',
      'OM_ROOM_RENAMED',
      'OM_USER_RENAMED',
      'OM_USER_NOT_MANAGED',
      'OM_ROOM_ENCRYPTED',
      'M_LIMIT_EXCEEDED',
      'OM_UNAVAILABLE',
      'OM_UPSTREAM_FAILED',
    ],
  }),
  download: operation({
    method: 'get',
    path: `${MEDIA_DOWNLOAD_PREFIX}/:server/:mediaId`,
    operationId: 'downloadMedia',
    security: 'public',
    tags: ['messages'],
    summary: 'Media by a signed URL from an event (`media.url`, `media.thumbnailUrl`): for `<img src>`',
    description:
      'Needs no token: the URL is signed for one user, room and expiry (`MEDIA_URL_TTL_SECONDS`). Refused (403 ' +
      '`M_FORBIDDEN`) when the signature does not match, the URL has expired, or the user is no longer joined to the ' +
      'room. `Range: bytes=…` is answered 206 with `Content-Range`. Served with `X-Content-Type-Options: nosniff`; only ' +
      'images, video and audio inline, anything else as an attachment.',
    query: [
      { name: 'room', required: true, description: 'As signed.', schema: { type: 'string' } },
      { name: 'user', required: true, description: 'As signed.', schema: { type: 'string' } },
      {
        name: 'exp',
        required: true,
        description: 'As signed (Unix seconds).',
        schema: { type: 'string', pattern: '^[0-9]{1,12}$' },
      },
      { name: 'sig', required: true, description: 'The signature.', schema: { type: 'string' } },
    ],
    responses: {
      200: { description: 'The media.', content: { 'application/octet-stream': { type: 'string', format: 'binary' } } },
      206: {
        description: 'The requested byte range.',
        content: { 'application/octet-stream': { type: 'string', format: 'binary' } },
        headers: { 'Content-Range': 'The range served, of the whole size.' },
      },
      416: { description: 'The range starts past the end (`Content-Range: bytes */size`).' },
    },
    errors: ['M_INVALID_PARAM', 'M_FORBIDDEN', 'M_NOT_FOUND', 'M_UNRECOGNIZED', 'OM_UNAVAILABLE', 'OM_UPSTREAM_FAILED'],
  }),
};
export const mediaOperations: Operation[] = Object.values(mediaOps);

const str: JsonSchema = { type: 'string' };
/** The upload's answer, beside the shared components (api/spec/openapi-components.ts). */
export const MEDIA_SCHEMAS: Record<string, JsonSchema> = {
  MediaSent: {
    type: 'object',
    properties: {
      status: { type: 'string', const: 'sent' },
      txnId: str,
      roomId: str,
      eventId: str,
      contentUri: { type: 'string', description: 'The `mxc://` URI of the file.' },
      msgtype: { type: 'string', enum: ['m.image', 'm.video', 'm.audio', 'm.file'] },
      info: {
        type: 'object',
        description: "The event's `info`: size, mimetype; w, h, thumbnail_url, thumbnail_info for images.",
      },
      media: {
        type: 'object',
        description: 'Download URLs signed for the uploader (relative to the API), as events carry them.',
        properties: { url: str, thumbnailUrl: str },
        required: ['url'],
      },
    },
    required: ['status', 'txnId', 'roomId', 'eventId', 'contentUri', 'msgtype', 'info', 'media'],
  },
};
