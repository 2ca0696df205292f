import { matrixCall } from '../../adapters/matrix/errors.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import type { ReadContext } from './context.js';
import { reachOf } from './power-levels.js';

/**
 * People joined to or invited into the room who are not desired members: drift for reconciliation
 * to remove. Without the room's `prune`, only the tenant's managed accounts (`@{prefix}_{tenant}_…`)
 * count: an adopted room's people, and adopted accounts not (or no longer) desired, are left alone.
 * With `prune`, everyone but the bot whom the bot can remove (not a creator, below its own level),
 * except a plain Matrix user whose request to join was approved (decision 0055): they were let in.
 */
export async function undesiredMembers(
  ctx: ReadContext,
  input: { ref: RoomRef; roomId: string; members: Record<string, string> },
): Promise<string[]> {
  const { ref, roomId } = input;
  const { bot, rooms } = ctx.deps;
  const [ids, all, record] = await Promise.all([
    ctx.userIds(ref.tenant, Object.keys(input.members)),
    matrixCall(() => bot.memberships(roomId)),
    rooms.get(ref.tenant, ref.kind, ref.slug),
  ]);
  const desired = new Set(ids.values());
  const present = Object.entries(all)
    .filter(([id, m]) => (m === 'join' || m === 'invite') && id !== bot.userId && !desired.has(id))
    .map(([id]) => id);
  if (!record?.settings.prune || present.every((id) => ctx.isManaged(ref.tenant, id))) {
    return present.filter((id) => ctx.isManaged(ref.tenant, id));
  }
  const outsiders = present.filter((id) => !ctx.isManaged(ref.tenant, id));
  const [levels, creation, approved] = await Promise.all([
    matrixCall(() => bot.powerLevels(roomId)),
    matrixCall(() => bot.creation(roomId)),
    ctx.deps.joinRequests?.approvedOf(ref, outsiders) ?? new Set<string>(),
  ]);
  const reach = reachOf(bot.userId, levels, creation.creators);
  return present.filter(
    (id) =>
      ctx.isManaged(ref.tenant, id) ||
      (!approved.has(id) && !reach.creators.has(id) && reach.levelOf(id) < reach.botLevel),
  );
}
