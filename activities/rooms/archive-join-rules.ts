/**
 * An archived room is closed to joining: its join rules become `invite` (a public room, a group's
 * `restricted` event room or a knock room would otherwise let people back in, or knock), and the
 * rules it had are kept in PostgreSQL (rooms.archived_join_rules) until a reopen puts them back.
 * Both steps can be repeated: the rules are kept before they are changed, and cleared after.
 */
import type { RoomRef } from '../../vocabulary/contract.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { RoomContext } from './context.js';

const CLOSED = { join_rule: 'invite' };

/** Before the archive empties the room: its join rules kept, then set to `invite`. */
export async function closeJoinRules(ctx: RoomContext, ref: RoomRef, roomId: string, actions: string[]): Promise<void> {
  const { bot, rooms } = ctx.deps;
  const current = await matrixCall(() => bot.joinRules(roomId));
  // Already `invite`: nothing to keep (a retry finds the rules kept by its first attempt).
  if (!current || current.join_rule === 'invite') return;
  await rooms.keepJoinRules(ref.tenant, ref.kind, ref.slug, current);
  await matrixCall(() => bot.setJoinRules(roomId, CLOSED));
  actions.push(`join rule invite (was ${current.join_rule})`);
}

/** At a reopen: the rules the archive closed put back, unless someone changed them since. */
export async function reopenJoinRules(ctx: RoomContext, ref: RoomRef, roomId: string | null): Promise<void> {
  const { bot, rooms } = ctx.deps;
  const kept = await rooms.keptJoinRules(ref.tenant, ref.kind, ref.slug);
  if (!kept) return;
  if (roomId) {
    const current = await matrixCall(() => bot.joinRules(roomId));
    if (current?.join_rule === 'invite') await matrixCall(() => bot.setJoinRules(roomId, kept));
  }
  await rooms.keepJoinRules(ref.tenant, ref.kind, ref.slug, null);
}
