/**
 * Unread counts, live (decision 0045): when the feed brings a message, a redaction or a read
 * receipt into a room, each user with a socket on this instance who is joined to it gets an
 * `unread` frame on every one of their sockets, with the count the homeserver keeps for them. The
 * rooms touched within a short pause are collected, then each such user is asked once (one
 * filtered `/sync` as the user over exactly those rooms), a few users at a time.
 * Nothing is kept per user between flushes: no sync tokens, no counts.
 */
import { identityFor, type Identity } from '../../adapters/identity/index.js';
import { roomSummariesAs, type RoomSummary } from '../../adapters/matrix/room-summaries.js';
import type { Db } from '../../adapters/store/db.js';
import type { LogRow } from '../../adapters/store/events.js';
import { createUserStore } from '../../adapters/store/users.js';
import type { Config } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { ENCRYPTED_EVENT, frame } from './protocol.js';
import type { Session, SessionDeps } from './session-contract.js';
import { renewingReads, type RenewCredential } from '../renewing-reads.js';

/** How long touched rooms are collected before the counts are read (a burst is read once). */
export const UNREAD_PAUSE_MS = 250;
/** Users whose counts are read at once, per instance. */
export const UNREAD_CONCURRENCY = 4;
/** The time one read of a user's counts may take (the hello waits for it). */
export const UNREAD_TIMEOUT_MS = 3_000;

const MOVES_COUNTS = new Set(['m.room.message', ENCRYPTED_EVENT, 'm.sticker', 'm.room.redaction']);

interface Touched {
  kind: string | null;
  slug: string | null;
  /** Users whose receipt moved; `all`: every member (a message). */
  users: Set<string> | 'all';
}

export interface UnreadWatch {
  /** The user's summaries (of `rooms` only, when given); null when the homeserver cannot say now. */
  summaries(session: Pick<Session, 'user'>, rooms?: readonly string[]): Promise<Map<string, RoomSummary> | null>;
  /** Rows the feed delivered to this instance. */
  notice(rows: readonly LogRow[]): void;
  /** Drops what is pending (shutdown). */
  close(): void;
}

/** The users whose read receipts an `m.receipt` event moves. */
export function receiptReaders(event: Record<string, unknown>): string[] {
  const readers = new Set<string>();
  for (const receipts of Object.values((event.content ?? {}) as Record<string, unknown>)) {
    for (const [type, users] of Object.entries((receipts ?? {}) as Record<string, unknown>))
      if (type.startsWith('m.read')) for (const u of Object.keys((users ?? {}) as object)) readers.add(u);
  }
  return [...readers];
}

/** The `unread` frame of one room. */
export function unreadFrame(roomId: string, t: Pick<Touched, 'kind' | 'slug'>, s: RoomSummary): string {
  return frame('unread', { room: { id: roomId, kind: t.kind, slug: t.slug }, ...s });
}

export function createUnreadWatch(deps: {
  identity: Identity;
  homeserverUrl: string;
  logger: Logger;
  /** This instance's open sockets. */
  sessions: () => Iterable<Session>;
}): UnreadWatch {
  let pending = new Map<string, Touched>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  // One read per user at a time for `hello`: a user opening many sockets at once (tabs restored, a
  // reconnect storm) costs the homeserver one sync, not one per socket.
  const hellos = new Map<string, Promise<Map<string, RoomSummary> | null>>();
  async function read(session: Pick<Session, 'user'>, rooms?: readonly string[]) {
    try {
      const { tenant, userSlug, userId } = session.user;
      const user = { tenant, slug: userSlug, userId };
      return await roomSummariesAs(deps.identity, deps.homeserverUrl, user, { rooms, timeoutMs: UNREAD_TIMEOUT_MS });
    } catch (err) {
      deps.logger.warn({ err, userId: session.user.userId }, 'relay: could not read unread counts from the homeserver');
      return null;
    }
  }

  const watch: UnreadWatch = {
    summaries(session, rooms) {
      if (!session.user.canActAs) return Promise.resolve(null);
      if (rooms) return read(session, rooms);
      const key = session.user.userId;
      let shared = hellos.get(key);
      if (!shared) {
        shared = read(session).finally(() => hellos.delete(key));
        hellos.set(key, shared);
      }
      return shared;
    },
    notice(rows) {
      if (closed) return;
      for (const row of rows) {
        const moves = row.ephemeral ? row.type === 'm.receipt' : MOVES_COUNTS.has(row.type);
        if (!moves || row.tenant === null) continue;
        const t = pending.get(row.roomId) ?? { kind: row.kind, slug: row.slug, users: new Set<string>() };
        if (!row.ephemeral) t.users = 'all';
        else if (t.users !== 'all') for (const u of receiptReaders(row.event)) t.users.add(u);
        pending.set(row.roomId, t);
      }
      if (pending.size > 0 && !timer) timer = setTimeout(schedule, UNREAD_PAUSE_MS);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      pending = new Map();
    },
  };

  function schedule(): void {
    timer = null;
    const touched = pending;
    pending = new Map();
    // One flush at a time: rooms touched meanwhile wait for the next.
    running = running
      .then(() => flush(touched))
      .catch((err: unknown) => {
        deps.logger.warn({ err }, 'relay: unread counts not updated');
      });
  }

  async function flush(touched: Map<string, Touched>): Promise<void> {
    // Each connected user joined to a touched room (whose receipt moved, for a receipt): their rooms.
    const byUser = new Map<string, { sessions: Session[]; rooms: Set<string> }>();
    for (const session of deps.sessions()) {
      for (const [roomId, t] of touched) {
        if (!session.joined.has(roomId) || (t.users !== 'all' && !t.users.has(session.user.userId))) continue;
        const u = byUser.get(session.user.userId) ?? { sessions: [], rooms: new Set<string>() };
        if (!u.sessions.includes(session)) u.sessions.push(session);
        u.rooms.add(roomId);
        byUser.set(session.user.userId, u);
      }
    }
    const queue = [...byUser.values()];
    const worker = async (): Promise<void> => {
      for (let u = queue.shift(); u && !closed; u = queue.shift()) {
        const summaries = await watch.summaries(u.sessions[0]!, [...u.rooms]);
        if (!summaries) continue;
        for (const [roomId, s] of summaries) {
          const text = unreadFrame(roomId, touched.get(roomId) ?? { kind: null, slug: null }, s);
          for (const session of u.sessions) session.notify(text);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(UNREAD_CONCURRENCY, queue.length) }, worker));
  }

  return watch;
}

const NOTHING_YET: RoomSummary = { unread: 0, highlights: 0, unreadCapped: false, lastMessage: null };

/** A room as the room list shows it: its names, the user's unread count and the last message. */
export type ListedRoom<R> = R & {
  unread: number | null;
  highlights: number | null;
  unreadCapped: boolean | null;
  lastMessage: RoomSummary['lastMessage'];
};

/**
 * The rooms with their summaries (counts null when the homeserver could not say; a room the
 * summaries leave out has none unread and no message), the most
 * recently active first, then those without a message in the order given.
 */
export function withSummaries<R extends { roomId: string }>(
  rooms: readonly R[],
  summaries: Map<string, RoomSummary> | null,
): ListedRoom<R>[] {
  const listed = rooms.map((r) => {
    // Synapse leaves a room without any message out of the filtered sync: nothing unread, no last message.
    const s = summaries ? (summaries.get(r.roomId) ?? NOTHING_YET) : null;
    return {
      ...r,
      unread: s?.unread ?? null,
      highlights: s?.highlights ?? null,
      unreadCapped: s?.unreadCapped ?? null,
      lastMessage: s?.lastMessage ?? null,
    };
  });
  const ts = (r: ListedRoom<R>): number => r.lastMessage?.ts ?? -1;
  return listed
    .map((r, i) => ({ r, i }))
    .sort((a, b) => ts(b.r) - ts(a.r) || a.i - b.i)
    .map(({ r }) => r);
}

/** The watch acting as users through the configured identity mode (both modes); `sessions`: none for the HTTP route. */
export function unreadWatchFor(
  config: Config,
  db: Db,
  logger: Logger,
  sessions: () => Iterable<Session> = () => [],
  renew?: RenewCredential,
): UnreadWatch {
  const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
  // Only actAs is used: in admin mode that reads the user's stored token, never the Admin API; a
  // refused one is renewed through `renew` and the counts read again.
  const identity = renewingReads(identityFor(config, createUserStore(db, cipher)).identity, renew);
  return createUnreadWatch({ identity, homeserverUrl: config.matrix.homeserverUrl, logger, sessions });
}

/** `hello`'s rooms: the user's joined rooms, with their counts and last messages when the watch is on. */
export async function helloRooms(
  deps: Pick<SessionDeps, 'actions' | 'unread'>,
  session: Pick<Session, 'user'>,
  tenant: string,
  joined: string[],
): Promise<unknown[]> {
  const [rooms, summaries] = await Promise.all([
    deps.actions.roomsInfo(tenant, joined),
    deps.unread?.summaries(session) ?? null,
  ]);
  return deps.unread ? withSummaries(rooms, summaries) : rooms;
}
