/**
 * What the hub and a session know of each other: the session's face, its socket, its dependencies.
 * Apart from the session itself (session.ts), which is the relay's largest piece.
 */
import type { EventLog, LogRow } from '../../adapters/store/events.js';
import type { RelayConfig } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import type { RelayActions } from './actions.js';
import type { LogFeed } from './feed.js';
import type { RelayHomeserver } from './homeserver.js';
import type { LimitName } from './limits.js';
import type { RoomSummary } from '../../adapters/matrix/room-summaries.js';
import type { UserPrincipal } from './user-auth.js';
import type { UserDirectory } from '../user-directory.js';
import type { MediaUrlSigner } from '../media/signed-urls.js';

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
  /** The rooms a user is a desired member of: where to look for an account the appservice cannot assert. */
  users?: Pick<UserDirectory, 'memberRooms'>;
  limits: RelayConfig;
  logger: Logger;
  /** Counts a limit this socket ran into (for `/metrics`). */
  refused?: (limit: LimitName) => void;
  /** Signs the download URLs of media events for the socket's user; absent: media is off. */
  media?: MediaUrlSigner | null;
  /** The user's unread counts and last messages for `hello` (decision 0045); without, none are listed. */
  unread?: {
    summaries(session: Pick<Session, 'user'>, rooms?: readonly string[]): Promise<Map<string, RoomSummary> | null>;
  };
}

export interface Session {
  readonly user: UserPrincipal;
  readonly socket: SocketLike;
  /** The client address the socket counts against (limits.ts). */
  readonly address: string;
  /** Sends `hello`, replays what the client missed since `since` (or nothing), then goes live. */
  start(since: number | null): Promise<void>;
  /** Live rows from this instance's feed, in order. */
  deliver(rows: readonly LogRow[]): void;
  /** The rooms the user is joined to at the socket's position. */
  readonly joined: ReadonlySet<string>;
  /** A frame outside the log's order (`unread`): sent once `hello` is, dropped before. */
  notify(text: string): void;
  /** A frame from the client. */
  receive(data: unknown): void;
  close(code: number, reason: string): void;
  /** The socket is gone (either side closed it). */
  end(): void;
  /** Closes the socket (4401) once its token has expired; says whether it did. */
  expireBy(nowMs: number): boolean;
  /** Keepalive: cleared when pinged, set again by the pong; still false at the next ping = peer gone. */
  alive: boolean;
}
