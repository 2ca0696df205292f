/**
 * The bot's half of a membership: the account (provisioned, or checked), the invite, the kick.
 * Users the service cannot act as (adopted accounts outside its reach) only ever get the invite:
 * their own client accepts it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { StoredUser } from '../../adapters/store/users.js';
import { rightAway, type OneAtATime } from '../../lib/one-at-a-time.js';
import type { RoomContext } from './context.js';
import type { MemberTarget, PreparedMember } from './types.js';

/** Kicks the user when they are joined or invited; nothing to do otherwise. `write` runs the kick. */
export async function removeMember(
  ctx: RoomContext,
  roomId: string,
  userId: string,
  write: OneAtATime = rightAway,
): Promise<string[]> {
  const { bot } = ctx.deps;
  const membership = await matrixCall(() => bot.membership(roomId, userId));
  if (membership !== 'join' && membership !== 'invite') return [];
  await write(() => matrixCall(() => bot.kick(roomId, userId, 'removed by the platform')));
  return [`removed ${userId}`];
}

/** What the one pass lends `prepare`: its membership-write queue, and the accounts it knows are active. */
export interface PassAids {
  write: OneAtATime;
  active?: (userId: string) => boolean;
}

/**
 * About to bring a provisioned user in: make sure the account is still active, as far as the
 * identity mode can tell (admin mode asks the Admin API: its login tokens keep working for a
 * deactivated user), re-provisioning it when it is not. An adopted account is never brought back:
 * that is its owner's (or the homeserver admin's) call.
 */
async function activeAccount(
  ctx: RoomContext,
  ref: RoomRef,
  t: MemberTarget,
  stored: StoredUser,
  actions: string[],
): Promise<string> {
  const { userId } = stored;
  if (await ctx.deps.identity.accountActive(userId)) return userId;
  if (stored.adopted) {
    throw ApplicationFailure.create({
      type: FailureType.AccountMissing,
      message: `the adopted account ${userId} of ${stored.slug} is deactivated or gone; the service never creates or reactivates adopted accounts`,
      nonRetryable: true,
    });
  }
  const renewed = await ctx.deps.gateway.provisionUser(
    ref.tenant,
    t.userSlug,
    stored.displayName ?? t.displayName ?? t.userSlug,
  );
  actions.push(`re-provisioned ${renewed}`);
  return renewed;
}

/**
 * A member the service cannot act as: invited by the bot, and left to accept from their own
 * client (`joined` here means nothing is left for the workflow to do). Already joined or invited:
 * nothing to do. Reconciliation and retries (`lookFirst`) invite only someone with no membership
 * at all: one who declined or left is not invited again and again. An invite the homeserver could
 * not deliver to another server fails for good (InviteUndelivered): repeating the change tries again.
 */
async function inviteOnly(
  ctx: RoomContext,
  roomId: string,
  userId: string,
  lookFirst: boolean,
  actions: string[],
  write: OneAtATime,
): Promise<PreparedMember> {
  const { bot, serverName } = ctx.deps;
  const membership = await matrixCall(() => bot.membership(roomId, userId));
  const done = { userId, joined: true, actions };
  if (membership === 'join' || membership === 'invite' || (lookFirst && membership !== null)) return done;
  try {
    await write(() => matrixCall(() => bot.invite(roomId, userId)));
  } catch (err) {
    const f = err as ApplicationFailure;
    if (userId.endsWith(`:${serverName}`) || f.type !== FailureType.ServerError) throw err;
    throw ApplicationFailure.create({
      type: FailureType.InviteUndelivered,
      message: `the invite to ${userId} could not be delivered to their homeserver: ${f.message}`,
      nonRetryable: true,
    });
  }
  actions.push(`invited ${userId} (joins from their own client: the service cannot act as them)`);
  return done;
}

/**
 * The bot's half of getting a member in, for both the one pass and the per-member way: an account
 * the service can act as (provisioned when missing, re-provisioned when deactivated), then an invite where
 * the room is invite only. `lookFirst` reads the membership before anything else, so a member
 * already joined costs nothing more (the per-member way, used by reconciliation, where most are).
 * Otherwise a first join is assumed, and only an invite refused with 403 leads to a look: "already
 * joined" is success. What was done is pushed onto `actions` as it happens (kept on failure too).
 *
 * The one pass hands in `pass`: its room's queue for the invite (`write`), and what its one look
 * at the tenant's deactivated accounts found (`active`): a user it vouches for is not asked about
 * again (see applyMembers).
 */
export async function prepare(
  ctx: RoomContext,
  ref: RoomRef,
  roomId: string,
  t: MemberTarget,
  inviteOnlyRoom: boolean,
  lookFirst: boolean,
  actions: string[],
  pass: PassAids = { write: rightAway },
): Promise<PreparedMember> {
  const { bot, users, gateway, identity } = ctx.deps;
  const { write } = pass;
  const stored = await users.get(ref.tenant, t.userSlug);
  if (stored && !identity.canActAs(stored.userId))
    return inviteOnly(ctx, roomId, stored.userId, lookFirst, actions, write);
  let userId = stored?.userId ?? (await ctx.userIdOf(ref.tenant, t.userSlug));
  // Appservice mode can act as a deactivated account, so provisioning is not the only gate (decision 0056).
  if (await ctx.deps.offboardingHolds?.(ref.tenant, userId))
    throw ApplicationFailure.create({
      type: FailureType.UserOffboarded,
      message: `${ref.tenant}/${t.userSlug} is offboarded: the service does not bring them into rooms`,
      nonRetryable: true,
    });
  const provisioned = identity.isProvisioned(stored);
  if (!provisioned) {
    userId = await gateway.provisionUser(ref.tenant, t.userSlug, t.displayName ?? t.userSlug);
    actions.push(`provisioned ${userId}`);
  }
  const membership = lookFirst ? await matrixCall(() => bot.membership(roomId, userId)) : null;
  if (membership === 'join') return { userId, joined: true, actions };
  if (provisioned && !pass.active?.(userId)) userId = await activeAccount(ctx, ref, t, stored!, actions);
  if (!inviteOnlyRoom || membership === 'invite') return { userId, joined: false, actions };
  try {
    await write(() => matrixCall(() => bot.invite(roomId, userId)));
    actions.push(`invited ${userId}`);
  } catch (err) {
    // 403 is also what inviting a joined user answers: look before calling it a failure.
    if ((err as ApplicationFailure).type !== FailureType.Forbidden) throw err;
    const now = await matrixCall(() => bot.membership(roomId, userId));
    if (now === 'join') return { userId, joined: true, actions };
    if (now !== 'invite') throw err;
  }
  return { userId, joined: false, actions };
}
