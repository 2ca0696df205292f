import type { Client } from '@temporalio/client';
import type { RawData, WebSocket } from 'ws';
import type { Db } from '../../adapters/store/db.js';
import { createEventLog, type EventLog } from '../../adapters/store/events.js';
import type { Config } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import { createRelayActions, type RelayActions } from './actions.js';
import { createDirectSends } from './direct-send.js';
import { createLogFeed, type LogFeed } from './feed.js';
import { createRelayHomeserver, type RelayHomeserver } from './homeserver.js';
import { RelayLimits } from './limits.js';
import { CloseCode } from './protocol.js';
import { createSentWaiters } from './sent.js';
import { createSession, type Session, type SessionDeps } from './session.js';
import { createTxnGapWatch, type TxnGapWatch } from './txn-gaps.js';
import { UNREAD_TIMEOUT_MS, unreadWatchFor } from './unread.js';
import type { UserPrincipal } from './user-auth.js';
import { runFrame } from '../request-context.js';
import { refuse, SHUTDOWN_RETRY_MS, SHUTTING_DOWN } from './refusals.js';
import { createUserDirectory, type UserDirectory } from '../user-directory.js';
import { signerFor } from '../media/event-media.js';
import { renewThroughWorkflow } from '../renewing-reads.js';

export { dropUnanswered, SHUTTING_DOWN } from './refusals.js';

/** How often old events are pruned (each instance; pruning is idempotent). */
const PRUNE_EVERY_MS = 10 * 60 * 1000;
/** Attempts to have the homeserver ping us at start (it then flushes what it queued meanwhile). */
const PING_ATTEMPTS = 24;
const PING_RETRY_MS = 5_000;
/**
 * After a transaction is refused to sweep a gap, when to ping: by then Synapse has started its
 * recovery, which the ping makes run at once (else it waits 2 s).
 */
const RESEND_PING_DELAY_MS = 250;
/** How often sockets are checked for an expired token (a socket outlives its token by at most this). */
const EXPIRY_SWEEP_MS = 1_000;
/** On shutdown, how long clients get to answer the close frame. */
const CLOSE_WAIT_MS = 1_000;
/** This instance's sockets and the feed that serves them. */
export interface RelayHub {
  readonly log: EventLog;
  readonly feed: LogFeed;
  readonly actions: RelayActions;
  readonly homeserver: RelayHomeserver;
  /** Who a user JWT's user is on the homeserver (their binding). */
  readonly users: UserDirectory;
  /** Watches the homeserver's transaction ids for ones it holds back (decision 0020). */
  readonly gaps: TxnGapWatch;
  /** After refusing a transaction: has the homeserver retry what it holds at once. */
  requestResend(): void;
  /** Number of open sockets. */
  readonly size: number;
  /** Sockets per user and per address, handshake rates, and the refusals counted by limit. */
  readonly limits: RelayLimits;
  /** False once `close` has begun: new sockets are refused (decision 0023). */
  readonly accepting: boolean;
  /**
   * Takes over an authenticated WebSocket from `address`, or refuses it (an `error` frame, then
   * 4429, or 1001 once closing) when the user or the address already holds as many as allowed.
   */
  open(ws: WebSocket, user: UserPrincipal, since: number | null, address?: string): Session | null;
  /** Starts the feed, keepalive and pruning; `requestPing` asks Synapse to retry its backlog now. */
  start(opts?: { requestPing?: boolean }): void;
  /** Refuses new sockets, closes every open one (1001: reconnect elsewhere and resume) and stops. */
  close(): Promise<void>;
}

export function createRelayHub(deps: { config: Config; db: Db; temporal: Client; logger: Logger }): RelayHub {
  const { config, logger } = deps;
  const log = createEventLog(deps.db, { serviceUserId: `@${config.matrix.botLocalpart}:${config.matrix.serverName}` });
  const homeserver = createRelayHomeserver(config);
  const users = createUserDirectory(config, deps.db);
  // Sends answered as soon as the worker says the homeserver has them (decision 0018).
  const sent = createSentWaiters();
  // Sends made by the API itself, the workflow as their retry path (decision 0036).
  const direct = createDirectSends(config, deps.db);
  const actions = createRelayActions({ config, db: deps.db, temporal: deps.temporal, log, homeserver, sent, direct });
  const sessions = new Map<WebSocket, Session>();
  const unread = unreadWatchFor(config, deps.db, logger, () => sessions.values(), renewThroughWorkflow(deps.temporal, config, UNREAD_TIMEOUT_MS));
  const limits = new RelayLimits(config.relay);
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const gaps = createTxnGapWatch({ enabled: config.relay.gapSweep, seed: () => log.lastTransactionNumber() });
  let resendPing: NodeJS.Timeout | null = null;

  const feed = createLogFeed({
    databaseUrl: config.databaseUrl,
    limits: config.database,
    log,
    logger,
    hasListeners: () => sessions.size > 0,
    dispatch: (rows) => {
      for (const session of [...sessions.values()]) session.deliver(rows);
      unread.notice(rows);
    },
    onSent: (payload) => sent.deliver(payload),
    // The database is back: have Synapse resend now what we refused meanwhile, not after its back-off.
    onReconnect: () => hub.requestResend(),
  });

  // One set of listeners for every socket (`this` is the socket), and one deps object for every
  // session: an idle socket costs its fields, not a copy of these (decision 0017).
  const sessionDeps: SessionDeps = {
    ...{ log, feed, actions, homeserver, users, logger, unread },
    limits: config.relay,
    refused: (limit) => limits.refused(limit),
    media: signerFor(config),
  };
  const forget = (session: Session): void => {
    if (sessions.delete(session.socket as WebSocket)) limits.close(session.user.userId, session.address);
  };
  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    // Whatever handling one frame throws is that socket's M_UNKNOWN error frame, logged with the
    // frame's request id; it never reaches the process (issue #15).
    runFrame(
      logger,
      (text) => this.readyState === this.OPEN && this.send(text),
      // Text frames as strings; binary ones are refused by the frame handler.
      () => sessions.get(this)?.receive(isBinary ? data : data.toString()),
    );
  }
  function onClose(this: WebSocket): void {
    sessions.get(this)?.end();
  }
  function onPong(this: WebSocket): void {
    const session = sessions.get(this);
    if (session) session.alive = true;
  }

  function keepalive(): void {
    for (const [ws, session] of sessions) {
      // ping() throws on a socket already closing; its close event removes it.
      if (ws.readyState !== ws.OPEN) continue;
      if (!session.alive) {
        // No pong since the last ping: the peer is gone without a close.
        session.end();
        ws.terminate();
        continue;
      }
      session.alive = false;
      ws.ping();
    }
  }

  /** Sockets whose token has expired are closed (4401): the client reconnects with a new one. */
  function expire(): void {
    const now = Date.now();
    // A closed session leaves the map while we walk it: Map iteration allows that, no copy needed.
    for (const session of sessions.values()) session.expireBy(now);
  }

  async function prune(): Promise<void> {
    try {
      const cutoff = new Date(Date.now() - config.relay.retentionHours * 3_600_000);
      const r = await log.prune(cutoff);
      if (r.events > 0) logger.info(r, 'relay: pruned events past retention');
    } catch (err) {
      logger.warn({ err }, 'relay: pruning failed; trying again later');
    }
  }

  async function requestPing(): Promise<void> {
    for (let i = 0; i < PING_ATTEMPTS && !stopped; i++) {
      try {
        await homeserver.requestPing();
        logger.info('relay: the homeserver reached the appservice endpoint');
        return;
      } catch (err) {
        logger.debug({ err }, 'relay: appservice ping failed; retrying');
        await new Promise((r) => setTimeout(r, PING_RETRY_MS));
      }
    }
  }

  const hub: RelayHub = {
    log,
    feed,
    actions,
    homeserver,
    users,
    gaps,
    requestResend() {
      if (resendPing || stopped) return;
      resendPing = setTimeout(() => {
        resendPing = null;
        homeserver.requestPing().catch((err: unknown) => {
          // Synapse retries on its own 2 s later.
          logger.debug({ err }, 'relay: ping after a refused transaction failed');
        });
      }, RESEND_PING_DELAY_MS);
    },
    get size() {
      return sessions.size;
    },
    limits,
    get accepting() {
      return !stopped;
    },
    open(ws, user, since, address = '') {
      if (stopped) {
        refuse(ws, CloseCode.GoingAway, { error: SHUTTING_DOWN, retryAfterMs: SHUTDOWN_RETRY_MS });
        return null;
      }
      const refusal = limits.admit(user.userId, address);
      if (refusal) {
        refuse(ws, CloseCode.LimitExceeded, refusal);
        return null;
      }
      const session = createSession(ws, user, sessionDeps, forget, address);
      sessions.set(ws, session);
      limits.open(user.userId, address);
      ws.on('message', onMessage);
      ws.on('close', onClose);
      // An error is followed by 'close'; a listener must exist or the socket's error would throw.
      ws.on('error', onClose);
      ws.on('pong', onPong);
      session.start(since).catch((err: unknown) => {
        logger.error({ err, userId: user.userId }, 'relay: socket start failed');
        session.close(CloseCode.Internal, 'internal error');
      });
      return session;
    },
    start(opts = {}) {
      feed.start();
      timers.push(setInterval(keepalive, config.relay.pingIntervalMs));
      timers.push(setInterval(expire, EXPIRY_SWEEP_MS));
      timers.push(setInterval(() => void prune(), PRUNE_EVERY_MS));
      void prune();
      if (opts.requestPing) void requestPing();
    },
    async close() {
      stopped = true;
      unread.close();
      timers.forEach(clearInterval);
      if (resendPing) clearTimeout(resendPing);
      const sockets = [...sessions.keys()];
      for (const session of [...sessions.values()]) session.close(CloseCode.GoingAway, SHUTTING_DOWN);
      await feed.close();
      // A peer that does not answer the close handshake would hold the shutdown for ws's 30 s.
      if (sockets.some((ws) => ws.readyState !== ws.CLOSED)) await new Promise((r) => setTimeout(r, CLOSE_WAIT_MS));
      for (const ws of sockets) if (ws.readyState !== ws.CLOSED) ws.terminate();
    },
  };
  return hub;
}
