/**
 * The pieces of a group's hierarchy on the homeserver (decision 0051): a child's links both ways,
 * an event room's join rule, a group's bans in one room. Each reads before it writes, so running
 * twice changes nothing.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { EventRoomJoin } from '../../vocabulary/spaces.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { GroupBan } from '../../adapters/store/spaces.js';
import type { RoomContext } from './context.js';

const CHILD = 'm.space.child';
const PARENT = 'm.space.parent';
const isEmpty = (c: Record<string, unknown> | null): boolean => !c || Object.keys(c).length === 0;
const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The child in the space (`m.space.child` with `via`) and the space its canonical parent (`m.space.parent`). */
export async function linkChild(ctx: RoomContext, spaceId: string, childId: string, actions: string[]): Promise<void> {
  const { spaces, serverName } = ctx.deps;
  const via = [serverName];
  const child = await matrixCall(() => spaces.state(spaceId, CHILD, childId));
  if (!sameJson(child?.via, via)) {
    await matrixCall(() => spaces.setState(spaceId, CHILD, childId, { via }));
    actions.push(`${childId} made a child of ${spaceId}`);
  }
  const parent = await matrixCall(() => spaces.state(childId, PARENT, spaceId));
  if (!sameJson(parent?.via, via) || parent?.canonical !== true) {
    await matrixCall(() => spaces.setState(childId, PARENT, spaceId, { via, canonical: true }));
    actions.push(`${spaceId} made the parent of ${childId}`);
  }
}

/**
 * Every parent link of the child other than `keep` comes off, with the child link in that space
 * (an event moved to another group, or out of its group). A space the bot can no longer write to
 * keeps its child link: the child's side is what clients follow up.
 */
export async function unlinkOthers(ctx: RoomContext, childId: string, keep: string | null, actions: string[]): Promise<void> {
  const { spaces } = ctx.deps;
  const parents = await matrixCall(() => spaces.stateOf(childId, PARENT));
  for (const p of parents) {
    if (p.stateKey === keep || isEmpty(p.content)) continue;
    await matrixCall(() => spaces.setState(childId, PARENT, p.stateKey, {}));
    try {
      if (!isEmpty(await matrixCall(() => spaces.state(p.stateKey, CHILD, childId))))
        await matrixCall(() => spaces.setState(p.stateKey, CHILD, childId, {}));
    } catch (err) {
      const type = (err as ApplicationFailure).type;
      if (type !== FailureType.Forbidden && type !== FailureType.NotFound) throw err;
    }
    actions.push(`${childId} no longer a child of ${p.stateKey}`);
  }
}

/**
 * A private event room's join rule for its group: `restricted` to members of the group's space
 * when the tenant lets the group's members in, otherwise invite only. A public room is left public.
 * Returns the rule the room has.
 */
export async function eventJoinRule(
  ctx: RoomContext,
  roomId: string,
  spaceId: string | null,
  join: EventRoomJoin,
  visibility: 'public' | 'private',
  actions: string[],
): Promise<string> {
  if (visibility === 'public') return 'public';
  const { spaces } = ctx.deps;
  const want =
    spaceId && join === 'group-members'
      ? { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: spaceId }] }
      : { join_rule: 'invite' };
  const current = await matrixCall(() => spaces.state(roomId, 'm.room.join_rules'));
  if (current?.join_rule !== want.join_rule || !sameJson(current?.allow ?? undefined, (want as { allow?: unknown }).allow)) {
    await matrixCall(() => spaces.setState(roomId, 'm.room.join_rules', '', want));
    actions.push(`join rule of ${roomId} set to ${want.join_rule}`);
  }
  return want.join_rule;
}

/**
 * The group's bans in one room: every active ban in place (a member is banned, which also takes
 * them out), every lifted one lifted where the room still holds it.
 */
export async function applyBans(
  ctx: RoomContext,
  tenant: string,
  roomId: string,
  bans: GroupBan[],
  actions: string[],
): Promise<void> {
  if (bans.length === 0) return;
  const { bot, spaces } = ctx.deps;
  const ids = await ctx.userIds(tenant, bans.map((b) => b.userSlug));
  for (const b of bans) {
    const userId = ids.get(b.userSlug)!;
    const membership = await matrixCall(() => bot.membership(roomId, userId));
    if (!b.lifted && membership !== 'ban') {
      await matrixCall(() => spaces.ban(roomId, userId, b.reason ?? 'banned from the group'));
      actions.push(`banned ${userId} from ${roomId}`);
    } else if (b.lifted && membership === 'ban') {
      await matrixCall(() => spaces.unban(roomId, userId));
      actions.push(`unbanned ${userId} in ${roomId}`);
    }
  }
}
