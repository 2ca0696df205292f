import { createClient, type ICreateRoomOpts, type MatrixClient } from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { adoptionCalls, type AdoptionCalls } from './adoption-calls.js';
import { joinRuleCalls, type JoinRuleCalls } from './join-rules.js';
import { MatrixHttpError } from './errors.js';
import { authorized, matrixRequest, type RequestAuth } from './http.js';

// The SDK logs every request at debug level; our own logs say what matters.
(sdkLogger as { setLevel?: (l: string) => void }).setLevel?.('warn');

export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

export interface PowerLevelsContent {
  users?: Record<string, number>;
  [key: string]: unknown;
}

export interface CreateRoomOptions {
  aliasLocalpart: string;
  name?: string;
  topic?: string;
  visibility: 'public' | 'private';
  encrypted: boolean;
  /** Users invited at creation (DMs). */
  invite?: string[];
  isDirect?: boolean;
  /** Matrix users may knock (join rule `knock` instead of the preset's; decision 0055). */
  knock?: boolean;
}

/** What the service bot (the appservice sender, acting with the as_token) does on the homeserver. */
export interface MatrixBot extends AdoptionCalls, JoinRuleCalls {
  readonly userId: string;
  createRoom(opts: CreateRoomOptions): Promise<string>;
  /** The room an alias points at, or null. */
  resolveAlias(alias: string): Promise<string | null>;
  /** Removes the alias (already gone: fine). */
  deleteAlias(alias: string): Promise<void>;
  /** Whether createRoom got as far as the power levels, join rules and history visibility. */
  roomIsComplete(roomId: string): Promise<boolean>;
  /** Whether the room exists and the bot is in it (it is in every room it manages). */
  roomIsReachable(roomId: string): Promise<boolean>;
  membership(roomId: string, userId: string): Promise<Membership | null>;
  /** Every user with a membership in the room, and what it is. */
  memberships(roomId: string): Promise<Record<string, Membership>>;
  invite(roomId: string, userId: string): Promise<void>;
  kick(roomId: string, userId: string, reason: string): Promise<void>;
  powerLevels(roomId: string): Promise<PowerLevelsContent>;
  setPowerLevels(roomId: string, content: PowerLevelsContent): Promise<void>;
  setName(roomId: string, name: string): Promise<void>;
  setTopic(roomId: string, topic: string): Promise<void>;
  roomSettings(roomId: string): Promise<{ name: string | null; topic: string | null }>;
}

const isStatus = (err: unknown, ...statuses: number[]): boolean => {
  const s = (err as { httpStatus?: unknown; status?: unknown })?.httpStatus ?? (err as { status?: unknown })?.status;
  return typeof s === 'number' && statuses.includes(s);
};

/** A state event's content, or null when the room has none of that type and key. */
async function stateEvent<T>(client: MatrixClient, roomId: string, type: string, key = ''): Promise<T | null> {
  try {
    return (await client.getStateEvent(roomId, type, key)) as T;
  } catch (err) {
    if (isStatus(err, 404)) return null;
    throw err;
  }
}

type RoomCalls = Pick<MatrixBot, 'createRoom' | 'resolveAlias' | 'deleteAlias' | 'roomIsComplete' | 'roomIsReachable'>;

/** The bot's calls on a room as a whole: creating it, its alias, whether it is there. */
function roomCalls(client: MatrixClient, botUserId: string): RoomCalls {
  return {
    async createRoom(o) {
      const initialState: ICreateRoomOpts['initial_state'] = [
        { type: 'm.room.guest_access', state_key: '', content: { guest_access: 'forbidden' } },
        { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } },
      ];
      // After the preset's events: this join rule replaces the preset's `invite` (room version 7 and later).
      if (o.knock) initialState.push({ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } });
      if (o.encrypted) {
        initialState.push({ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } });
      }
      const res = await client.createRoom({
        room_alias_name: o.aliasLocalpart,
        name: o.name,
        topic: o.topic,
        preset: (o.visibility === 'public' ? 'public_chat' : 'private_chat') as ICreateRoomOpts['preset'],
        visibility: (o.visibility === 'public' ? 'public' : 'private') as ICreateRoomOpts['visibility'],
        initial_state: initialState,
        invite: o.invite,
        is_direct: o.isDirect,
      });
      return res.room_id;
    },
    async resolveAlias(alias) {
      try {
        return (await client.getRoomIdForAlias(alias)).room_id;
      } catch (err) {
        if (isStatus(err, 404)) return null;
        throw err;
      }
    },
    async deleteAlias(alias) {
      try {
        await client.deleteAlias(alias);
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
    },
    async roomIsComplete(roomId) {
      for (const type of ['m.room.power_levels', 'm.room.join_rules', 'm.room.history_visibility']) {
        if (!(await stateEvent(client, roomId, type))) return false;
      }
      return true;
    },
    async roomIsReachable(roomId) {
      // The bot's own membership, not any state event: a member who left (or was kicked) still reads
      // the room's state as it was when they left, so the room would look reachable.
      try {
        const own = (await client.getStateEvent(roomId, 'm.room.member', botUserId)) as { membership?: string };
        return own.membership === 'join';
      } catch (err) {
        // 404: no such room; 403: the bot was never in it, or the room was purged/blocked.
        if (isStatus(err, 403, 404)) return false;
        throw err;
      }
    },
  };
}

/** The bot's calls on a room's members and state: memberships, power levels, name and topic. */
function memberAndStateCalls(
  client: MatrixClient,
): Omit<MatrixBot, 'userId' | keyof RoomCalls | keyof AdoptionCalls | keyof JoinRuleCalls> {
  return {
    async membership(roomId, userId) {
      const ev = await stateEvent<{ membership?: Membership }>(client, roomId, 'm.room.member', userId);
      return ev?.membership ?? null;
    },
    async memberships(roomId) {
      const res = await client.members(roomId);
      const out: Record<string, Membership> = {};
      for (const ev of res.chunk ?? []) {
        const m = (ev.content as { membership?: Membership }).membership;
        if (ev.state_key && m) out[ev.state_key] = m;
      }
      return out;
    },
    async invite(roomId, userId) {
      await client.invite(roomId, userId);
    },
    async kick(roomId, userId, reason) {
      await client.kick(roomId, userId, reason);
    },
    async powerLevels(roomId) {
      const pl = await stateEvent<PowerLevelsContent>(client, roomId, 'm.room.power_levels');
      if (!pl) {
        throw new MatrixHttpError(
          404,
          'M_NOT_FOUND',
          'room has no power levels',
          undefined,
          'GET',
          'm.room.power_levels',
        );
      }
      return pl;
    },
    async setPowerLevels(roomId, content) {
      await client.sendStateEvent(roomId, 'm.room.power_levels' as never, content as never, '');
    },
    async setName(roomId, name) {
      await client.sendStateEvent(roomId, 'm.room.name' as never, { name } as never, '');
    },
    async setTopic(roomId, topic) {
      await client.sendStateEvent(roomId, 'm.room.topic' as never, { topic } as never, '');
    },
    async roomSettings(roomId) {
      const [n, t] = await Promise.all([
        stateEvent<{ name?: string }>(client, roomId, 'm.room.name'),
        stateEvent<{ topic?: string }>(client, roomId, 'm.room.topic'),
      ]);
      return { name: n?.name ?? null, topic: t?.topic ?? null };
    },
  };
}

export function createMatrixBot(opts: { homeserverUrl: string; asToken: string; userId: string }): MatrixBot {
  const client: MatrixClient = createClient({
    baseUrl: opts.homeserverUrl,
    accessToken: opts.asToken,
    userId: opts.userId,
  });
  return {
    userId: opts.userId,
    ...roomCalls(client, opts.userId),
    ...memberAndStateCalls(client),
    ...adoptionCalls(client),
    ...joinRuleCalls(client),
  };
}

/**
 * Joins a room as the user (`auth`: their own token, or the appservice's with identity assertion);
 * joining twice is fine. One plain request: a matrix-js-sdk client per join cost the worker more
 * CPU than the call itself.
 */
export async function joinAsUser(homeserverUrl: string, auth: RequestAuth, roomId: string): Promise<void> {
  await matrixRequest(
    homeserverUrl,
    authorized(auth, { method: 'POST', path: `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, body: {} }),
  );
}
