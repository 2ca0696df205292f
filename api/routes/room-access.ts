/**
 * Who a message route acts as and in which room (the user joined to it now): shared by the message
 * routes (messages.ts) and the routes that change messages (message-changes.ts).
 */
import type { Context } from 'hono';
import { roomKindMessage } from '../../vocabulary/room-rules.js';
import {
  canonicalTenant,
  isRoomKind,
  roomSlugProblem,
  slugProblem,
  tenantProblem,
  userIdProblem,
  type RoomKind,
} from '../../vocabulary/ids.js';
import { assertTenant } from '../auth.js';
import type { AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import type { RelayActions, ResolvedRoom, Sender } from '../relay/actions.js';
import type { RelayEnv } from '../relay/user-auth.js';
import { assertValid } from '../spec/validation.js';
import type { createUserDirectory } from '../user-directory.js';

/**
 * Whom the request acts as: a user JWT acts as its own user (of its own tenant only); a service
 * JWT names the user (`userSlug`) for a tenant it may act for.
 */
export function sender(c: Context<RelayEnv>, tenant: string, requested: unknown): Sender {
  const actor = c.get('actor');
  if (requested !== undefined && typeof requested !== 'string')
    throw new ApiError('M_BAD_JSON', 'field "userSlug" must be a string');
  if (actor.kind === 'user') {
    if (actor.user.tenant !== tenant)
      throw new ApiError('M_FORBIDDEN', `this user token is for tenant "${actor.user.tenant}", not "${tenant}"`);
    if (requested !== undefined && requested !== actor.user.userSlug)
      throw new ApiError('M_FORBIDDEN', 'a user token acts only as its own user');
    return { tenant, userSlug: actor.user.userSlug };
  }
  assertTenant(actor.principal, tenant);
  if (requested === undefined)
    throw new ApiError('M_BAD_JSON', 'with a service token, name the user to act as in "userSlug"');
  assertValid(slugProblem(requested, 'userSlug'));
  return { tenant, userSlug: requested };
}

/** The tenant of the request's path, checked and in canonical form. */
export function roomTenant(c: Context<RelayEnv>): string {
  const tenant = canonicalTenant(c.req.param('tenant') ?? '');
  assertValid(tenantProblem(tenant));
  const actor = c.get('actor');
  if (actor.kind === 'service') assertTenant(actor.principal, tenant);
  return tenant;
}

/** The room kind and slug of the request's path, checked. */
export function roomTarget(c: Context<RelayEnv>): { kind: RoomKind; slug: string } {
  const { kind, slug } = c.req.param() as { kind: string; slug: string };
  if (!isRoomKind(kind)) throw new ApiError('M_INVALID_PARAM', roomKindMessage(kind));
  assertValid(roomSlugProblem(kind, slug));
  return { kind, slug };
}

/** The room of the request's path and the user, who must be joined to it now. */
export function roomAccess(
  deps: Pick<AppDeps, 'config'>,
  actions: Pick<RelayActions, 'resolveJoined'>,
  directory: ReturnType<typeof createUserDirectory>,
) {
  /**
   * The room and the user, who must be joined to it now. `acting`: the request acts as the user
   * (send, typing, receipt), refused with OM_USER_NOT_MANAGED for one the service cannot act as.
   */
  return async function joinedRoom(
    c: Context<RelayEnv>,
    requested: unknown,
    acting: boolean,
  ): Promise<{ who: Sender & { userId: string }; room: ResolvedRoom }> {
    const params = c.req.param() as { tenant: string; kind: string; slug: string };
    const { kind, slug } = params;
    const tenant = canonicalTenant(params.tenant);
    assertValid(tenantProblem(tenant));
    if (!isRoomKind(kind)) throw new ApiError('M_INVALID_PARAM', roomKindMessage(kind));
    assertValid(roomSlugProblem(kind, slug));
    const who = sender(c, tenant, requested);
    const actor = c.get('actor');
    const { userPrefix, serverName } = deps.config.matrix;
    assertValid(userIdProblem(userPrefix, serverName, tenant, who.userSlug, 'userSlug'));
    const user = actor.kind === 'user' ? actor.user : await directory.resolve(tenant, who.userSlug);
    if (acting && !user.canActAs)
      throw new ApiError(
        'OM_USER_NOT_MANAGED',
        `the service cannot act as ${user.userId} (${who.userSlug}): only their own Matrix client can send, type or read for them`,
      );
    const { room, joined } = await actions.resolveJoined(tenant, { kind, slug }, user.userId);
    if (!joined) throw new ApiError('M_FORBIDDEN', `${who.userSlug} is not joined to ${kind} ${slug}`);
    return { who: { ...who, userId: user.userId }, room };
  };
}
