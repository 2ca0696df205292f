/**
 * `room inspect`: desired state (PostgreSQL) beside actual state (the homeserver, read as the
 * bot), with drift marked by the same rules reconciliation repairs by; `room reconcile`: the
 * `reconcile` change through starters/starters.ts, and what it fixed.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { createRoomSlugStore } from '../../adapters/store/room-slugs.js';
import { createRoomStore } from '../../adapters/store/rooms.js';
import { createUserLookup } from '../../adapters/store/user-bindings.js';
import { canActAs } from '../../vocabulary/identity.js';
import { identityScope } from '../../adapters/identity/index.js';
import type { Db } from '../../adapters/store/db.js';
import type { Config } from '../../lib/config.js';
import { powerLevelFor } from '../../vocabulary/roles.js';
import { changeRoom } from '../../starters/starters.js';
import { matrixUserId, roomWorkflowId } from '../../vocabulary/ids.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import { CliError, EXIT } from './args.js';
import { readRoomAsBot, resolveAlias } from './homeserver.js';
import { connectCli, glance, type WorkflowGlance } from './temporal.js';

export interface MemberLine {
  /** Platform user slug (desired members and managed users of this tenant). */
  slug: string | null;
  userId: string;
  /** Desired role; null when not a desired member. */
  role: string | null;
  /** The power level the role gives; null when not a desired member. */
  wantLevel: number | null;
  /** Actual membership on the homeserver; null when the user never was in the room. */
  membership: string | null;
  /** Actual power level (explicit entry, else the room's default). */
  level: number;
  /** A creator of a room version 12+ room: outranks every power level. */
  creator: boolean;
  /** `bot`, `managed` (a platform user of this tenant) or `other` (left alone by reconciliation). */
  who: 'bot' | 'managed' | 'other';
  drift: string[];
}

export interface RoomInspection {
  ref: RoomRef;
  workflowId: string;
  workflow: WorkflowGlance | null | { error: string };
  status: 'active' | 'archived';
  alias: string;
  aliasTarget: string | null;
  roomId: string | null;
  desired: { name: string | null; topic: string | null; visibility: string };
  actual: { name: string | null; topic: string | null; joinRule: string | null } | null;
  members: MemberLine[];
  /** Everything out of line, room-level first; empty when the room matches its desired state. */
  drift: string[];
}

/** The entity any slug it has had names (decision 0031): its rows and workflow go by its first slug. */
async function entityOf(db: Db, ref: RoomRef): Promise<RoomRef> {
  const route = await createRoomSlugStore(db).find(ref.tenant, ref.kind, ref.slug);
  return route ? { ...ref, slug: route.entity } : ref;
}

/** Reads both sides and compares them; CliError(3) when PostgreSQL has no such room. */
export async function inspectRoom(config: Config, db: Db, named: RoomRef): Promise<RoomInspection> {
  const ref = await entityOf(db, named);
  const stored = await createRoomStore(db).get(ref.tenant, ref.kind, ref.slug);
  if (!stored)
    throw new CliError(EXIT.notFound, `no ${ref.kind} room "${ref.slug}" for tenant ${ref.tenant} in PostgreSQL`);
  const workflowId = roomWorkflowId(ref.tenant, ref.kind, ref.slug);
  const { userPrefix, serverName } = config.matrix;
  const bot = `@${config.matrix.botLocalpart}:${serverName}`;
  const managedPrefix = `@${userPrefix}_${ref.tenant}_`;
  const archived = stored.status === 'archived';
  // An archived room keeps its member rows, but nobody but the bot should be in it any more.
  const desiredMembers = archived ? {} : stored.members;

  const [workflow, actual, aliasTarget, bound] = await Promise.all([
    glance(config, workflowId),
    stored.roomId ? readRoomAsBot(config, stored.roomId) : Promise.resolve(null),
    resolveAlias(config, stored.alias),
    createUserLookup(db).many(ref.tenant, Object.keys(desiredMembers)),
  ]);

  const drift: string[] = [];
  if (!stored.roomId) drift.push('no Matrix room recorded yet');
  else if (!actual)
    drift.push(
      `room ${stored.roomId} is gone from the homeserver, or the bot is no longer in it (reconcile cannot fix this)`,
    );
  if (stored.roomId && aliasTarget !== stored.roomId)
    drift.push(`alias ${stored.alias} points to ${aliasTarget ?? 'nothing'}, not ${stored.roomId}`);
  const desired = {
    name: stored.settings.name ?? null,
    topic: stored.settings.topic ?? null,
    visibility: stored.settings.visibility ?? 'private',
  };
  if (actual && desired.name !== null && actual.name !== desired.name)
    drift.push(`name is ${JSON.stringify(actual.name)}, want ${JSON.stringify(desired.name)}`);
  if (actual && desired.topic !== null && actual.topic !== desired.topic)
    drift.push(`topic is ${JSON.stringify(actual.topic)}, want ${JSON.stringify(desired.topic)}`);

  const members = new Map<string, MemberLine>();
  const levelOf = (id: string): number => actual?.levels[id] ?? actual?.usersDefault ?? 0;
  const creatorOf = (id: string): boolean => actual?.creators.includes(id) ?? false;
  const scope = identityScope(config);
  /** Desired members the service cannot act as are invited; their own client joins (decision 0029). */
  const invitedOnly = new Set<string>();
  for (const [slug, role] of Object.entries(desiredMembers)) {
    // The user's binding (adopted, renamed) is their account; the derived id only for one never provisioned.
    const userId = bound.get(slug)?.userId ?? matrixUserId(userPrefix, serverName, ref.tenant, slug);
    if (!canActAs(scope, userId)) invitedOnly.add(userId);
    const wantLevel = powerLevelFor(config.rooms.powerLevels, ref.kind, role);
    const membership = actual?.memberships[userId] ?? null;
    members.set(userId, {
      slug,
      userId,
      role,
      wantLevel,
      membership,
      level: levelOf(userId),
      creator: creatorOf(userId),
      who: 'managed',
      drift: [],
    });
  }
  if (actual) {
    for (const userId of new Set([...Object.keys(actual.memberships), ...Object.keys(actual.levels)])) {
      if (members.has(userId)) continue;
      const membership = actual.memberships[userId] ?? null;
      if (membership !== 'join' && membership !== 'invite' && !(userId in actual.levels)) continue; // history, not state
      const managed = userId.startsWith(managedPrefix) && userId.endsWith(`:${serverName}`);
      const who = userId === bot ? 'bot' : managed ? 'managed' : 'other';
      members.set(userId, {
        slug: null,
        userId,
        role: null,
        wantLevel: null,
        membership,
        level: levelOf(userId),
        creator: creatorOf(userId),
        who,
        drift: [],
      });
    }
    for (const m of members.values()) {
      if (m.role !== null) {
        const waiting = invitedOnly.has(m.userId) && m.membership !== null;
        if (m.membership !== 'join' && !waiting) m.drift.push(`not joined (${m.membership ?? 'never in the room'})`);
        if (m.level !== m.wantLevel) m.drift.push(`power level ${m.level}, want ${m.wantLevel}`);
      } else if (m.who === 'managed') {
        if (m.membership === 'join' || m.membership === 'invite')
          m.drift.push(`not a desired member (${m.membership})`);
        if (m.level !== 0) m.drift.push(`power level ${m.level}, want 0`);
      }
      for (const d of m.drift) drift.push(`${m.userId}: ${d}`);
    }
  }
  const order = { managed: 0, other: 1, bot: 2 };
  const lines = [...members.values()].sort(
    (a, b) =>
      order[a.who] - order[b.who] ||
      (a.role === null ? 1 : 0) - (b.role === null ? 1 : 0) ||
      a.userId.localeCompare(b.userId),
  );
  return {
    ref,
    workflowId,
    workflow,
    status: stored.status,
    alias: stored.alias,
    aliasTarget,
    roomId: stored.roomId,
    desired,
    actual: actual ? { name: actual.name, topic: actual.topic, joinRule: actual.joinRule } : null,
    members: lines,
    drift,
  };
}

export interface ReconcileOutcome {
  workflowId: string;
  requestId: string;
  roomId: string;
  alias: string;
  /** What the room workflow did (`joined …`, `power level @u 50→0`, …); empty: nothing needed fixing. */
  actions: string[];
}

/** Sends the `reconcile` change and waits (up to `timeoutMs`) for what it fixed. Never creates a room. */
export async function reconcileRoom(
  config: Config,
  db: Db,
  named: RoomRef,
  timeoutMs: number,
): Promise<ReconcileOutcome> {
  const ref = await entityOf(db, named);
  const stored = await createRoomStore(db).get(ref.tenant, ref.kind, ref.slug);
  if (!stored)
    throw new CliError(
      EXIT.notFound,
      `no ${ref.kind} room "${ref.slug}" for tenant ${ref.tenant} in PostgreSQL; the CLI never creates rooms`,
    );
  if (stored.status === 'archived')
    throw new CliError(
      EXIT.failed,
      `${ref.kind} room "${ref.slug}" of ${ref.tenant} is archived: there is nothing to reconcile`,
    );
  const requestId = `cli-${randomUUID()}`;
  const workflowId = roomWorkflowId(ref.tenant, ref.kind, ref.slug);
  const temporal = await connectCli(config);
  let timer: NodeJS.Timeout | undefined;
  try {
    const handle = await changeRoom(temporal.client, config, ref, { type: 'reconcile', requestId, origin: { subject: 'operator:cli', requestId } });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CliError(
              EXIT.failed,
              `reconcile still running after ${timeoutMs / 1000} s; follow it: temporal workflow describe --workflow-id ${workflowId}`,
            ),
          ),
        timeoutMs,
      );
    });
    const result = await Promise.race([handle.result(), timeout]);
    return { workflowId, requestId, roomId: result.roomId, alias: result.alias, actions: result.actions };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError || (err as Error).name === 'WorkflowUpdateFailedError') {
      let cause = (err as { cause?: unknown }).cause as
        { type?: string; message?: string; cause?: unknown } | undefined;
      while (cause && !cause.type && cause.cause) cause = cause.cause as typeof cause;
      throw new CliError(
        EXIT.failed,
        `reconcile failed${cause?.type ? ` (${cause.type})` : ''}: ${cause?.message ?? (err as Error).message}`,
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
    await temporal.close().catch(() => undefined);
  }
}
