import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import { joinAsUser } from '../../adapters/matrix/client.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import { oneAtATime } from '../../lib/one-at-a-time.js';
import { reachableOrFail, type RoomContext } from './context.js';
import { prepare, removeMember, type PassAids } from './member-prepare.js';
import { levelsUnchanged, syncLevels } from './power-levels.js';
import { undesiredMembers } from './prune.js';
import { absentMembers } from './drift.js';
import type { MemberOutcome, MemberPassInput, MemberPassResult, MemberTarget, PreparedMember } from './types.js';

/**
 * Members a pass works on at once: their reads (accounts, tokens, memberships) overlap, while their
 * membership writes to the room go one at a time (see applyMembers).
 */
const PASS_PARALLEL = 8;
/** Members without an account, from this many on, are provisioned in one users batch before the pass. */
const BULK_FROM = 2;

/**
 * The pass's joining members who have no account yet, provisioned together through a users batch
 * (decision 0035) instead of one user workflow each. Best effort: whoever the batch could not
 * provision is provisioned one at a time by the pass, as before, and fails there if it must.
 */
async function provisionInBulk(ctx: RoomContext, tenant: string, targets: readonly MemberTarget[]): Promise<void> {
  const { users, identity, gateway } = ctx.deps;
  const joining = targets.filter((t) => t.to === 'join');
  if (joining.length < BULK_FROM) return;
  const stored = await users.getMany(
    tenant,
    joining.map((t) => t.userSlug),
  );
  const missing = joining.filter((t) => !identity.isProvisioned(stored.get(t.userSlug) ?? null));
  if (missing.length < BULK_FROM) return;
  // The stored row's account (a binding, renames followed), else the one the slug derives: ctx.userIds, without its query.
  const { userPrefix, serverName } = ctx.deps;
  const idOf = (slug: string): string => stored.get(slug)?.userId ?? matrixUserId(userPrefix, serverName, tenant, slug);
  await gateway.provisionUsers(
    tenant,
    missing.map((t) => ({ slug: t.userSlug, displayName: t.displayName ?? t.userSlug, userId: idOf(t.userSlug) })),
  );
}

/**
 * The tenant's deactivated accounts, looked up once for the pass (decision 0039) instead of once
 * per member: a managed account not among them is active. Undefined (ask per member) when fewer
 * than BULK_FROM members join, or the homeserver cannot list them.
 */
async function knownActive(
  ctx: RoomContext,
  tenant: string,
  targets: readonly MemberTarget[],
): Promise<PassAids['active']> {
  if (targets.filter((t) => t.to === 'join').length < BULK_FROM) return undefined;
  const inactive = await ctx.deps.identity.inactiveWithin(`@${ctx.deps.userPrefix}_${tenant}_`);
  return inactive ? (userId) => ctx.isManaged(tenant, userId) && !inactive.has(userId) : undefined;
}

/** Prepared, then joined as the user; `pass.write` runs the invite and the join. */
async function bringIn(
  ctx: RoomContext,
  ref: RoomRef,
  roomId: string,
  t: MemberTarget,
  inviteOnly: boolean,
  actions: string[],
  pass: PassAids,
): Promise<void> {
  const { write } = pass;
  const prepared = await prepare(ctx, ref, roomId, t, inviteOnly, false, actions, pass);
  if (prepared.joined) return;
  await ctx.deps.identity.actAs({ tenant: ref.tenant, slug: t.userSlug }, (as) =>
    write(() => joinAsUser(ctx.deps.homeserverUrl, as, roomId)),
  );
  actions.push(`joined ${prepared.userId}`);
}

/**
 * One member of a pass. A refused token, or a failure a retry may cure (429, 5xx, homeserver
 * down), comes back `retry` for the per-member way; a permanent refusal comes back as the error.
 */
async function passMember(
  ctx: RoomContext,
  input: MemberPassInput,
  t: MemberTarget,
  pass: PassAids,
): Promise<MemberOutcome> {
  const actions: string[] = [];
  try {
    if (t.to === 'leave')
      actions.push(
        ...(await removeMember(ctx, input.roomId, await ctx.userIdOf(input.ref.tenant, t.userSlug), pass.write)),
      );
    else await bringIn(ctx, input.ref, input.roomId, t, input.inviteOnly, actions, pass);
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
 *
 * The pass's invites, joins and kicks go to the homeserver one at a time (decision 0039): Synapse
 * changes one room's memberships one at a time anyway, and an appservice's membership changes at
 * most 10 at a time server-wide, so an invite queued behind its own room's join there holds one of
 * those 10 while other rooms' invites wait.
 */
export async function applyMembers(ctx: RoomContext, input: MemberPassInput): Promise<MemberPassResult> {
  const { ref, roomId } = input;
  const upserts: Record<string, string> = {};
  const removals: string[] = [];
  for (const t of input.targets) {
    if (t.to === 'join') upserts[t.userSlug] = input.members[t.userSlug] ?? 'member';
    else removals.push(t.userSlug);
  }
  const { renamed, adopted } = await ctx.deps.rooms.applyMembers(ref.tenant, ref.kind, ref.slug, upserts, removals);
  await provisionInBulk(ctx, ref.tenant, input.targets);

  const members: Record<string, MemberOutcome> = {};
  const pass: PassAids = { write: oneAtATime(), active: await knownActive(ctx, ref.tenant, input.targets) };
  for (let i = 0; i < input.targets.length; i += PASS_PARALLEL) {
    await Promise.all(
      input.targets.slice(i, i + PASS_PARALLEL).map(async (t) => {
        members[t.userSlug] = await passMember(ctx, input, t, pass);
      }),
    );
  }
  // A refusal may mean the room itself is gone (purged, or the bot removed): never report that
  // as a member's problem.
  if (Object.values(members).some((m) => m.error)) await reachableOrFail(ctx, ref, roomId);

  const result = (powerLevels: MemberPassResult['powerLevels']): MemberPassResult =>
    Object.keys(renamed).length ? { members, powerLevels, renamed } : { members, powerLevels };
  if (input.deferLevels) return result(null);
  if (levelsUnchanged(ctx, input, adopted)) return result({ bySlug: {}, other: [] });
  try {
    return result(await syncLevels(ctx, { ref, roomId, members: input.members, removed: removals }));
  } catch {
    // Left to the workflow's own syncPowerLevels activity, with its retries.
    return result(null);
  }
}

/** The member activities: the one pass, and the per-member way the workflow falls back to. */
export function createMemberActivities(ctx: RoomContext) {
  return {
    /**
     * Records the desired members in PostgreSQL before the homeserver is touched (reconciliation
     * works from it). Returns the members recorded under the slug they were renamed to, old → new.
     */
    recordMembers: async (input: {
      ref: RoomRef;
      upserts: Record<string, string>;
      removals: string[];
    }): Promise<Record<string, string>> =>
      (
        await ctx.deps.rooms.applyMembers(
          input.ref.tenant,
          input.ref.kind,
          input.ref.slug,
          input.upserts,
          input.removals,
        )
      ).renamed,
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
    ensureMemberRemoved: async (input: {
      ref: RoomRef;
      roomId: string;
      userSlug?: string;
      userId?: string;
    }): Promise<string[]> =>
      removeMember(ctx, input.roomId, input.userId ?? (await ctx.userIdOf(input.ref.tenant, input.userSlug!))),
    /**
     * People joined to or invited into the room who are not desired members (drift to repair): the
     * tenant's managed accounts; with the room's `prune`, everyone the bot can remove.
     */
    undesiredMembers: (input: { ref: RoomRef; roomId: string; members: Record<string, string> }): Promise<string[]> =>
      undesiredMembers(ctx, input),
    /**
     * Of these desired members, those the room does not have (one read of its members): not joined,
     * or — for someone the service cannot act as — not joined or invited.
     */
    listedAbsent: async (input: { ref: RoomRef; roomId: string; slugs: string[] }): Promise<string[]> => {
      const [ids, all] = await Promise.all([
        ctx.userIds(input.ref.tenant, input.slugs),
        matrixCall(() => ctx.deps.bot.memberships(input.roomId)),
      ]);
      return absentMembers(ctx, ids, all);
    },
  };
}
