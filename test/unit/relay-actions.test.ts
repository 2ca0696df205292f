import { describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { EventLog } from '../../activities/store/events.js';
import type { Db } from '../../activities/store/db.js';
import { createRelayActions } from '../../api/relay/actions.js';
import type { RelayHomeserver } from '../../api/relay/homeserver.js';
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

function actions(logSays: string | null, homeserverSays: string | null) {
  const asked: string[] = [];
  const log = { latestMembership: async () => logSays } as unknown as EventLog;
  const homeserver = {
    membership: async (roomId: string, userId: string) => {
      asked.push(`${userId} in ${roomId}`);
      return homeserverSays;
    },
  } as unknown as RelayHomeserver;
  const a = createRelayActions({
    config: loadConfig({ ...MINIMAL_ENV }),
    db: {} as Db,
    temporal: {} as Client,
    log,
    homeserver,
  });
  return { isJoined: () => a.isJoined('@u:x', '!r:x'), asked };
}

describe('whether a user may act in a room', () => {
  it('takes the event log at its word for a join, without asking the homeserver', async () => {
    const a = actions('join', 'leave');
    expect(await a.isJoined()).toBe(true);
    expect(a.asked).toEqual([]);
  });

  it('asks the homeserver before refusing: the log may not have the join yet', async () => {
    expect(await actions('invite', 'join').isJoined()).toBe(true);
    expect(await actions(null, 'join').isJoined()).toBe(true);
    expect(await actions('leave', 'leave').isJoined()).toBe(false);
    expect(await actions(null, null).isJoined()).toBe(false);
  });
});
