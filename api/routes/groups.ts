/**
 * A group's bans (decision 0051): `PUT/DELETE /v1/tenants/{tenant}/groups/{slug}/bans/{userSlug}`
 * and the list; the tenant's space settings `PUT/GET /v1/tenants/{tenant}/settings/spaces`. A ban is
 * recorded first (rooms created later read it), then sent to the group's room and each event room.
 */
import { Hono, type Context } from 'hono';
import type { BlankSchema } from 'hono/types';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { createRoomSlugStore } from '../../adapters/store/room-slugs.js';
import { createRoomStore } from '../../adapters/store/rooms.js';
import { createSpaceStore } from '../../adapters/store/spaces.js';
import { changeRoom } from '../../starters/starters.js';
import { roomWorkflowId, slugProblem } from '../../vocabulary/ids.js';
import type { RoomChange, RoomChangeRequest, RoomRef } from '../../vocabulary/contract.js';
import { authorizedTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { originOf } from '../audit-origin.js';
import { moderatedRoom } from '../moderation.js';
import { entityOf } from '../room-slugs.js';
import { BAN_BODY, SPACE_SETTINGS_BODY } from '../space-input.js';
import { assertValid, readJsonObject, readOptionalJsonObject } from '../spec/validation.js';
import { createUserDirectory } from '../user-directory.js';
import { waitForResult } from '../wait.js';
import { groupOps } from './groups-spec.js';

export { groupOperations } from './groups-spec.js';

/** One room's answer to the group's ban or unban. */
type RoomOutcome = { kind: string; slug: string; status: 'completed' | 'running' | 'failed'; actions?: string[]; operation?: string; error?: string };

/** Sends the change to one room and waits for it as the room routes do (API_WAIT_MS); a failure is the room's outcome. */
async function tell(deps: AppDeps, ref: RoomRef, change: RoomChangeRequest): Promise<RoomOutcome> {
  const id = { kind: ref.kind, slug: ref.slug };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), deps.config.api.acceptTimeoutMs);
  try {
    const handle = await deps.temporal.withAbortSignal(abort.signal, () =>
      changeRoom(deps.temporal, deps.config, ref, change),
    );
    clearTimeout(timer);
    const outcome = await waitForResult(deps.temporal, () => handle.result(), deps.config.api.waitMs);
    if (outcome.done) return { ...id, status: 'completed', actions: outcome.value.actions };
    return { ...id, status: 'running', operation: `/v1/operations/${encodeURIComponent(roomWorkflowId(ref.tenant, ref.kind, ref.slug))}` };
  } catch (err) {
    if (abort.signal.aborted) return { ...id, status: 'failed', error: 'no worker accepted the change in time; the room applies the ban at its next change or reconciliation' };
    let cause = err as { message?: string; cause?: unknown; type?: string };
    if (err instanceof WorkflowUpdateFailedError) while (cause.cause && !cause.type) cause = cause.cause as typeof cause;
    return { ...id, status: 'failed', error: cause.message ?? String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Mounted at `/`; the paths are the operations' own. */
export function groupRoutes(deps: AppDeps) {
  const spaces = createSpaceStore(deps.db);
  const rooms = createRoomStore(deps.db);
  const directory = createUserDirectory(deps.config, deps.db);
  /** The group the path names (its entity), which must have a room. */
  async function groupOf(c: { req: { param(k: string): string } }, principal: Parameters<typeof authorizedTenant>[0]): Promise<RoomRef> {
    const tenant = authorizedTenant(principal, c.req.param('tenant'));
    const slug = c.req.param('slug');
    assertValid(slugProblem(slug));
    const group = await entityOf(createRoomSlugStore(deps.db), { tenant, kind: 'group', slug }, { claim: false });
    if (!(await rooms.get(tenant, 'group', group.slug))) throw new ApiError('M_NOT_FOUND', `no room for group ${slug}`);
    return group;
  }
  /** The ban or unban, told to the group's room and each of its event rooms that exists and is not archived. */
  async function fanOut(c: Context<ApiEnv>, group: RoomRef, change: RoomChange) {
    const targets: RoomRef[] = [];
    if ((await rooms.get(group.tenant, 'group', group.slug))?.status === 'active') targets.push(group);
    for (const e of await spaces.eventsOf(group.tenant, group.slug))
      if (e.roomId && e.status === 'active') targets.push({ tenant: group.tenant, kind: 'event', slug: e.slug });
    // Each room records its part in the audit trail, with who asked (decision 0060).
    const asked = { ...change, requestId: c.get('requestId'), origin: originOf(c) };
    const outcomes = await Promise.all(targets.map((r) => tell(deps, r, asked)));
    return { tenant: group.tenant, group: c.req.param('slug'), userSlug: c.req.param('userSlug'), banned: change.type === 'ban', rooms: outcomes };
  }
  /**
   * A moderator named by the platform acts only with a role that moderates the group (read from its
   * desired members, never a client's claim), over a member below them; none named: the platform's own call.
   */
  async function actingModerator(group: RoomRef, actorSlug: string | undefined, userSlug: string): Promise<void> {
    if (actorSlug === undefined) return;
    const record = await rooms.get(group.tenant, 'group', group.slug);
    const target = record && userSlug in record.members ? userSlug : undefined;
    await moderatedRoom(deps.config, deps.db, group, group.slug, actorSlug, target);
  }
  return new Hono<ApiEnv, BlankSchema, '/'>()
    .put(groupOps.ban.path, async (c) => {
      const userSlug = c.req.param('userSlug');
      assertValid(slugProblem(userSlug, 'userSlug'));
      const { reason, actorSlug } = BAN_BODY.parse(await readOptionalJsonObject(c));
      const group = await groupOf(c, c.get('principal'));
      await actingModerator(group, actorSlug, userSlug);
      await directory.assertCurrent(group.tenant, [userSlug]);
      await spaces.ban(group.tenant, group.slug, userSlug, reason ?? null);
      const change: RoomChange = reason === undefined ? { type: 'ban', userSlug } : { type: 'ban', userSlug, reason };
      return c.json(await fanOut(c, group, change), 200);
    })
    .delete(groupOps.unban.path, async (c) => {
      const userSlug = c.req.param('userSlug');
      assertValid(slugProblem(userSlug, 'userSlug'));
      const group = await groupOf(c, c.get('principal'));
      await actingModerator(group, c.req.query('actorSlug'), userSlug);
      await directory.assertCurrent(group.tenant, [userSlug]);
      if (!(await spaces.unban(group.tenant, group.slug, userSlug)))
        throw new ApiError('M_NOT_FOUND', `${userSlug} is not banned from group ${c.req.param('slug')}`);
      return c.json(await fanOut(c, group, { type: 'unban', userSlug }), 200);
    })
    .get(groupOps.bans.path, async (c) => {
      const group = await groupOf(c, c.get('principal'));
      const bans = (await spaces.bansOf(group.tenant, group.slug)).filter((b) => !b.lifted);
      return c.json({ bans: bans.map((b) => ({ userSlug: b.userSlug, reason: b.reason })) }, 200);
    })
    .put(groupOps.putSettings.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      const { eventRooms } = SPACE_SETTINGS_BODY.parse(await readJsonObject(c));
      await spaces.setEventRoomJoin(tenant, eventRooms);
      return c.json({ tenant, eventRooms }, 200);
    })
    .get(groupOps.getSettings.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      return c.json({ tenant, eventRooms: await spaces.eventRoomJoin(tenant) }, 200);
    });
}
