import type { Client } from '@temporalio/client';
import type { WebSocket } from 'ws';
import type { Db } from '../../activities/store/db.js';
import { createEventLog, type EventLog } from '../../activities/store/events.js';
import type { Config } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import { createRelayActions, type RelayActions } from './actions.js';
import { createLogFeed, type LogFeed } from './feed.js';
import { createRelayHomeserver, type RelayHomeserver } from './homeserver.js';
import { CloseCode } from './protocol.js';
import { createSession, type Session } from './session.js';
import type { UserPrincipal } from './user-auth.js';

/** How often old events are pruned (each instance; pruning is idempotent). */
const PRUNE_EVERY_MS = 10 * 60 * 1000;
/** Attempts to have the homeserver ping us at start (it then flushes what it queued meanwhile). */
const PING_ATTEMPTS = 24;
const PING_RETRY_MS = 5_000;
/** On shutdown, how long clients get to answer the close frame. */
const CLOSE_WAIT_MS = 1_000;

/** This instance's sockets and the feed that serves them. */
export interface RelayHub {
  readonly log: EventLog;
  readonly feed: LogFeed;
  readonly actions: RelayActions;
  readonly homeserver: RelayHomeserver;
  /** Number of open sockets. */
  readonly size: number;
  /** Takes over an authenticated WebSocket. */
  open(ws: WebSocket, user: UserPrincipal, since: number | null): Session;
  /** Starts the feed, keepalive and pruning; `requestPing` asks Synapse to retry its backlog now. */
  start(opts?: { requestPing?: boolean }): void;
  /** Closes every socket (1001: reconnect elsewhere and resume) and stops. */
  close(): Promise<void>;
}

export function createRelayHub(deps: { config: Config; db: Db; temporal: Client; logger: Logger }): RelayHub {
  const { config, logger } = deps;
  const log = createEventLog(deps.db);
  const homeserver = createRelayHomeserver(config);
  const actions = createRelayActions({ config, db: deps.db, temporal: deps.temporal, log, homeserver });
  const sessions = new Map<Session, WebSocket>();
  const alive = new WeakMap<WebSocket, boolean>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  const feed = createLogFeed({
    databaseUrl: config.databaseUrl,
    log,
    logger,
    hasListeners: () => sessions.size > 0,
    dispatch: (rows) => {
      for (const session of [...sessions.keys()]) session.deliver(rows);
    },
  });

  function keepalive(): void {
    for (const [session, ws] of sessions) {
      // ping() throws on a socket already closing; its close event removes it.
      if (ws.readyState !== ws.OPEN) continue;
      if (alive.get(ws) === false) {
        // No pong since the last ping: the peer is gone without a close.
        session.end();
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
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

  return {
    log,
    feed,
    actions,
    homeserver,
    get size() {
      return sessions.size;
    },
    open(ws, user, since) {
      const session = createSession(ws, user, { log, feed, actions, homeserver, limits: config.relay, logger }, () =>
        sessions.delete(session),
      );
      sessions.set(session, ws);
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      session.start(since).catch((err: unknown) => {
        logger.error({ err, userId: user.userId }, 'relay: socket start failed');
        session.close(CloseCode.Internal, 'internal error');
      });
      return session;
    },
    start(opts = {}) {
      feed.start();
      timers.push(setInterval(keepalive, config.relay.pingIntervalMs));
      timers.push(setInterval(() => void prune(), PRUNE_EVERY_MS));
      void prune();
      if (opts.requestPing) void requestPing();
    },
    async close() {
      stopped = true;
      timers.forEach(clearInterval);
      const sockets = [...sessions.values()];
      for (const session of [...sessions.keys()])
        session.close(CloseCode.GoingAway, 'server shutting down: reconnect with since=<last seq>');
      await feed.close();
      // A peer that does not answer the close handshake would hold the shutdown for ws's 30 s.
      if (sockets.some((ws) => ws.readyState !== ws.CLOSED)) await new Promise((r) => setTimeout(r, CLOSE_WAIT_MS));
      for (const ws of sockets) if (ws.readyState !== ws.CLOSED) ws.terminate();
    },
  };
}
