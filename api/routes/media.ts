/**
 * Attachments (decision 0041): `POST …/rooms/{kind}/{slug}/media` uploads the body as the user and
 * sends it as an m.image / m.video / m.audio / m.file event; `GET /v1/media/{server}/{mediaId}`
 * serves media to whoever holds a signed URL (api/media/signed-urls.ts) and is joined to its room.
 */
import { Hono, type Context } from 'hono';
import type { BlankSchema } from 'hono/types';
import { identityFor } from '../../adapters/identity/index.js';
import { MatrixHttpError, MatrixUnreachableError } from '../../adapters/matrix/errors.js';
import { downloadMedia } from '../../adapters/matrix/media.js';
import { createUserStore } from '../../adapters/store/users.js';
import { mediaTypeAllowed } from '../../lib/config/media.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { reauthUser } from '../../starters/starters.js';
import { roomKindMessage } from '../../vocabulary/room-rules.js';
import {
  canonicalTenant,
  clientTxnIdProblem,
  isRoomKind,
  roomSlugProblem,
  tenantProblem,
  userIdProblem,
} from '../../vocabulary/ids.js';
import type { AppDeps } from '../context.js';
import { actorOrigin, audited } from '../audit-origin.js';
import { ApiError } from '../errors.js';
import { attach } from '../media/attach.js';
import { signerFor, withMediaUrls } from '../media/event-media.js';
import { grantProblem, isMediaPart } from '../media/signed-urls.js';
import { serveMedia } from '../media/serve.js';
import { userRateLimit } from '../rate-limit.js';
import { relayActionsFor } from '../relay/actions-for.js';
import { relayAuth, type RelayEnv } from '../relay/user-auth.js';
import { createUserDirectory } from '../user-directory.js';
import { sender } from './room-access.js';
import { mediaOps } from './media-spec.js';

export { mediaOperations } from './media-spec.js';
/** The upload path: its body is a file, under its own size limit (api/app.ts leaves it out of the JSON one). */
export const isMediaUploadPath = (path: string): boolean =>
  /^\/v1\/tenants\/[^/]+\/rooms\/[^/]+\/[^/]+\/media$/.test(path);

// eslint-disable-next-line no-control-regex
const FILENAME_BAD = /[\u0000-\u001f\u007f/\\]/;

function filenameOf(raw: string | undefined): string {
  const name = (raw ?? '').trim();
  if (!name)
    throw new ApiError('M_INVALID_PARAM', 'query parameter "filename" is required (the name the file is shown with)');
  if (name.length > 255 || FILENAME_BAD.test(name))
    throw new ApiError(
      'M_INVALID_PARAM',
      '"filename" must be at most 255 characters, without slashes or control characters',
    );
  return name;
}

export function mediaRoutes(deps: AppDeps) {
  const { config } = deps;
  const { actions } = relayActionsFor(deps);
  const directory = createUserDirectory(config, deps.db);
  const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
  const users = createUserStore(deps.db, cipher);
  const { identity } = identityFor(config, users);
  const signer = signerFor(config);
  const auth = relayAuth(config, directory);
  const limited = userRateLimit(config.relay, () => deps.relay?.limits.refused('http_per_user'));
  const off = (): ApiError =>
    new ApiError('M_UNRECOGNIZED', 'media is not enabled on this API (MEDIA_URL_SECRET is not set)');

  /**
   * Admin mode: a token the homeserver refused is renewed as every other operation renews it (the
   * user-auth workflow, once per generation), waited for at most API_WAIT_MS. Appservice mode has
   * no per-user token to renew.
   */
  const renewal = (tenant: string, slug: string) =>
    identity.mode === 'admin'
      ? async (): Promise<void> => {
          const stored = await users.getCredential(tenant, slug);
          const renewing = reauthUser(deps.temporal, config, {
            tenant,
            slug,
            staleGeneration: stored?.generation ?? 0,
          });
          // A failed renewal is logged, not answered: the client is told to repeat either way.
          const settled = renewing.catch((err: unknown) =>
            deps.log.warn({ err, tenant, slug }, 'media: renewing a refused token failed'),
          );
          await Promise.race([settled, new Promise((r) => setTimeout(r, config.api.waitMs).unref())]);
        }
      : undefined;

  async function upload(c: Context<RelayEnv>) {
    if (!signer) throw off();
    const params = c.req.param() as { tenant: string; kind: string; slug: string };
    const tenant = canonicalTenant(params.tenant);
    const problem = tenantProblem(tenant);
    if (problem) throw new ApiError('M_INVALID_PARAM', problem);
    if (!isRoomKind(params.kind)) throw new ApiError('M_INVALID_PARAM', roomKindMessage(params.kind));
    const slugProblem = roomSlugProblem(params.kind, params.slug);
    if (slugProblem) throw new ApiError('M_INVALID_PARAM', slugProblem);
    const txnId = c.req.query('txnId') ?? '';
    const txnProblem = clientTxnIdProblem(txnId);
    if (txnProblem) throw new ApiError('M_INVALID_PARAM', txnProblem);
    const filename = filenameOf(c.req.query('filename'));
    const { maxBytes, allowedTypes } = config.media;
    const contentType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!contentType || !mediaTypeAllowed(allowedTypes, contentType))
      throw new ApiError(
        'M_UNSUPPORTED_MEDIA_TYPE',
        `files of type "${contentType.slice(0, 100) || '(none)'}" are not accepted; allowed: ${allowedTypes.join(', ')}`,
      );
    const lengthRaw = c.req.header('content-length');
    if (!lengthRaw || !/^\d{1,15}$/.test(lengthRaw))
      throw new ApiError(
        'M_INVALID_PARAM',
        'Content-Length is required: send the file itself as the body (fetch sets it for a File or Blob)',
      );
    const contentLength = Number(lengthRaw);
    if (contentLength > maxBytes)
      throw new ApiError('M_TOO_LARGE', `the file is ${contentLength} bytes; the limit is ${maxBytes} bytes`);
    if (contentLength === 0 || !c.req.raw.body) throw new ApiError('M_INVALID_PARAM', 'the file is empty');
    const who = sender(c, tenant, c.req.query('userSlug'));
    const { userPrefix, serverName } = config.matrix;
    const idProblem = userIdProblem(userPrefix, serverName, tenant, who.userSlug, 'userSlug');
    if (idProblem) throw new ApiError('M_INVALID_PARAM', idProblem);
    const actor = c.get('actor');
    const user = actor.kind === 'user' ? actor.user : await directory.resolve(tenant, who.userSlug);
    if (!user.canActAs)
      throw new ApiError(
        'OM_USER_NOT_MANAGED',
        `the service cannot act as ${user.userId} (${who.userSlug}): only their own Matrix client can send for them`,
      );
    const room = await actions.resolveRoom(tenant, { kind: params.kind, slug: params.slug });
    if (!(await actions.isJoined(user.userId, room.roomId)))
      throw new ApiError('M_FORBIDDEN', `${who.userSlug} is not joined to ${params.kind} ${params.slug}`);
    // A file sent by the service would be plaintext: never into an encrypted room (decision 0046).
    if (room.encrypted)
      throw new ApiError(
        'OM_ROOM_ENCRYPTED',
        `${params.kind} ${params.slug} is end-to-end encrypted: the service never uploads plaintext into it`,
      );
    const body = c.req.raw.body;
    const send = () =>
      attach(
        {
          identity,
          homeserverUrl: config.matrix.homeserverUrl,
          maxBytes,
          log: deps.log,
          renewToken: renewal(tenant, who.userSlug),
        },
        who,
        room.roomId,
        { txnId, filename, contentType, contentLength, body },
      );
    // Sent for the platform (a service JWT): audited with its outcome, never the file (decision 0060).
    const entry = {
      tenant,
      origin: actorOrigin(c),
      operation: 'message.send',
      room: { kind: room.kind, slug: room.entitySlug ?? room.slug, roomId: room.roomId },
      userSlug: who.userSlug,
      detail: `attachment, txnId ${txnId}`,
    };
    const sent =
      actor.kind === 'service'
        ? await audited(deps, entry, send, (s) => [`sent ${s.eventId} (${s.msgtype})`])
        : await send();
    const shown = withMediaUrls(
      { type: 'm.room.message', content: { msgtype: sent.msgtype, url: sent.contentUri, info: sent.info } },
      room.roomId,
      user.userId,
      signer,
    );
    return c.json({
      status: 'sent',
      txnId,
      roomId: room.roomId,
      ...sent,
      media: 'media' in shown ? shown.media : undefined,
    });
  }

  async function download(c: Context<RelayEnv>) {
    if (!signer || !config.media.urlSecret) throw off();
    const { server, mediaId } = c.req.param() as { server: string; mediaId: string };
    if (!isMediaPart(server, mediaId)) throw new ApiError('M_INVALID_PARAM', 'not a media id of a download URL');
    const [roomId, userId, exp, sig] = ['room', 'user', 'exp', 'sig'].map((k) => c.req.query(k) ?? '');
    if (!roomId || !userId || !/^\d{1,12}$/.test(exp!) || !sig)
      throw new ApiError('M_INVALID_PARAM', 'a download URL carries room, user, exp and sig: use the URL as given');
    const grant = { mxc: { server, mediaId }, roomId: roomId!, userId: userId!, expires: Number(exp) };
    const refused = grantProblem(config.media.urlSecret, grant, sig!);
    if (refused) throw new ApiError('M_FORBIDDEN', refused);
    if (!(await actions.isJoined(grant.userId, grant.roomId)))
      throw new ApiError('M_FORBIDDEN', 'the user of this download URL is no longer in the room the media was sent in');
    let res: Response;
    try {
      res = await downloadMedia(config.matrix.homeserverUrl, { token: config.matrix.asToken }, grant.mxc, {
        signal: c.req.raw.signal,
      });
    } catch (err) {
      if (err instanceof MatrixHttpError && err.status === 404)
        throw new ApiError('M_NOT_FOUND', 'the homeserver does not have this media');
      if (err instanceof MatrixUnreachableError)
        throw new ApiError('OM_UNAVAILABLE', 'the homeserver is unreachable; retry later');
      if (err instanceof MatrixHttpError)
        throw new ApiError('OM_UPSTREAM_FAILED', `the homeserver answered ${err.status}`);
      throw err;
    }
    return serveMedia(res, c.req.header('range'), grant.expires);
  }

  // Mounted at `/`: the upload lives below a room, the download below MEDIA_DOWNLOAD_PREFIX.
  return new Hono<RelayEnv, BlankSchema>()
    .post(mediaOps.upload.path, auth, limited, upload)
    .get(mediaOps.download.path, download);
}
