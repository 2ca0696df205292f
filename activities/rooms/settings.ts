import type { RoomSettings } from '../../vocabulary/contract.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { RoomContext } from './context.js';

/**
 * Sets the room's name and topic where the settings give one that differs from what the room has
 * (`current`, read by the caller); returns what it did, as actions.
 */
export async function applyNameAndTopic(
  ctx: RoomContext,
  roomId: string,
  settings: RoomSettings,
  current: { name: string | null; topic: string | null },
): Promise<string[]> {
  const { bot } = ctx.deps;
  const actions: string[] = [];
  if (settings.name !== undefined && settings.name !== current.name) {
    await matrixCall(() => bot.setName(roomId, settings.name!));
    actions.push(`renamed to ${JSON.stringify(settings.name)}`);
  }
  if (settings.topic !== undefined && settings.topic !== current.topic) {
    await matrixCall(() => bot.setTopic(roomId, settings.topic!));
    actions.push('topic changed');
  }
  return actions;
}
