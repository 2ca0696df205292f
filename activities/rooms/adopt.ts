/**
 * Taking over a room that exists (adoption): the bot in at the top of its power levels, our alias
 * beside the room's own, the room recorded as the entity's. The room keeps its id, history and
 * people; the room workflow then manages members and roles as for the rooms it creates.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import { ROLES_BY_KIND } from '../../vocabulary/ids.js';
import { powerLevelFor } from '../../vocabulary/roles.js';
import type { RoomAdoption, RoomRef, RoomSettings } from '../../vocabulary/contract.js';
import type { PowerLevelsContent } from '../../adapters/matrix/client.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { RoomRecord } from '../../adapters/store/rooms.js';
import { pointAt, writeCanonical } from './aliases.js';
import { reachableOrFail, type RoomContext } from './context.js';
import { reachOf } from './power-levels.js';
import { applyNameAndTopic } from './settings.js';
import type { EnsureRoomResult } from './types.js';

const refuse = (message: string): ApplicationFailure =>
  ApplicationFailure.create({ type: FailureType.RoomNotAdoptable, message, nonRetryable: true });
const conflict = (message: string): ApplicationFailure =>
  ApplicationFailure.create({ type: FailureType.RoomAdoptionConflict, message, nonRetryable: true });

/** What the bot's own membership is (null: none it can see, the room unknown included). */
async function botMembership(ctx: RoomContext, roomId: string): Promise<string | null> {
  try {
    return await matrixCall(() => ctx.deps.bot.membership(roomId, ctx.deps.bot.userId));
  } catch (err) {
    const type = (err as ApplicationFailure).type;
    if (type === FailureType.Forbidden || type === FailureType.NotFound) return null;
    throw err;
  }
}

/** The level the bot needs to manage the room: every role's, changing power levels, kicking, inviting, and everyone's there. */
function neededLevel(ctx: RoomContext, ref: RoomRef, levels: PowerLevelsContent, creators: Set<string>): number {
  const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);
  const events = (levels.events ?? {}) as Record<string, unknown>;
  const others = Object.entries(levels.users ?? {})
    .filter(([id]) => id !== ctx.deps.bot.userId && !creators.has(id))
    .map(([, l]) => l);
  return Math.max(
    ...ROLES_BY_KIND[ref.kind].map((r) => powerLevelFor(ctx.deps.powerLevels, ref.kind, r)),
    num(events['m.room.power_levels'], num(levels.state_default, 50)),
    num(levels.kick, 50),
    num(levels.invite, 0),
    ...others,
  );
}

/**
 * The bot joined at the level it needs. Admin mode may ask the Admin API's make-room-admin for it
 * (and is invited by it); appservice mode needs the bot invited or joined and at that level already,
 * and otherwise says exactly what is missing.
 */
async function takeOver(ctx: RoomContext, ref: RoomRef, roomId: string, actions: string[]): Promise<void> {
  const { bot, admin } = ctx.deps;
  // The Admin API is there in admin mode only (adapters/identity/index.ts identityFor).
  const canGrant = admin !== null;
  let granted = false;
  const grant = async (): Promise<void> => {
    try {
      await matrixCall(() => admin!.makeRoomAdmin(roomId, bot.userId));
    } catch (err) {
      throw refuse(
        `make-room-admin could not put the bot ${bot.userId} in charge of ${roomId}: ${(err as Error).message}`,
      );
    }
    granted = true;
    actions.push(`made ${bot.userId} room admin through the Admin API`);
  };
  if ((await botMembership(ctx, roomId)) !== 'join') {
    if (canGrant) await grant();
    try {
      await matrixCall(() => bot.join(roomId));
    } catch (err) {
      throw refuse(
        `the bot ${bot.userId} is not in room ${roomId} and cannot join it (${(err as Error).message}): invite it${canGrant ? '' : ' and give it the top power level'}`,
      );
    }
    actions.push(`joined ${roomId} as ${bot.userId}`);
  }
  for (;;) {
    const [levels, creation] = await Promise.all([
      matrixCall(() => bot.powerLevels(roomId)),
      matrixCall(() => bot.creation(roomId)),
    ]);
    const reach = reachOf(bot.userId, levels, creation.creators);
    const needed = neededLevel(ctx, ref, levels, reach.creators);
    if (reach.botLevel >= needed) return;
    if (!canGrant || granted)
      throw refuse(`the bot ${bot.userId} has power level ${reach.botLevel} in room ${roomId}, needs ${needed}`);
    await grant();
  }
}

/**
 * Our alias on the room, and in its canonical alias event: canonical when it has none, else the
 * first alternative (writeCanonical: the room's own canonical alias stays).
 */
async function addAlias(ctx: RoomContext, ref: RoomRef, roomId: string, alias: string, actions: string[]) {
  try {
    await pointAt(ctx, alias, roomId, actions);
  } catch (err) {
    if ((err as ApplicationFailure).type !== FailureType.RoomInUse) throw err;
    throw conflict(`the entity's alias ${alias} already points at another room: ${(err as Error).message}`);
  }
  actions.push(...(await writeCanonical(ctx, ref, roomId, alias, [])));
}

/**
 * The room's settings as it has them, with the name and topic the request gives applied: what is
 * recorded for the entity (visibility and encryption are the room's own; they are never changed).
 */
async function takeSettings(
  ctx: RoomContext,
  roomId: string,
  settings: RoomSettings,
  actions: string[],
): Promise<RoomSettings> {
  const { bot } = ctx.deps;
  const [joinRule, encrypted, current] = await Promise.all([
    matrixCall(() => bot.joinRule(roomId)),
    matrixCall(() => bot.isEncrypted(roomId)),
    matrixCall(() => bot.roomSettings(roomId)),
  ]);
  actions.push(...(await applyNameAndTopic(ctx, roomId, settings, current)));
  const taken: RoomSettings = { ...settings, visibility: joinRule === 'public' ? 'public' : 'private', encrypted };
  const name = settings.name ?? current.name;
  const topic = settings.topic ?? current.topic;
  if (name !== null) taken.name = name;
  if (topic !== null) taken.topic = topic;
  return taken;
}

/**
 * Adopts the room named by `adopt` for the entity: idempotent (the entity's own room again changes
 * nothing), never a second room (another room for an entity that has one, or a room that is
 * another entity's, is a RoomAdoptionConflict).
 */
export async function adoptRoom(
  ctx: RoomContext,
  ref: RoomRef,
  settings: RoomSettings,
  adopt: RoomAdoption,
  stored: RoomRecord | null,
): Promise<EnsureRoomResult> {
  const { bot, rooms, gateway } = ctx.deps;
  const alias = ctx.aliasOf(ref);
  const named = 'roomId' in adopt ? adopt.roomId : adopt.alias;
  const roomId = 'roomId' in adopt ? adopt.roomId : await matrixCall(() => bot.resolveAlias(adopt.alias));
  if (!roomId) throw refuse(`no room behind the alias ${named}`);
  if (stored?.roomId && stored.roomId !== roomId)
    throw conflict(`${ref.kind} ${ref.slug} already has room ${stored.roomId}; it cannot adopt another (${roomId})`);
  const owner = await rooms.ownerOf(roomId);
  if (owner && (owner.tenant !== ref.tenant || owner.kind !== ref.kind || owner.slug !== ref.slug))
    throw conflict(
      `room ${roomId} already belongs to ${owner.tenant === ref.tenant ? `${owner.kind} ${owner.slug}` : 'another tenant'}`,
    );
  if (stored?.roomId) {
    await reachableOrFail(ctx, ref, roomId);
    // The stored alias: after a rename it is the current slug's (activities/rooms/aliases.ts).
    return { roomId, alias: stored.alias, actions: [] };
  }
  const actions: string[] = [`adopted ${roomId}${named === roomId ? '' : ` (${named})`}`];
  await takeOver(ctx, ref, roomId, actions);
  await addAlias(ctx, ref, roomId, alias, actions);
  const actual = await takeSettings(ctx, roomId, settings, actions);
  await rooms.upsert({ ...ref, alias, settings: actual });
  await rooms.setRoomId(ref.tenant, ref.kind, ref.slug, roomId, true);
  await gateway.ensureSchedule(ref.tenant);
  return { roomId, alias, actions };
}
