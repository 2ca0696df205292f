import type { RoomSettings } from '../../vocabulary/contract.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { RoomContext } from './context.js';

export interface SettingDrift {
  setting: 'name' | 'topic';
  want: string;
  have: string | null;
}

/**
 * Where the room's name and topic (`current`) differ from the settings that give one: what
 * reconciliation sets back, and what the drift report shows (decision 0059).
 */
export function nameAndTopicDrift(settings: RoomSettings, current: { name: string | null; topic: string | null }): SettingDrift[] {
  const out: SettingDrift[] = [];
  if (settings.name !== undefined && settings.name !== current.name) out.push({ setting: 'name', want: settings.name, have: current.name });
  if (settings.topic !== undefined && settings.topic !== current.topic)
    out.push({ setting: 'topic', want: settings.topic, have: current.topic });
  return out;
}

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
  for (const d of nameAndTopicDrift(settings, current)) {
    if (d.setting === 'name') {
      await matrixCall(() => bot.setName(roomId, d.want));
      actions.push(`renamed to ${JSON.stringify(d.want)}`);
    } else {
      await matrixCall(() => bot.setTopic(roomId, d.want));
      actions.push('topic changed');
    }
  }
  return actions;
}
