/**
 * Stubbed room activities for workflow tests: plain functions on a Worker, standing in for the
 * homeserver with a room whose power levels are a record of slug → level. Each call is recorded;
 * a test replaces any activity with its own function (a failure, a gate) where it needs to.
 */
import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { DEFAULT_POWER_LEVELS, powerLevelFor } from '../../vocabulary/roles.js';
import type { MemberPassInput, PowerLevelChanges, RoomActivities } from '../../activities/rooms.js';
import type { RoomRecord } from '../../adapters/store/rooms.js';
import type { AuditActivities } from '../../activities/audit.js';
import type { RoomKind } from '../../vocabulary/ids.js';
import { roomChangeUpdate, type RoomChangeRequest, type RoomChangeResult } from '../../vocabulary/contract.js';

type Fn = (...args: never[]) => Promise<unknown>;
type Stubbed = RoomActivities & AuditActivities;
export type Overrides = Partial<{
  [K in keyof Stubbed]: (input: Parameters<Stubbed[K]>[0]) => Promise<unknown>;
}>;

export interface Call {
  type: string;
  input: unknown;
}

/** A promise a test opens when it chooses, and another that says the stub got there. */
export function gate(): { wait: () => Promise<void>; open: () => void; reached: Promise<void>; arrive: () => void } {
  let open!: () => void;
  let arrive!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (arrive = r));
  return { wait: () => opened, open, reached, arrive };
}

export interface StubRoom {
  activities: Record<string, Fn>;
  calls: Call[];
  /** Every power-levels write, in order: the levels the room had after it (slug → level, 0 left out). */
  levelWrites: Record<string, number>[];
  /** The activity types called, in order. */
  types(): string[];
  inputsOf<T>(type: string): T[];
}

/** A known room (`stored`) or none, with default activities that succeed; `overrides` replace some. */
export function stubRoom(kind: RoomKind, stored: RoomRecord | null, overrides: Overrides = {}): StubRoom {
  const calls: Call[] = [];
  const levelWrites: Record<string, number>[] = [];
  let levels: Record<string, number> = {};
  const roomId = stored?.roomId ?? '!new:test';
  let known = stored !== null;

  /** What syncPowerLevels does to a room: managed entries become exactly what the roles give. */
  const writeLevels = (members: Record<string, string>): PowerLevelChanges => {
    const next: Record<string, number> = {};
    for (const [slug, role] of Object.entries(members)) {
      const level = powerLevelFor(DEFAULT_POWER_LEVELS, kind, role);
      if (level !== 0) next[slug] = level;
    }
    const changes: PowerLevelChanges = { bySlug: {}, other: [] };
    for (const slug of new Set([...Object.keys(levels), ...Object.keys(next)])) {
      if ((levels[slug] ?? 0) !== (next[slug] ?? 0)) {
        changes.bySlug[slug] = [`power level ${slug} ${levels[slug] ?? 0}→${next[slug] ?? 0}`];
      }
    }
    if (Object.keys(changes.bySlug).length > 0) levelWrites.push(next);
    levels = next;
    return changes;
  };

  const defaults: Record<string, Fn> = {
    loadRoom: async () => stored,
    ensureRoom: async () => {
      // Created once; from then on the room is the stored one.
      const actions = known ? [] : [`created ${roomId}`];
      known = true;
      return { roomId, alias: '#room:test', actions };
    },
    applyRoomSettings: async () => [],
    recordMembers: async () => undefined,
    applyMembers: async (input: MemberPassInput) => ({
      members: Object.fromEntries(
        input.targets.map((t) => [
          t.userSlug,
          { actions: [`${t.to === 'join' ? 'joined' : 'removed'} ${t.userSlug}`] },
        ]),
      ),
      // A chunk of a long list leaves the levels to syncPowerLevels after the last chunk.
      powerLevels: input.deferLevels ? null : writeLevels(input.members),
    }),
    prepareMember: async (input: { userSlug: string }) => ({
      userId: `@${input.userSlug}`,
      joined: false,
      actions: [`invited ${input.userSlug}`],
    }),
    joinAsMember: async () => undefined,
    ensureMemberRemoved: async (input: { userSlug?: string; userId?: string }) => [
      `removed ${input.userId ?? input.userSlug}`,
    ],
    undesiredMembers: async () => [],
    // Every listed member is still in the room.
    listedAbsent: async () => [],
    syncPowerLevels: async (input: { members: Record<string, string> }) => writeLevels(input.members),
    // The audit trail's write (workflows/room-audit.ts): the entries are read back from `calls`.
    recordAudit: async (entries: unknown[]) => entries.length,
    archiveRoom: async () => ['archived'],
    // Group spaces (decision 0051): a group's space with its room as the one child; an event of no group.
    syncGroupSpace: async (input: { ref: { slug: string }; roomId: string }) => ({
      view: { spaceId: '!space:test', parent: null, children: [{ kind: 'group', slug: input.ref.slug, roomId: input.roomId }] },
      group: input.ref.slug,
      bans: [],
      actions: [],
    }),
    syncEventGroup: async (input: { group?: string | null }) => ({
      view: { spaceId: input.group ? '!space:test' : null, parent: input.group ? '!space:test' : null, children: [] },
      group: input.group ?? null,
      bans: [],
      actions: [],
    }),
    // A room never renamed: its one slug, nothing to do.
    syncAliases: async (input: { ref: { slug: string } }) => ({
      slug: input.ref.slug,
      slugs: [input.ref.slug],
      alias: '#room:test',
      aliasRemovalAt: null,
      actions: [],
    }),
  };
  const activities: Record<string, Fn> = {};
  for (const [type, fn] of Object.entries({ ...defaults, ...(overrides as Record<string, Fn>) })) {
    activities[type] = async (...args: never[]) => {
      calls.push({ type, input: args[0] });
      return fn(...args);
    };
  }
  return {
    activities,
    calls,
    levelWrites,
    types: () => calls.map((c) => c.type),
    inputsOf: <T>(type: string) => calls.filter((c) => c.type === type).map((c) => c.input as T),
  };
}

/** A room's stored record, as loadRoom returns it. */
export function storedRoom(tenant: string, kind: RoomKind, slug: string, members: Record<string, string>): RoomRecord {
  return {
    tenant,
    kind,
    slug,
    alias: '#room:test',
    roomId: '!known:test',
    settings: { name: 'Known' },
    members,
    status: 'active',
    adopted: false,
  };
}

/** Sends a change and returns once the workflow has accepted it (it is queued for the next batch). */
export async function accepted(
  handle: WorkflowHandle,
  change: RoomChangeRequest,
): Promise<() => Promise<RoomChangeResult>> {
  const update = await handle.startUpdate(roomChangeUpdate, {
    args: [change],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
  });
  return () => update.result();
}
