/**
 * The bot's calls on a room's join rules (`m.room.join_rules`): read whole (a restricted rule's
 * `allow` list must survive a change to knocking) and written. Decision 0055.
 */
import type { MatrixClient } from 'matrix-js-sdk';

export interface JoinRulesContent {
  join_rule: string;
  allow?: unknown[];
  [key: string]: unknown;
}

export interface JoinRuleCalls {
  /** The room's join rules event content, or null when it has none. */
  joinRules(roomId: string): Promise<JoinRulesContent | null>;
  setJoinRules(roomId: string, content: JoinRulesContent): Promise<void>;
}

/** The lowest room version with each knocking join rule (Matrix spec: knock 7, knock_restricted 10). */
const KNOCK_SINCE: Readonly<Record<string, number>> = { knock: 7, knock_restricted: 10 };

/**
 * Whether a room of `roomVersion` takes join rule `rule`. Versions that are not plain numbers
 * (unstable ones) are left to the homeserver to judge.
 */
export function roomVersionAllows(roomVersion: string, rule: string): boolean {
  const since = KNOCK_SINCE[rule];
  if (since === undefined || !/^\d+$/.test(roomVersion)) return true;
  return Number(roomVersion) >= since;
}

export function joinRuleCalls(client: MatrixClient): JoinRuleCalls {
  return {
    async joinRules(roomId) {
      try {
        return (await client.getStateEvent(roomId, 'm.room.join_rules', '')) as JoinRulesContent;
      } catch (err) {
        if ((err as { httpStatus?: unknown }).httpStatus === 404) return null;
        throw err;
      }
    },
    async setJoinRules(roomId, content) {
      await client.sendStateEvent(roomId, 'm.room.join_rules' as never, content as never, '');
    },
  };
}
