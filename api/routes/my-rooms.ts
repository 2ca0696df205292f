/**
 * `GET /v1/tenants/{tenant}/me/rooms`: the user's room list — the tenant's rooms they are joined
 * to, each with the homeserver's unread count for them and the last message (decision 0045). The
 * same list the socket's `hello` carries, read the same way: one filtered `/sync` as the user.
 */
import { Hono, type Context } from 'hono';
import type { BlankSchema } from 'hono/types';
import { identityFor } from '../../adapters/identity/index.js';
import { MatrixUnreachableError } from '../../adapters/matrix/errors.js';
import { roomSummariesAs } from '../../adapters/matrix/room-summaries.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { FailureType } from '../../vocabulary/failures.js';
import { canonicalTenant, slugProblem, tenantProblem } from '../../vocabulary/ids.js';
import type { AppDeps } from '../context.js';
import { ApiError, type ErrorCode } from '../errors.js';
import { relayActionsFor } from '../relay/actions-for.js';
import { withSummaries } from '../relay/unread.js';
import { relayAuth, type RelayEnv } from '../relay/user-auth.js';
import { renewingReads, renewThroughWorkflow } from '../renewing-reads.js';
import { below, operation, ref, type Operation } from '../spec/operation.js';
import { assertValid } from '../spec/validation.js';
import { createUserDirectory } from '../user-directory.js';
import { sender } from './room-access.js';

export const MY_ROOMS_PREFIX = '/v1/tenants/:tenant/me';

const ops = {
  list: operation({
    security: 'relay',
    tags: ['messages'],
    method: 'get',
    path: `${MY_ROOMS_PREFIX}/rooms`,
    operationId: 'myRooms',
    summary: "The user's rooms with their unread counts and last messages, most recently active first",
    query: [
      {
        name: 'userSlug',
        description: 'The user to list for (service JWT only).',
        schema: { type: 'string', maxLength: 100 },
      },
    ],
    responses: { 200: { description: 'The room list.', json: ref('RoomList') } },
    errors: ['M_INVALID_PARAM', 'OM_USER_NOT_MANAGED', 'OM_USER_RENAMED', 'OM_UNAVAILABLE', 'OM_UPSTREAM_FAILED'],
  }),
};
export const myRoomsOperations: Operation[] = Object.values(ops);

/** What acting as the user met, as the caller is told: the homeserver away is 503, a refusal 502. */
function upstream(err: unknown): never {
  if (err instanceof MatrixUnreachableError)
    throw new ApiError('OM_UNAVAILABLE', 'the homeserver is unreachable; retry later');
  const type = (err as { type?: string } | undefined)?.type;
  if (type === FailureType.UserNotManaged)
    throw new ApiError('OM_USER_NOT_MANAGED', 'the service cannot act as this user: only their own client can');
  const away: string[] = [FailureType.Unavailable, FailureType.ServerError, FailureType.RateLimited];
  const errcode: ErrorCode = type && away.includes(type) ? 'OM_UNAVAILABLE' : 'OM_UPSTREAM_FAILED';
  throw new ApiError(errcode, `the homeserver could not list the rooms: ${(err as Error).message ?? String(err)}`);
}

export function myRoomsRoutes(deps: AppDeps) {
  const directory = createUserDirectory(deps.config, deps.db);
  const { actions, homeserver } = relayActionsFor(deps);
  const cipher = new TokenCipher(deps.config.tokens.keys, deps.config.tokens.activeKeyId);
  // A refused token (admin mode) is renewed by the user's re-auth workflow and the list read again.
  const identity = renewingReads(
    identityFor(deps.config, createUserStore(deps.db, cipher)).identity,
    renewThroughWorkflow(deps.temporal, deps.config),
  );
  return new Hono<RelayEnv, BlankSchema, typeof MY_ROOMS_PREFIX>().get(
    below(MY_ROOMS_PREFIX, ops.list),
    relayAuth(deps.config, directory),
    async (c: Context<RelayEnv>) => {
      const tenant = canonicalTenant(c.req.param('tenant') ?? '');
      assertValid(tenantProblem(tenant));
      const requested = c.req.query('userSlug');
      if (requested !== undefined) assertValid(slugProblem(requested, 'userSlug'));
      const who = sender(c, tenant, requested);
      const actor = c.get('actor');
      const user = actor.kind === 'user' ? actor.user : await directory.resolve(tenant, who.userSlug);
      if (!user.canActAs)
        throw new ApiError(
          'OM_USER_NOT_MANAGED',
          `the service cannot act as ${user.userId} (${who.userSlug}): only their own Matrix client can list their rooms`,
        );
      const among = () => directory.memberRooms(tenant, who.userSlug);
      const [joined, summaries] = await Promise.all([
        homeserver.joinedRooms(user.userId, among).catch(upstream),
        roomSummariesAs(identity, deps.config.matrix.homeserverUrl, {
          tenant,
          slug: who.userSlug,
          userId: user.userId,
        }).catch(upstream),
      ]);
      const rooms = await actions.roomsInfo(tenant, joined);
      return c.json({ rooms: withSummaries(rooms, summaries) });
    },
  );
}
