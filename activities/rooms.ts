import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../lib/failures.js';
import { powerLevelFor, type PowerLevelTable } from '../lib/roles.js';
import { matrixUserId, roomAliasLocalpart, type RoomKind } from '../workflows/ids.js';
import type { RoomChangeResult, RoomRef, RoomSettings } from '../workflows/messages.js';
import type { WorkflowGateway } from './gateway.js';
import type { MatrixAdmin } from './matrix/admin.js';
import { joinAsUser, type MatrixBot, type PowerLevelsContent } from './matrix/client.js';
import { matrixCall } from './matrix/errors.js';
import type { RoomRecord, RoomStore } from './store/rooms.js';
import type { UserStore } from './store/users.js';
import type { UserSessions } from './user-session.js';

export interface RoomActivityDeps {
  bot: MatrixBot;
  admin: MatrixAdmin;
  rooms: RoomStore;
  users: UserStore;
  sessions: UserSessions;
  gateway: WorkflowGateway;
  homeserverUrl: string;
  userPrefix: string;
  serverName: string;
  powerLevels: PowerLevelTable;
  purgeOnArchive: boolean;
}

/** Members a pass works on at once: enough to be quick, few enough not to starve the homeserver. */
const PASS_PARALLEL = 8;
/**
 * How long a room behind our alias must stay unusable before it is taken for a husk and its alias
 * released. A creation still under way (an earlier attempt whose createRoom answer was lost, while
 * Synapse carried on) finishes well within it and is adopted, not replaced by a second room.
 */
export const HUSK_AFTER_MS = 30_000;
const HUSK_POLL_MS = 1_000;

export interface MemberTarget {
  userSlug: string;
  to: 'join' | 'leave';
  displayName?: string;
}

export interface MemberPassInput {
  ref: RoomRef;
  roomId: string;
  inviteOnly: boolean;
  /** Members to bring in or take out, each once, in the batch's final say. */
  targets: MemberTarget[];
  /** The desired members after the batch (slug → role). */
  members: Record<string, string>;
  /** The role of each target before the batch (null: not a member); a missing target means unknown. */
  previousRoles: Record<string, string | null>;
  /** The room's power levels were written to match the members before this batch, in this run. */
  powerLevelsInSync: boolean;
}

export interface MemberOutcome {
  actions: string[];
  error?: { type: string; message: string };
  /** Not finished here: the workflow takes this member the per-member way. */
  retry?: true;
}

export interface PowerLevelChanges {
  bySlug: Record<string, string[]>;
  other: string[];
}

export interface MemberPassResult {
  members: Record<string, MemberOutcome>;
  /** null: not written; the workflow runs syncPowerLevels. */
  powerLevels: PowerLevelChanges | null;
}

export interface EnsureRoomResult {
  roomId: string;
  alias: string;
  actions: string[];
}

/**
 * Room activities. Every one reads the room's real state before changing it, so running twice
 * (activities run at least once) does no harm; Matrix answers that mean "already so" are success.
 */
export function createRoomActivities(deps: RoomActivityDeps) {
  const userIdOf = (tenant: string, slug: string): string => matrixUserId(deps.userPrefix, deps.serverName, tenant, slug);
  const aliasOf = (r: RoomRef): string => `#${roomAliasLocalpart(deps.userPrefix, r.tenant, r.kind, r.slug)}:${deps.serverName}`;
  const managedPrefix = (tenant: string): string => `@${deps.userPrefix}_${tenant}_`;
  const isManaged = (tenant: string, userId: string): boolean =>
    userId.startsWith(managedPrefix(tenant)) && userId.endsWith(`:${deps.serverName}`);

  async function reachableOrFail(ref: RoomRef, roomId: string): Promise<void> {
    if (!(await matrixCall(() => deps.bot.roomIsReachable(roomId)))) {
      throw ApplicationFailure.create({
        type: FailureType.RoomMissing,
        message: `room ${roomId} of ${ref.tenant}/${ref.kind}/${ref.slug} is gone from the homeserver (or the bot was removed); not creating an empty replacement`,
        nonRetryable: true,
      });
    }
  }

  /** Kicks the user when they are joined or invited; nothing to do otherwise. */
  async function removeMember(roomId: string, userId: string): Promise<string[]> {
    const membership = await matrixCall(() => deps.bot.membership(roomId, userId));
    if (membership !== 'join' && membership !== 'invite') return [];
    await matrixCall(() => deps.bot.kick(roomId, userId, 'removed by the platform'));
    return [`removed ${userId}`];
  }

  /**
   * About to bring a user with a stored token in: make sure the account is still active.
   * Admin-login tokens keep working for a deactivated user, so no failure would ever tell us.
   */
  async function activeAccount(ref: RoomRef, userSlug: string, userId: string, displayName: string | undefined, actions: string[]): Promise<string> {
    const account = await matrixCall(() => deps.admin.getUser(userId));
    if (account && !account.deactivated) return userId;
    const renewed = await deps.gateway.provisionUser(ref.tenant, userSlug, displayName ?? userSlug);
    actions.push(`re-provisioned ${renewed}`);
    return renewed;
  }

  /**
   * Provision when needed, invite where the room is invite only, join with the user's own token.
   * No membership read up front: a first join is the common case. An invite refused because the
   * user is already in the room is the one answer that needs a look at their membership.
   */
  async function bringIn(ref: RoomRef, roomId: string, t: MemberTarget, inviteOnly: boolean, actions: string[]): Promise<void> {
    const stored = await deps.users.get(ref.tenant, t.userSlug);
    let userId = stored?.userId ?? userIdOf(ref.tenant, t.userSlug);
    if (!stored?.hasToken) {
      userId = await deps.gateway.provisionUser(ref.tenant, t.userSlug, t.displayName ?? t.userSlug);
      actions.push(`provisioned ${userId}`);
    } else {
      userId = await activeAccount(ref, t.userSlug, userId, stored.displayName ?? t.displayName, actions);
    }
    if (inviteOnly) {
      try {
        await matrixCall(() => deps.bot.invite(roomId, userId));
        actions.push(`invited ${userId}`);
      } catch (err) {
        if ((err as ApplicationFailure).type !== FailureType.Forbidden) throw err;
        const membership = await matrixCall(() => deps.bot.membership(roomId, userId));
        if (membership === 'join') return;
        if (membership !== 'invite') throw err;
      }
    }
    await deps.sessions.run(ref.tenant, t.userSlug, ({ accessToken }) => joinAsUser(deps.homeserverUrl, accessToken, roomId));
    actions.push(`joined ${userId}`);
  }

  /** Read, merge, write, verify (see syncPowerLevels). */
  async function syncLevels(input: {
    ref: RoomRef;
    roomId: string;
    members: Record<string, string>;
    removed?: string[];
  }): Promise<PowerLevelChanges> {
    const { ref, roomId } = input;
    const slugOf = new Map<string, string>();
    for (const slug of [...Object.keys(input.members), ...(input.removed ?? [])]) slugOf.set(userIdOf(ref.tenant, slug), slug);
    const desired = new Map<string, number>();
    for (const [slug, role] of Object.entries(input.members)) {
      const level = powerLevelFor(deps.powerLevels, ref.kind as RoomKind, role);
      if (level !== 0) desired.set(userIdOf(ref.tenant, slug), level);
    }
    const current = await matrixCall(() => deps.bot.powerLevels(roomId));
    const users = { ...(current.users ?? {}) };
    const result: { bySlug: Record<string, string[]>; other: string[] } = { bySlug: {}, other: [] };
    const note = (id: string, text: string): void => {
      const slug = slugOf.get(id);
      if (slug) (result.bySlug[slug] ??= []).push(text);
      else result.other.push(text);
    };
    for (const [id, level] of Object.entries(users)) {
      if (isManaged(ref.tenant, id) && !desired.has(id)) {
        delete users[id];
        note(id, `power level ${id} ${level}→0`);
      }
    }
    for (const [id, level] of desired) {
      if (users[id] !== level) {
        note(id, `power level ${id} ${users[id] ?? 0}→${level}`);
        users[id] = level;
      }
    }
    if (Object.keys(result.bySlug).length === 0 && result.other.length === 0) return result;
    const next: PowerLevelsContent = { ...current, users };
    await matrixCall(() => deps.bot.setPowerLevels(roomId, next));
    const after = await matrixCall(() => deps.bot.powerLevels(roomId));
    for (const id of new Set([...Object.keys(users), ...Object.keys(after.users ?? {})])) {
      if (isManaged(ref.tenant, id) && (after.users?.[id] ?? 0) !== (users[id] ?? 0)) {
        throw ApplicationFailure.create({
          type: FailureType.PowerLevelsDiverged,
          message: `power level of ${id} reads ${after.users?.[id] ?? 0} after writing ${users[id] ?? 0}`,
        });
      }
    }
    return result;
  }

  /** Whether a room stays unreachable or incomplete for HUSK_AFTER_MS (a creation under way ends sooner). */
  async function staysUnusable(roomId: string): Promise<boolean> {
    const deadline = Date.now() + HUSK_AFTER_MS;
    for (;;) {
      if (
        (await matrixCall(() => deps.bot.roomIsReachable(roomId))) &&
        (await matrixCall(() => deps.bot.roomIsComplete(roomId)))
      )
        return false;
      if (Date.now() >= deadline) return true;
      await new Promise((resolve) => setTimeout(resolve, HUSK_POLL_MS));
    }
  }

  return {
    /** The room's record and desired membership as stored, or null for a new entity. */
    async loadRoom(ref: RoomRef): Promise<RoomRecord | null> {
      return deps.rooms.get(ref.tenant, ref.kind, ref.slug);
    },

    /**
     * Makes sure the Matrix room exists: the stored room if there is one (and it must still be
     * there), else the room behind the deterministic alias, else a new room with that alias.
     */
    async ensureRoom(input: { ref: RoomRef; settings: RoomSettings; dmUsers?: string[] }): Promise<EnsureRoomResult> {
      const { ref, settings } = input;
      const alias = aliasOf(ref);
      const stored = await deps.rooms.get(ref.tenant, ref.kind, ref.slug);
      await deps.rooms.upsert({ ...ref, alias, settings });
      if (stored?.roomId) {
        await reachableOrFail(ref, stored.roomId);
        return { roomId: stored.roomId, alias, actions: [] };
      }
      let roomId = await matrixCall(() => deps.bot.resolveAlias(alias));
      const actions: string[] = [];
      const husk = roomId;
      if (husk && (await staysUnusable(husk))) {
        // Never recorded as ours, and unusable: the husk of a creation the homeserver died in the
        // middle of (Synapse stores the room and its alias first, then the room's initial events one
        // by one; found by test/faults/synapse-kill). Nothing was in it; free the alias, create anew.
        await matrixCall(() => deps.bot.deleteAlias(alias));
        actions.push(`released ${alias} from unusable ${husk}`);
        roomId = null;
      }
      if (roomId) {
        actions.push(`adopted ${roomId} behind ${alias}`);
      } else {
        try {
          roomId = await matrixCall(() =>
            deps.bot.createRoom({
              aliasLocalpart: roomAliasLocalpart(deps.userPrefix, ref.tenant, ref.kind, ref.slug),
              name: settings.name,
              topic: settings.topic,
              visibility: settings.visibility ?? 'private',
              encrypted: ref.kind === 'dm' && settings.encrypted === true,
              isDirect: ref.kind === 'dm',
            }),
          );
          actions.push(`created ${roomId} as ${alias}`);
        } catch (err) {
          if ((err as ApplicationFailure).type !== FailureType.RoomInUse) throw err;
          // Someone created it between our alias lookup and createRoom: the alias decides.
          roomId = await matrixCall(() => deps.bot.resolveAlias(alias));
          if (!roomId) throw err;
          actions.push(`adopted ${roomId} behind ${alias}`);
        }
      }
      await deps.rooms.setRoomId(ref.tenant, ref.kind, ref.slug, roomId);
      await deps.gateway.ensureSchedule(ref.tenant);
      return { roomId, alias, actions };
    },

    /** Brings name and topic on Matrix in line with the settings. */
    async applyRoomSettings(input: { roomId: string; settings: RoomSettings }): Promise<string[]> {
      const { roomId, settings } = input;
      const current = await matrixCall(() => deps.bot.roomSettings(roomId));
      const actions: string[] = [];
      if (settings.name !== undefined && settings.name !== current.name) {
        await matrixCall(() => deps.bot.setName(roomId, settings.name!));
        actions.push(`renamed to ${JSON.stringify(settings.name)}`);
      }
      if (settings.topic !== undefined && settings.topic !== current.topic) {
        await matrixCall(() => deps.bot.setTopic(roomId, settings.topic!));
        actions.push('topic changed');
      }
      return actions;
    },

    async recordMembers(input: { ref: RoomRef; upserts: Record<string, string>; removals: string[] }): Promise<void> {
      await deps.rooms.applyMembers(input.ref.tenant, input.ref.kind, input.ref.slug, input.upserts, input.removals);
    },

    /**
     * The bot's half of getting a member in: provisions the user first when they have no account
     * or token yet, and invites them where the room is invite only. `joined` when nothing is left
     * to do; otherwise the user joins with their own token (joinAsMember).
     */
    async prepareMember(input: {
      ref: RoomRef;
      roomId: string;
      userSlug: string;
      displayName?: string;
      inviteOnly: boolean;
    }): Promise<{ userId: string; joined: boolean; actions: string[] }> {
      const { ref, roomId, userSlug } = input;
      const actions: string[] = [];
      const stored = await deps.users.get(ref.tenant, userSlug);
      let userId = stored?.userId ?? userIdOf(ref.tenant, userSlug);
      if (!stored?.hasToken) {
        userId = await deps.gateway.provisionUser(ref.tenant, userSlug, input.displayName ?? userSlug);
        actions.push(`provisioned ${userId}`);
      }
      const membership = await matrixCall(() => deps.bot.membership(roomId, userId));
      if (membership === 'join') return { userId, joined: true, actions };
      if (stored?.hasToken) userId = await activeAccount(ref, userSlug, userId, stored.displayName ?? input.displayName, actions);
      if (membership !== 'invite' && input.inviteOnly) {
        await matrixCall(() => deps.bot.invite(roomId, userId));
        actions.push(`invited ${userId}`);
      }
      return { userId, joined: false, actions };
    },

    /**
     * One pass over a batch of membership changes, in one activity (decision 0019): records the
     * desired members, brings every member in (provision, invite, join with their own token) or
     * out, then sets the power levels — reading the homeserver only where an answer needs it.
     * A member whose token was refused, or whose calls failed in a way a retry may fix, comes back
     * `retry: true`: the workflow takes them the per-member way (token renewal, retries with
     * backoff). Failures that mean "the room is gone" fail the whole pass as RoomMissing.
     */
    async applyMembers(input: MemberPassInput): Promise<MemberPassResult> {
      const { ref, roomId } = input;
      const upserts: Record<string, string> = {};
      const removals: string[] = [];
      for (const t of input.targets) {
        if (t.to === 'join') upserts[t.userSlug] = input.members[t.userSlug] ?? 'member';
        else removals.push(t.userSlug);
      }
      await deps.rooms.applyMembers(ref.tenant, ref.kind, ref.slug, upserts, removals);

      const members: Record<string, MemberOutcome> = {};
      let refused = false;
      const one = async (t: MemberTarget): Promise<void> => {
        const actions: string[] = [];
        try {
          if (t.to === 'leave') actions.push(...(await removeMember(roomId, userIdOf(ref.tenant, t.userSlug))));
          else await bringIn(ref, roomId, t, input.inviteOnly, actions);
          members[t.userSlug] = { actions };
        } catch (err) {
          const f = err instanceof ApplicationFailure ? err : null;
          if (!f || !f.nonRetryable || f.type === FailureType.UnknownToken) {
            members[t.userSlug] = { actions, retry: true };
          } else {
            refused = true;
            members[t.userSlug] = { actions, error: { type: f.type ?? 'Failure', message: f.message } };
          }
        }
      };
      for (let i = 0; i < input.targets.length; i += PASS_PARALLEL) await Promise.all(input.targets.slice(i, i + PASS_PARALLEL).map(one));
      // A refusal may mean the room itself is gone (purged, or the bot removed): never report that
      // as a member's problem.
      if (refused) await reachableOrFail(ref, roomId);

      let powerLevels: MemberPassResult['powerLevels'] = null;
      const levelOf = (role: string | null | undefined): number => (role ? powerLevelFor(deps.powerLevels, ref.kind as RoomKind, role) : 0);
      const unchanged =
        input.powerLevelsInSync &&
        input.targets.every((t) => t.userSlug in input.previousRoles && levelOf(input.previousRoles[t.userSlug]) === levelOf(input.members[t.userSlug]));
      if (unchanged) powerLevels = { bySlug: {}, other: [] };
      else {
        try {
          powerLevels = await syncLevels({ ref, roomId, members: input.members, removed: removals });
        } catch {
          // Left to the workflow's own syncPowerLevels activity, with its retries.
          powerLevels = null;
        }
      }
      return { members, powerLevels };
    },

    /** The user joins the room with their own token (joining twice is fine). */
    async joinAsMember(input: { ref: RoomRef; roomId: string; userSlug: string }): Promise<void> {
      await deps.sessions.run(input.ref.tenant, input.userSlug, ({ accessToken }) => joinAsUser(deps.homeserverUrl, accessToken, input.roomId));
    },

    /** Removes the user (by slug, or by Matrix id) from the room; nothing to do when they are not in it. */
    async ensureMemberRemoved(input: { ref: RoomRef; roomId: string; userSlug?: string; userId?: string }): Promise<string[]> {
      return removeMember(input.roomId, input.userId ?? userIdOf(input.ref.tenant, input.userSlug!));
    },

    /** Managed users joined to or invited into the room who are not desired members (drift to repair). */
    async undesiredMembers(input: { ref: RoomRef; roomId: string; members: Record<string, string> }): Promise<string[]> {
      const desired = new Set(Object.keys(input.members).map((slug) => userIdOf(input.ref.tenant, slug)));
      const all = await matrixCall(() => deps.bot.memberships(input.roomId));
      return Object.entries(all)
        .filter(([id, m]) => (m === 'join' || m === 'invite') && isManaged(input.ref.tenant, id) && !desired.has(id))
        .map(([id]) => id);
    },

    /**
     * Read, merge, write, verify: the managed users' entries of `m.room.power_levels` become
     * exactly the levels their roles give; entries of anyone else are left as they are. Returns
     * what changed, by member slug (`removed` names slugs that just left, so they can be named too).
     */
    async syncPowerLevels(input: {
      ref: RoomRef;
      roomId: string;
      members: Record<string, string>;
      removed?: string[];
    }): Promise<PowerLevelChanges> {
      return syncLevels(input);
    },

    /** Archive: everyone but the bot leaves, the room is marked archived, and purged if configured. */
    async archiveRoom(input: { ref: RoomRef; roomId: string }): Promise<string[]> {
      const { ref, roomId } = input;
      const actions: string[] = [];
      const all = await matrixCall(() => deps.bot.memberships(roomId));
      for (const [id, m] of Object.entries(all)) {
        if (id === deps.bot.userId || (m !== 'join' && m !== 'invite')) continue;
        await matrixCall(() => deps.bot.kick(roomId, id, 'the room was archived'));
        actions.push(`removed ${id}`);
      }
      await deps.rooms.archive(ref.tenant, ref.kind, ref.slug);
      actions.push('archived');
      if (deps.purgeOnArchive) {
        await matrixCall(() => deps.admin.deleteRoom(roomId));
        actions.push('purged');
      }
      return actions;
    },

    async listActiveRooms(tenant: string): Promise<RoomRef[]> {
      return (await deps.rooms.listActive(tenant)).map((r) => ({ tenant, ...r }));
    },

    async reconcileRoom(ref: RoomRef): Promise<RoomChangeResult> {
      return deps.gateway.reconcileRoom(ref);
    },

    async recordReconcileRun(input: { tenant: string; startedAt: string; rooms: number; fixes: unknown }): Promise<void> {
      await deps.rooms.recordReconcile(input.tenant, new Date(input.startedAt), input.rooms, input.fixes);
    },
  };
}

export type RoomActivities = ReturnType<typeof createRoomActivities>;
