import type { LogRow } from '../../adapters/store/events.js';
import { createFrameHandler } from './client-frames.js';
import { CloseCode, errorFrame, frame, PROTOCOL, rowFrame } from './protocol.js';
import { withMediaUrls } from '../media/event-media.js';
import { route, type Audience } from './routing.js';
import type { Session, SessionDeps, SocketLike } from './session-contract.js';
import { helloRooms } from './unread.js';
import type { UserPrincipal } from './user-auth.js';

export type { Session, SessionDeps, SocketLike } from './session-contract.js';

const REPLAY_PAGE = 500;
const READY_TIMEOUT_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Mode = 'starting' | 'replaying' | 'live' | 'closed';

/**
 * One socket: bound to one user of one tenant. Its position is the last sequence it has
 * processed; membership is tracked from the log at that position, so a join or removal takes
 * effect exactly where it happened. Replay (after a resume, or while catching up to this instance's
 * feed) reads the database page by page and waits for the client to drain; once caught up it
 * switches to live rows synchronously, so nothing falls between the two. Live, a socket whose
 * unread data exceeds the limit is cut off (4408): it resumes from its last sequence. Answers to
 * the client's own frames are bounded the same way in every mode (a client that floods and reads
 * nothing while it replays is cut off too); the replay keeps to the lower half of the buffer.
 *
 * A class, not a closure: an idle socket is most of what a relay holds (decision 0017), so its
 * state is a handful of fields, its methods are shared, and what only a talking client needs (the
 * frame handler, its rate limiter and caches) is made on its first frame. The token's expiry is
 * checked by the hub's sweep rather than by a timer per socket.
 */
class RelaySession implements Session, Audience {
  readonly userId: string;
  readonly tenant: string;
  /** The rooms the user is joined to at `position`. */
  joined = new Set<string>();
  alive = true;
  private mode: Mode = 'starting';
  private position = 0;
  private handler: ((data: unknown) => void) | null = null;
  /** Ends the waits of this socket's sends when it closes; made with the frame handler. */
  private ended: AbortController | null = null;

  constructor(
    readonly socket: SocketLike,
    readonly user: UserPrincipal,
    private readonly deps: SessionDeps,
    private readonly onEnd: (session: Session) => void,
    readonly address: string,
  ) {
    this.userId = user.userId;
    this.tenant = user.tenant;
  }

  /** A method, not an inline comparison: the socket can close during any await of start(). */
  private isClosed(): boolean {
    return this.mode === 'closed';
  }

  /**
   * Sends a live row or an answer to the client's own frame. In every mode, not only live: a
   * client that floods frames while it is replaying and reads nothing would otherwise have its
   * answers held in memory without bound (the replay waits for it to drain, forever).
   */
  private send(text: string): boolean {
    if (this.mode === 'closed') return false;
    if (this.socket.bufferedAmount > this.deps.limits.maxBufferedBytes) {
      this.deps.refused?.('buffered_bytes');
      this.close(CloseCode.SlowConsumer, 'slow consumer: reconnect with since=<last seq>');
      return false;
    }
    this.socket.send(text);
    return true;
  }

  /**
   * Sends what the server paces itself (hello, resync, replayed rows, live): the replay waits for
   * the client to drain before each row instead, so a slow client is waited for, not cut off.
   */
  private write(text: string): void {
    if (this.mode !== 'closed') this.socket.send(text);
  }

  close(code: number, reason: string): void {
    if (this.mode === 'closed') return;
    this.end();
    this.socket.close(code, reason);
  }

  end(): void {
    if (this.mode === 'closed') return;
    this.mode = 'closed';
    this.ended?.abort();
    this.onEnd(this);
  }

  expireBy(nowMs: number): boolean {
    // A socket lives no longer than its token: the client reconnects with a fresh one and resumes.
    if (this.mode === 'closed' || this.user.expiresAt * 1000 > nowMs) return false;
    this.close(CloseCode.Unauthorized, 'token expired: reconnect with a new token and since=<last seq>');
    return true;
  }

  private async loadMembership(): Promise<void> {
    const m = await this.deps.log.membershipAt(this.userId, this.position);
    this.joined = new Set([...m].filter(([, membership]) => membership === 'join').map(([roomId]) => roomId));
  }

  /** Rooms the homeserver says the user is in and the log has never seen them join (e.g. before the relay existed). */
  private async baseline(): Promise<void> {
    try {
      const { users } = this.deps;
      const among = users ? () => users.memberRooms(this.tenant, this.user.userSlug) : undefined;
      await this.deps.log.addBaseline(this.userId, await this.deps.homeserver.joinedRooms(this.userId, among));
    } catch (err) {
      this.deps.logger.warn(
        { err, userId: this.userId },
        'relay: could not read joined rooms from the homeserver; using the log alone',
      );
    }
  }

  /** Waits until a quarter of the limit is left unread: room for many rows before the next wait. */
  private async drain(): Promise<void> {
    const quarter = this.deps.limits.maxBufferedBytes / 4;
    while (!this.isClosed() && this.socket.bufferedAmount > quarter) await sleep(20);
  }

  private async replay(): Promise<void> {
    const { log, feed, limits } = this.deps;
    while (this.mode === 'replaying' && this.position < feed.head) {
      const upTo = feed.head;
      const rooms = new Set([...this.joined, ...(await log.roomsChangedAfter(this.userId, this.position))]);
      const rows = rooms.size ? await log.read(this.position, { upTo, limit: REPLAY_PAGE, rooms: [...rooms] }) : [];
      if ((await log.head()).prunedThrough > this.position) {
        // Retention caught up with this replay: what was under it may be gone. Say so, go on from now.
        this.position = feed.head;
        await this.loadMembership();
        this.write(frame('resync', { reason: 'beyond_retention', seq: this.position }));
        continue;
      }
      for (const row of rows) {
        // The replay keeps to the lower half of the buffer: the upper half is for answers to the
        // client's own frames, which a client that reads nothing fills until it is cut off (send).
        if (this.socket.bufferedAmount > limits.maxBufferedBytes / 2) await this.drain();
        if (this.mode !== 'replaying') return;
        if (route(this, row, true)) this.write(this.frameOf(row));
        this.position = row.seq;
      }
      if (rows.length < REPLAY_PAGE) this.position = upTo;
    }
  }

  async start(since: number | null): Promise<void> {
    const { log, feed, limits: relayLimits } = this.deps;
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      feed.ready.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (this.isClosed()) return;
    if (!ready) {
      this.write(errorFrame('OM_UNAVAILABLE', 'the event log is unavailable; reconnect shortly'));
      this.close(CloseCode.Internal, 'event log unavailable');
      return;
    }
    await this.baseline();
    const head = await log.head();
    this.position = feed.head;
    let resync: string | null = null;
    if (since !== null) {
      if (since < head.prunedThrough) resync = 'beyond_retention';
      else if (since > head.last) resync = 'unknown_position';
      else this.position = since;
    }
    await this.loadMembership();
    const rooms = await helloRooms(this.deps, this, this.tenant, [...this.joined]);
    if (this.isClosed()) return;
    const { maxMessageBytes, ratePerSecond, rateBurst } = relayLimits;
    const limits = { maxMessageBytes, ratePerSecond, rateBurst };
    this.write(
      frame('hello', {
        protocol: PROTOCOL,
        tenant: this.tenant,
        user: this.user.userSlug,
        userId: this.userId,
        seq: this.position,
        rooms,
        limits,
      }),
    );
    if (resync) this.write(frame('resync', { reason: resync, seq: this.position }));
    this.mode = 'replaying';
    await this.replay();
    if (this.isClosed()) return;
    // No await between the last check of feed.head and this switch: every later row is delivered live.
    this.mode = 'live';
    this.write(frame('live', { seq: this.position }));
  }

  /** The row's frame for this user: the shared one, unless a media event needs URLs signed for them. */
  private frameOf(row: LogRow): string {
    const signer = this.deps.media;
    if (!signer || row.ephemeral) return rowFrame(row);
    const event = withMediaUrls(row.event, row.roomId, this.userId, signer);
    return event === row.event ? rowFrame(row) : rowFrame(row, event);
  }

  deliver(rows: readonly LogRow[]): void {
    if (this.mode !== 'live') return;
    for (const row of rows) {
      if (row.seq <= this.position) continue;
      this.position = row.seq;
      if (route(this, row, false) && !this.send(this.frameOf(row))) return;
    }
  }

  notify(text: string): void {
    if (this.mode === 'replaying' || this.mode === 'live') this.send(text);
  }

  receive(data: unknown): void {
    if (this.mode === 'closed') return;
    this.ended ??= new AbortController();
    this.handler ??= createFrameHandler({
      user: this.user,
      limits: this.deps.limits,
      actions: this.deps.actions,
      logger: this.deps.logger,
      send: (text) => void this.send(text),
      joinedNow: (roomId) => this.joined.has(roomId),
      closed: this.ended.signal,
      refused: this.deps.refused,
    });
    this.handler(data);
  }
}

export function createSession(
  socket: SocketLike,
  user: UserPrincipal,
  deps: SessionDeps,
  onEnd: (session: Session) => void = () => undefined,
  address = '',
): Session {
  return new RelaySession(socket, user, deps, onEnd, address);
}
