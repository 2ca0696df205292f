import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import { joinAsUser } from '../../adapters/matrix/client.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import { reachableOrFail, type RoomContext } from './context.js';
import { levelsUnchanged, syncLevels } from './power-levels.js';
import type { MemberOutcome, MemberPassInput, MemberPassResult, MemberTarget, PreparedMember } from './types.js';

/** Members a pass works on at once: enough to be quick, few enough not to starve the homeserver. */
const PASS_PARALLEL = 8;

/** Kicks the user when they are joined or invited; nothing to do otherwise. */
async function removeMember(ctx: RoomContext, roomId: string, userId: string): Promise<string[]> {
  const { bot } = ctx.deps;
  const membership = await matrixCall(() => bot.membership(roomId, userId));
  if (membership !== 'join' && membership !== 'invite') return [];
  await matrixCall(() => bot.kick(roomId, userId, 'removed by the platform'));
  return [`removed ${userId}`];
}

/**
 * About to bring a provisioned user in: make sure the account is still active, as far as the
 * identity mode can tell (admin mode asks the Admin API), re-provisioning it when it is not.
 */
async function activeAccount(
  ctx: RoomContext,
  ref: RoomRef,
  t: MemberTarget,
  userId: string,
  displayName: string | undefined,
  actions: string[],
): Promise<string> {
  if (await ctx.deps.identity.accountActive(userId)) return userId;
  const renewed = await ctx.deps.gateway.provisionUser(ref.tenant, t.userSlug, displayName ?? t.userSlug);
  actions.push(`re-provisioned ${renewed}`);
  return renewed;
}

/**
 * The bot's half of getting a member in, for both the one pass and the per-member way: an account
 * the service can act as (provisioned when missing, re-provisioned when deactivated), then an invite where
 * the room is invite only. `lookFirst` reads the membership before anything else, so a member
 * already joined costs nothing more (the per-member way, used by reconciliation, where most are).
 * Otherwise a first join is assumed, and only an invite refused with 403 leads to a look: "already
 * joined" is success. What was done is pushed onto `actions` as it happens (kept on failure too).
 */
async function prepare(
  ctx: RoomContext,
  ref: RoomRef,
  roomId: string,
  t: MemberTarget,
  inviteOnly: boolean,
  lookFirst: boolean,
  actions: string[],
): Promise<PreparedMember> {
  const { bot, users, gateway, identity } = ctx.deps;
  const stored = await users.get(ref.tenant, t.userSlug);
  let userId = stored?.userId ?? ctx.userIdOf(ref.tenant, t.userSlug);
  const provisioned = identity.isProvisioned(stored);
  if (!provisioned) {
    userId = await gateway.provisionUser(ref.tenant, t.userSlug, t.displayName ?? t.userSlug);
    actions.push(`provisioned ${userId}`);
  }
  const membership = lookFirst ? await matrixCall(() => bot.membership(roomId, userId)) : null;
  if (membership === 'join') return { userId, joined: true, actions };
  if (provisioned) userId = await activeAccount(ctx, ref, t, userId, stored?.displayName ?? t.displayName, actions);
  if (!inviteOnly || membership === 'invite') return { userId, joined: false, actions };
  try {
    await matrixCall(() => bot.invite(roomId, userId));
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

/** Prepared, then joined as the user. */
async function bringIn(
  ctx: RoomContext,
  ref: RoomRef,
  roomId: string,
  t: MemberTarget,
  inviteOnly: boolean,
  actions: string[],
): Promise<void> {
  const prepared = await prepare(ctx, ref, roomId, t, inviteOnly, false, actions);
  if (prepared.joined) return;
  await ctx.deps.identity.actAs({ tenant: ref.tenant, slug: t.userSlug }, (as) =>
    joinAsUser(ctx.deps.homeserverUrl, as, roomId),
  );
  actions.push(`joined ${prepared.userId}`);
}

/**
 * One member of a pass. A refused token, or a failure a retry may cure (429, 5xx, homeserver
 * down), comes back `retry` for the per-member way; a permanent refusal comes back as the error.
 */
async function passMember(ctx: RoomContext, input: MemberPassInput, t: MemberTarget): Promise<MemberOutcome> {
  const actions: string[] = [];
  try {
    if (t.to === 'leave')
      actions.push(...(await removeMember(ctx, input.roomId, ctx.userIdOf(input.ref.tenant, t.userSlug))));
    else await bringIn(ctx, input.ref, input.roomId, t, input.inviteOnly, actions);
    return { actions };
  } catch (err) {
    const f = err instanceof ApplicationFailure ? err : null;
    if (!f || !f.nonRetryable || f.type === FailureType.UnknownToken) return { actions, retry: true };
    return { actions, error: { type: f.type ?? 'Failure', message: f.message } };
  }
}

/**
 * One pass over a batch of membership changes, in one activity (decision 0019): records the
 * desired members, brings every member in (provision, invite, join with their own token) or
 * out, then sets the power levels — reading the homeserver only where an answer needs it.
 * A member whose token was refused, or whose calls failed in a way a retry may fix, comes back
 * `retry: true`: the workflow takes them the per-member way (token renewal, retries with
 * backoff). Failures that mean "the room is gone" fail the whole pass as RoomMissing.
 */
export async function applyMembers(ctx: RoomContext, input: MemberPassInput): Promise<MemberPassResult> {
  const { ref, roomId } = input;
  const upserts: Record<string, string> = {};
  const removals: string[] = [];
  for (const t of input.targets) {
    if (t.to === 'join') upserts[t.userSlug] = input.members[t.userSlug] ?? 'member';
    else removals.push(t.userSlug);
  }
  await ctx.deps.rooms.applyMembers(ref.tenant, ref.kind, ref.slug, upserts, removals);

  const members: Record<string, MemberOutcome> = {};
  for (let i = 0; i < input.targets.length; i += PASS_PARALLEL) {
    await Promise.all(
      input.targets.slice(i, i + PASS_PARALLEL).map(async (t) => {
        members[t.userSlug] = await passMember(ctx, input, t);
      }),
    );
  }
  // A refusal may mean the room itself is gone (purged, or the bot removed): never report that
  // as a member's problem.
  if (Object.values(members).some((m) => m.error)) await reachableOrFail(ctx, ref, roomId);

  if (levelsUnchanged(ctx, input)) return { members, powerLevels: { bySlug: {}, other: [] } };
  try {
    return { members, powerLevels: await syncLevels(ctx, { ref, roomId, members: input.members, removed: removals }) };
  } catch {
    // Left to the workflow's own syncPowerLevels activity, with its retries.
    return { members, powerLevels: null };
  }
}

/** The member activities: the one pass, and the per-member way the workflow falls back to. */
export function createMemberActivities(ctx: RoomContext) {
  return {
    /** Records the desired members in PostgreSQL before the homeserver is touched (reconciliation works from it). */
    recordMembers: async (input: {
      ref: RoomRef;
      upserts: Record<string, string>;
      removals: string[];
    }): Promise<void> =>
      ctx.deps.rooms.applyMembers(input.ref.tenant, input.ref.kind, input.ref.slug, input.upserts, input.removals),
    /**
     * The bot's half of getting a member in (see `prepare`, looking first). `joined` when nothing
     * is left to do; otherwise the user joins with their own token (joinAsMember).
     */
    prepareMember: (input: {
      ref: RoomRef;
      roomId: string;
      userSlug: string;
      displayName?: string;
      inviteOnly: boolean;
    }): Promise<PreparedMember> =>
      prepare(
        ctx,
        input.ref,
        input.roomId,
        { userSlug: input.userSlug, to: 'join', displayName: input.displayName },
        input.inviteOnly,
        true,
        [],
      ),
    applyMembers: (input: MemberPassInput): Promise<MemberPassResult> => applyMembers(ctx, input),
    /** The user joins the room, acting as themselves (joining twice is fine). */
    joinAsMember: async (input: { ref: RoomRef; roomId: string; userSlug: string }): Promise<void> => {
      await ctx.deps.identity.actAs({ tenant: input.ref.tenant, slug: input.userSlug }, (as) =>
        joinAsUser(ctx.deps.homeserverUrl, as, input.roomId),
      );
    },
    /** Removes the user (by slug, or by Matrix id) from the room; nothing to do when they are not in it. */
    ensureMemberRemoved: (input: {
      ref: RoomRef;
      roomId: string;
      userSlug?: string;
      userId?: string;
    }): Promise<string[]> =>
      removeMember(ctx, input.roomId, input.userId ?? ctx.userIdOf(input.ref.tenant, input.userSlug!)),
    /** Managed users joined to or invited into the room who are not desired members (drift to repair). */
    undesiredMembers: async (input: {
      ref: RoomRef;
      roomId: string;
      members: Record<string, string>;
    }): Promise<string[]> => {
      const desired = new Set(Object.keys(input.members).map((slug) => ctx.userIdOf(input.ref.tenant, slug)));
      const all = await matrixCall(() => ctx.deps.bot.memberships(input.roomId));
      return Object.entries(all)
        .filter(
          ([id, m]) => (m === 'join' || m === 'invite') && ctx.isManaged(input.ref.tenant, id) && !desired.has(id),
        )
        .map(([id]) => id);
    },
  };
}
