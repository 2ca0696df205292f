/**
 * Knocking as a room setting (decision 0055): the join rule a room's `knock` setting asks for, kept
 * apart from the rest of its join rules (a restricted room becomes `knock_restricted`, its `allow`
 * list kept), and the activity step that brings the homeserver there.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { RoomSettings } from '../../vocabulary/contract.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import { roomVersionAllows, type JoinRulesContent } from '../../adapters/matrix/join-rules.js';
import type { RoomContext } from './context.js';

/**
 * The join rules the room should have, or null to leave them as they are. `knock` undefined: the
 * platform never said, nothing changes. Turned off, a knock room goes back to what its visibility
 * says (public or invite), a `knock_restricted` one to `restricted`.
 */
export function wantedJoinRules(
  current: JoinRulesContent | null,
  knock: boolean | undefined,
  visibility: RoomSettings['visibility'],
): JoinRulesContent | null {
  if (knock === undefined) return null;
  const rule = current?.join_rule ?? 'invite';
  if (knock) {
    if (rule === 'knock' || rule === 'knock_restricted') return null;
    return rule === 'restricted' ? { ...current!, join_rule: 'knock_restricted' } : { join_rule: 'knock' };
  }
  if (rule === 'knock') return { join_rule: visibility === 'public' ? 'public' : 'invite' };
  if (rule === 'knock_restricted') return { ...current!, join_rule: 'restricted' };
  return null;
}

/** Brings the room's join rule in line with its `knock` setting; refuses a room version without it. */
export async function applyKnock(ctx: RoomContext, roomId: string, settings: RoomSettings): Promise<string[]> {
  if (settings.knock === undefined) return [];
  const { bot } = ctx.deps;
  const next = wantedJoinRules(await matrixCall(() => bot.joinRules(roomId)), settings.knock, settings.visibility);
  if (!next) return [];
  const { roomVersion } = await matrixCall(() => bot.creation(roomId));
  if (!roomVersionAllows(roomVersion, next.join_rule)) {
    throw ApplicationFailure.create({
      type: FailureType.KnockUnsupported,
      message: `room ${roomId} is of room version ${roomVersion}, which has no join rule ${next.join_rule} (knock needs version 7, knock_restricted 10): upgrade the room first`,
      nonRetryable: true,
    });
  }
  await matrixCall(() => bot.setJoinRules(roomId, next));
  return [`join rule ${next.join_rule}`];
}
