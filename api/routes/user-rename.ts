/** `POST /v1/tenants/{tenant}/users/{userSlug}/rename {newSlug}`: a platform user gets a new slug, keeping their account. */
import type { Context } from 'hono';
import { createRoomSlugStore, type RoomSlugStore } from '../../adapters/store/room-slugs.js';
import { renameUser } from '../../adapters/store/user-bindings.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { tellRoomOfRename } from '../../starters/room-notices.js';
import { slugProblem, type RoomKind } from '../../vocabulary/ids.js';
import { authorizedTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { slug } from '../spec/fields.js';
import { operation, ref } from '../spec/operation.js';
import { object } from '../spec/schema.js';
import { assertValid, readJsonObject } from '../spec/validation.js';
import { userRenamedError } from '../user-directory.js';

export const RENAME_BODY = object({ newSlug: slug("The user's new platform slug.") });

export const renameOperation = operation({
  method: 'post',
  path: '/v1/tenants/:tenant/users/:userSlug/rename',
  operationId: 'renameUser',
  summary: 'Give a platform user a new slug; they keep their Matrix account',
  description: [
    'Same Matrix account and stored token; the rooms the user is a member of follow (not DMs, which are named by',
    "their users' slugs). From then on, requests naming the old slug answer `409 OM_USER_RENAMED` with `newSlug`,",
    'and the old slug stays reserved for this user. Repeating a rename that is done changes nothing (and finishes',
    'telling the rooms, after a `503`).',
  ].join(' '),
  tags: ['users'],
  security: 'service',
  body: { schema: RENAME_BODY.json },
  responses: { 200: { description: 'Renamed (or renamed so already).', json: ref('RenamedUser') } },
  errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_USER_BINDING_CONFLICT', 'OM_USER_RENAMED', 'OM_UNAVAILABLE'],
});

/** Tells every running room workflow of the rooms, at most `timeoutMs` each; returns the rooms that could not be told. */
async function tellRooms(
  deps: AppDeps,
  tenant: string,
  rooms: { kind: RoomKind; slug: string }[],
  from: string,
  to: string,
): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    rooms.map(async (r) => {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), deps.config.api.acceptTimeoutMs);
      try {
        await deps.temporal.withAbortSignal(abort.signal, () =>
          tellRoomOfRename(deps.temporal, { tenant, ...r }, from, to),
        );
      } catch (err) {
        deps.log.warn({ err, room: `${r.kind}/${r.slug}` }, 'user rename: a room workflow was not told');
        failed.push(`${r.kind} ${r.slug}`);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return failed;
}

/** The rooms as `kind/slug` under the slugs they have now (a room entity is known by its first, decision 0031). */
async function currentSlugs(slugs: RoomSlugStore, tenant: string, rooms: { kind: RoomKind; slug: string }[]) {
  return Promise.all(
    rooms.map(async (r) => `${r.kind}/${(await slugs.find(tenant, r.kind, r.slug))?.current ?? r.slug}`),
  );
}

export function renameRoute(deps: AppDeps) {
  const cipher = new TokenCipher(deps.config.tokens.keys, deps.config.tokens.activeKeyId);
  return async (c: Context<ApiEnv>): Promise<Response> => {
    const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant')!);
    const userSlug = c.req.param('userSlug')!;
    assertValid(slugProblem(userSlug, 'userSlug'));
    const { newSlug } = RENAME_BODY.parse(await readJsonObject(c));
    const outcome = await renameUser(deps.db, cipher, tenant, userSlug, newSlug);
    if (!outcome.ok) {
      if (outcome.reason === 'unknown') throw new ApiError('M_NOT_FOUND', `no user ${userSlug} in tenant ${tenant}`);
      if (outcome.reason === 'renamed') throw userRenamedError(userSlug, outcome.newSlug);
      throw new ApiError('OM_USER_BINDING_CONFLICT', `cannot rename ${userSlug} to ${newSlug}: ${outcome.detail}`);
    }
    const failed = await tellRooms(deps, tenant, outcome.rooms, userSlug, newSlug);
    if (failed.length)
      throw new ApiError(
        'OM_UNAVAILABLE',
        `${userSlug} is renamed to ${newSlug}, but the workflows of ${failed.length} room(s) (${failed.slice(0, 5).join(', ')}) were not told: repeat the request to finish`,
      );
    return c.json({
      slug: newSlug,
      previousSlug: userSlug,
      userId: outcome.userId,
      renamed: !outcome.already,
      rooms: await currentSlugs(createRoomSlugStore(deps.db), tenant, outcome.rooms),
    });
  };
}
