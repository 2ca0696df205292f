import type { RoomKind } from './ids.js';

/** Platform role → Matrix power level, per room kind. */
export type PowerLevelTable = Readonly<Record<RoomKind, Readonly<Record<string, number>>>>;

/**
 * The platform's defaults: event host 100, group owner 100, both DM users 50; the platform's
 * attendees (`participant`) and guests talk at 0 like members.
 */
export const DEFAULT_POWER_LEVELS: PowerLevelTable = {
  event: { host: 100, moderator: 50, speaker: 25, member: 0, participant: 0, guest: 0 },
  group: { owner: 100, admin: 75, moderator: 50, member: 0, guest: 0 },
  dm: { member: 50 },
};

/** The seed's simpler mode: whoever moderates gets 50, everyone else 0. */
export const SIMPLE_POWER_LEVELS: PowerLevelTable = {
  event: { host: 50, moderator: 50, speaker: 0, member: 0, participant: 0, guest: 0 },
  group: { owner: 50, admin: 50, moderator: 50, member: 0, guest: 0 },
  dm: { member: 50 },
};

export function powerLevelFor(table: PowerLevelTable, kind: RoomKind, role: string): number {
  return table[kind][role] ?? 0;
}
