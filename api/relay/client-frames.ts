import type { Logger } from '../../lib/log.js';
import type { RelayConfig } from '../../lib/config.js';
import { ApiError, failureOf, type Failure } from '../errors.js';
import { boundedError } from '../request-context.js';
import type { RelayActions, ResolvedRoom } from './actions.js';
import { TokenBucket, type LimitName } from './limits.js';
import { errorFrame, frame, parseClientFrame, type ClientFrame, type RoomTarget } from './protocol.js';
import type { UserPrincipal } from './user-auth.js';

/** Sends of one socket waiting for their outcome; more are refused until some finish. */
export const MAX_PENDING_SENDS = 100;
/** The same typing state from one socket is passed on at most this often (the workflow enforces 15 s). */
const TYPING_RESIGNAL_MS = 3_000;

export interface FrameContext {
  user: UserPrincipal;
  limits: RelayConfig;
  actions: RelayActions;
  logger: Logger;
  /** Sends a server frame (no-op once the socket is closed). */
  send: (text: string) => void;
  /** The socket's own view of the user's membership (the log at its position). */
  joinedNow: (roomId: string) => boolean;
  /** Aborted when the socket closes: its sends stop waiting for their outcome. */
  closed: AbortSignal;
  /** Counts a limit the client ran into (for `/metrics`). */
  refused?: (limit: LimitName) => void;
}

/** What went wrong, as a socket client is told: the same answer as over HTTP (api/errors.ts `failureOf`). */
export function socketError(err: unknown, logger: Logger): Failure {
  return failureOf(err, ({ err: e }, msg) =>
    logger.error({ error: boundedError(e) }, `relay: frame handling failed: ${msg}`),
  );
}

/** A `delete` or `react` frame done (api/relay/message-changes.ts), and the frame that answers it. */
async function messageChange(
  ctx: FrameContext,
  roomId: string,
  f: Extract<ClientFrame, { type: 'delete' | 'react' }>,
): Promise<string> {
  const ids = f.id === undefined ? {} : { id: f.id };
  const { changes } = ctx.actions;
  if (f.type === 'delete') {
    const { redactionId } = await changes.redact(ctx.user, roomId, f.eventId, f.reason);
    return frame('deleted', { ...ids, roomId, eventId: f.eventId, redactionId });
  }
  if (f.remove) {
    const { reactionIds } = await changes.unreact(ctx.user, roomId, f.eventId, f.key);
    return frame('unreacted', { ...ids, roomId, eventId: f.eventId, key: f.key, reactionIds });
  }
  const { reactionId } = await changes.react(ctx.user, roomId, f.eventId, f.key);
  return frame('reacted', { ...ids, roomId, eventId: f.eventId, key: f.key, reactionId });
}

/** Handles the client → server frames of one socket: limits, parsing, then send / typing / read. */
export function createFrameHandler(ctx: FrameContext): (data: unknown) => void {
  const bucket = new TokenBucket(ctx.limits.ratePerSecond, ctx.limits.rateBurst);
  const rooms = new Map<string, ResolvedRoom>();
  const lastTyping = new Map<string, { typing: boolean; at: number }>();
  let pendingSends = 0;
  // Typing and receipts of one socket reach the workflow in the order the client sent them.
  let ephemeralChain: Promise<void> = Promise.resolve();

  async function resolve(target: RoomTarget): Promise<ResolvedRoom> {
    // A slug is looked up every time: once the room is renamed, the old one answers OM_ROOM_RENAMED.
    if (!('roomId' in target)) return ctx.actions.resolveRoom(ctx.user.tenant, target);
    const known = rooms.get(target.roomId);
    if (known) return known;
    const room = await ctx.actions.resolveRoom(ctx.user.tenant, target);
    if (rooms.size < 1_000) rooms.set(target.roomId, room);
    return room;
  }

  async function joinedRoom(target: RoomTarget): Promise<ResolvedRoom> {
    const room = await resolve(target);
    if (!ctx.joinedNow(room.roomId) && !(await ctx.actions.isJoined(ctx.user.userId, room.roomId))) {
      throw new ApiError('M_FORBIDDEN', `you are not joined to ${room.kind} ${room.slug}`);
    }
    return room;
  }

  const fail = (err: unknown, extra: Record<string, unknown>): void => {
    const { errcode, error, details } = socketError(err, ctx.logger);
    ctx.send(errorFrame(errcode, error, { ...details, ...extra }));
  };
  /** Sends, typing and receipts act as the user: refused for one the service cannot act as. */
  const assertActable = (): void => {
    if (!ctx.user.canActAs)
      throw new ApiError(
        'OM_USER_NOT_MANAGED',
        `the service cannot act as ${ctx.user.userId}: only your own Matrix client can send, type or read for you`,
      );
  };

  return (data) => {
    if (typeof data !== 'string') {
      ctx.send(errorFrame('M_NOT_JSON', 'binary frames are not supported: send JSON text frames'));
      return;
    }
    if (Buffer.byteLength(data) > ctx.limits.maxMessageBytes) {
      ctx.send(errorFrame('M_TOO_LARGE', `frame exceeds ${ctx.limits.maxMessageBytes} bytes`));
      return;
    }
    const wait = bucket.take();
    if (wait > 0) {
      ctx.refused?.('frames_per_socket');
      ctx.send(
        errorFrame(
          'M_LIMIT_EXCEEDED',
          `too many frames: at most ${ctx.limits.ratePerSecond} per second (burst ${ctx.limits.rateBurst})`,
          { retryAfterMs: wait },
        ),
      );
      return;
    }
    const parsed = parseClientFrame(data);
    if (!parsed.ok) {
      ctx.send(errorFrame(parsed.errcode, parsed.error, parsed.id === undefined ? {} : { id: parsed.id }));
      return;
    }
    const f = parsed.frame;
    const ids = f.id === undefined ? {} : { id: f.id };
    if (f.type === 'ping') {
      ctx.send(frame('pong', ids));
      return;
    }
    if (f.type === 'send') {
      if (pendingSends >= MAX_PENDING_SENDS) {
        ctx.send(
          errorFrame('M_LIMIT_EXCEEDED', `more than ${MAX_PENDING_SENDS} sends are waiting for their outcome`, {
            ...ids,
            txnId: f.txnId,
          }),
        );
        return;
      }
      pendingSends += 1;
      void (async () => {
        try {
          assertActable();
          const room = await joinedRoom(f.room);
          const { type: _type, id: _id, room: _target, ...message } = f;
          const ticket = await ctx.actions.send(ctx.user, room, message);
          ctx.send(frame('queued', { ...ids, txnId: f.txnId, workflowId: ticket.workflowId }));
          // Ends with the socket: nobody is left to tell, and the send goes on without us (resume shows it).
          const result = await ticket.result(ctx.closed);
          ctx.send(frame('sent', { ...ids, txnId: f.txnId, roomId: result.roomId, eventId: result.eventId }));
        } catch (err) {
          if (ctx.closed.aborted) return;
          fail(err, { ...ids, txnId: f.txnId });
        } finally {
          pendingSends -= 1;
        }
      })();
      return;
    }
    if (f.type === 'delete' || f.type === 'react') {
      void (async () => {
        try {
          assertActable();
          const room = await joinedRoom(f.room);
          ctx.send(await messageChange(ctx, room.roomId, f));
        } catch (err) {
          if (!ctx.closed.aborted) fail(err, { ...ids, eventId: f.eventId });
        }
      })();
      return;
    }
    ephemeralChain = ephemeralChain.then(async () => {
      try {
        assertActable();
        const room = await joinedRoom(f.room);
        if (f.type === 'typing') {
          const last = lastTyping.get(room.roomId);
          const now = performance.now();
          if (last && last.typing === f.typing && now - last.at < TYPING_RESIGNAL_MS) return;
          lastTyping.set(room.roomId, { typing: f.typing, at: now });
          await ctx.actions.ephemeral(ctx.user, room, { typing: f.typing });
        } else {
          await ctx.actions.ephemeral(ctx.user, room, { readEventId: f.eventId });
        }
      } catch (err) {
        fail(err, ids);
      }
    });
  };
}
