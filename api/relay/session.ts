import type { EventLog, LogRow } from '../../activities/store/events.js';
import type { RelayConfig } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import type { RelayActions } from './actions.js';
import { createFrameHandler } from './client-frames.js';
import type { LogFeed } from './feed.js';
import type { RelayHomeserver } from './homeserver.js';
import { CloseCode, errorFrame, frame, PROTOCOL, rowFrame } from './protocol.js';
import { route, type Audience } from './routing.js';
import type { UserPrincipal } from './user-auth.js';

/** What a session needs of its WebSocket (the `ws` socket in production, a fake in unit tests). */
export interface SocketLike {
  send(data: string): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

export interface SessionDeps {
  log: EventLog;
  feed: Pick<LogFeed, 'head' | 'ready'>;
  actions: RelayActions;
  homeserver: Pick<RelayHomeserver, 'joinedRooms'>;
  limits: RelayConfig;
  logger: Logger;
}

export interface Session {
  readonly user: UserPrincipal;
  /** Sends `hello`, replays what the client missed since `since` (or nothing), then goes live. */
  start(since: number | null): Promise<void>;
  /** Live rows from this instance's feed, in order. */
  deliver(rows: readonly LogRow[]): void;
  /** A frame from the client. */
  receive(data: unknown): void;
  close(code: number, reason: string): void;
  /** The socket is gone (either side closed it). */
  end(): void;
}

const REPLAY_PAGE = 500;
const READY_TIMEOUT_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One socket: bound to one user of one tenant. Its position is the last sequence it has
 * processed; membership is tracked from the log at that position, so a join or removal takes
 * effect exactly where it happened. Replay (after a resume, or while catching up to this instance's
 * feed) reads the database page by page and waits for the client to drain; once caught up it
 * switches to live rows synchronously, so nothing falls between the two. Live, a socket whose
 * unread data exceeds the limit is cut off (4408): it resumes from its last sequence.
 */
export function createSession(
  socket: SocketLike,
  user: UserPrincipal,
  deps: SessionDeps,
  onEnd: () => void = () => undefined,
): Session {
  let mode: 'starting' | 'replaying' | 'live' | 'closed' = 'starting';
  let position = 0;
  const audience: Audience = { userId: user.userId, tenant: user.tenant, joined: new Set() };
  const max = deps.limits.maxBufferedBytes;
  // A function, not an inline comparison: the socket can close during any await of start().
  const closed = (): boolean => mode === 'closed';

  function send(text: string): boolean {
    if (mode === 'closed') return false;
    if (mode === 'live' && socket.bufferedAmount > max) {
      close(CloseCode.SlowConsumer, 'slow consumer: reconnect with since=<last seq>');
      return false;
    }
    socket.send(text);
    return true;
  }

  function close(code: number, reason: string): void {
    if (mode === 'closed') return;
    end();
    socket.close(code, reason);
  }

  function end(): void {
    if (mode === 'closed') return;
    mode = 'closed';
    clearTimeout(expiry);
    onEnd();
  }

  // A socket lives no longer than its token: the client reconnects with a fresh one and resumes.
  const expiry = setTimeout(
    () => close(CloseCode.Unauthorized, 'token expired: reconnect with a new token and since=<last seq>'),
    Math.min(2 ** 31 - 1, Math.max(0, user.expiresAt * 1000 - Date.now())),
  ).unref();

  const handleFrame = createFrameHandler({
    user,
    limits: deps.limits,
    actions: deps.actions,
    logger: deps.logger,
    send: (text) => void send(text),
    joinedNow: (roomId) => audience.joined.has(roomId),
  });

  async function loadMembership(): Promise<void> {
    const m = await deps.log.membershipAt(user.userId, position);
    audience.joined = new Set([...m].filter(([, membership]) => membership === 'join').map(([roomId]) => roomId));
  }

  /** Rooms the homeserver says the user is in and the log has never seen them join (e.g. before the relay existed). */
  async function baseline(): Promise<void> {
    try {
      await deps.log.addBaseline(user.userId, await deps.homeserver.joinedRooms(user.userId));
    } catch (err) {
      deps.logger.warn(
        { err, userId: user.userId },
        'relay: could not read joined rooms from the homeserver; using the log alone',
      );
    }
  }

  async function drain(): Promise<void> {
    while (mode !== 'closed' && socket.bufferedAmount > max / 2) await sleep(20);
  }

  async function replay(): Promise<void> {
    while (mode === 'replaying' && position < deps.feed.head) {
      const upTo = deps.feed.head;
      const rooms = new Set([...audience.joined, ...(await deps.log.roomsChangedAfter(user.userId, position))]);
      const rows = rooms.size ? await deps.log.read(position, { upTo, limit: REPLAY_PAGE, rooms: [...rooms] }) : [];
      if ((await deps.log.head()).prunedThrough > position) {
        // Retention caught up with this replay: what was under it may be gone. Say so, go on from now.
        position = deps.feed.head;
        await loadMembership();
        send(frame('resync', { reason: 'beyond_retention', seq: position }));
        continue;
      }
      for (const row of rows) {
        if (mode !== 'replaying') return;
        if (route(audience, row, true)) send(rowFrame(row));
        position = row.seq;
        if (socket.bufferedAmount > max) await drain();
      }
      if (rows.length < REPLAY_PAGE) position = upTo;
    }
  }

  return {
    user,
    async start(since) {
      let timer: NodeJS.Timeout | undefined;
      const ready = await Promise.race([
        deps.feed.ready.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (closed()) return;
      if (!ready) {
        send(errorFrame('OM_UNAVAILABLE', 'the event log is unavailable; reconnect shortly'));
        close(CloseCode.Internal, 'event log unavailable');
        return;
      }
      await baseline();
      const head = await deps.log.head();
      position = deps.feed.head;
      let resync: string | null = null;
      if (since !== null) {
        if (since < head.prunedThrough) resync = 'beyond_retention';
        else if (since > head.last) resync = 'unknown_position';
        else position = since;
      }
      await loadMembership();
      const rooms = await deps.actions.roomsInfo(user.tenant, [...audience.joined]);
      if (closed()) return;
      const limits = {
        maxMessageBytes: deps.limits.maxMessageBytes,
        ratePerSecond: deps.limits.ratePerSecond,
        rateBurst: deps.limits.rateBurst,
      };
      send(
        frame('hello', {
          protocol: PROTOCOL,
          tenant: user.tenant,
          user: user.userSlug,
          userId: user.userId,
          seq: position,
          rooms,
          limits,
        }),
      );
      if (resync) send(frame('resync', { reason: resync, seq: position }));
      mode = 'replaying';
      await replay();
      if (closed()) return;
      // No await between the last check of feed.head and this switch: every later row is delivered live.
      mode = 'live';
      send(frame('live', { seq: position }));
    },
    deliver(rows) {
      if (mode !== 'live') return;
      for (const row of rows) {
        if (row.seq <= position) continue;
        position = row.seq;
        if (route(audience, row, false) && !send(rowFrame(row))) return;
      }
    },
    receive(data) {
      if (mode !== 'closed') handleFrame(data);
    },
    close,
    end,
  };
}
