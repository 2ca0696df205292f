import pg from 'pg';
import { connectionBounds } from '../../activities/store/db.js';
import { LOG_CHANNEL, type EventLog, type LogRow } from '../../activities/store/events.js';
import { SENT_CHANNEL } from '../../activities/store/sent-notices.js';
import { defaultDatabaseConfig, type DatabaseConfig } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';

/** Rows read per query; a burst is dispatched page by page, in order. */
const PAGE = 500;
/** A read every so often even without a notification: NOTIFY is the fast path, not the only one. */
const POLL_MS = 5_000;
/** Kept short: sends wait on the notices this connection hears (the poll only covers the log). */
const RECONNECT_MAX_MS = 5_000;

/**
 * This instance's reader of the event log. A dedicated connection LISTENs for the NOTIFY every
 * stored transaction sends; on each (and on a slow poll) new rows are read in sequence order and
 * handed to `dispatch` synchronously, with `head` moved in the same step: whatever has a sequence
 * above `head` will still be dispatched.
 */
export interface LogFeed {
  /** The last sequence dispatched (or skipped while nobody listened). */
  readonly head: number;
  /** Resolves once `head` is known. */
  readonly ready: Promise<void>;
  start(): void;
  /** Reads now (coalesced with a read in progress). */
  kick(): void;
  close(): Promise<void>;
}

export function createLogFeed(opts: {
  databaseUrl: string;
  /** Bounds on the LISTEN connection's connect and queries (default: the documented defaults). */
  limits?: DatabaseConfig;
  log: EventLog;
  logger: Logger;
  /** Whether any socket is live; with none, the head jumps forward without reading rows. */
  hasListeners: () => boolean;
  dispatch: (rows: LogRow[]) => void;
  /** Payloads of `om_message_sent`, heard on the same connection (api/relay/sent.ts). */
  onSent?: (payload: string | undefined) => void;
  /** Called when LISTEN works again after the connection was lost: the database is back. */
  onReconnect?: () => void;
}): LogFeed {
  let head = -1;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let reading = false;
  let again = false;
  let closed = false;
  let listener: pg.Client | null = null;
  /** Drops `listener` and schedules a new connection. */
  let dropListener: ((err: unknown) => void) | null = null;
  let probing = false;
  /** The LISTEN connection was lost and has not been re-established yet. */
  let lostSince: number | null = null;
  let poll: NodeJS.Timeout | undefined;
  let reconnect: NodeJS.Timeout | undefined;
  let backoff = 500;

  async function readAll(): Promise<void> {
    if (head < 0) {
      head = (await opts.log.head()).last;
      markReady();
    }
    for (;;) {
      if (!opts.hasListeners()) {
        const latest = (await opts.log.head()).last;
        // Re-checked after the await: jumping over rows is only safe while no socket is live.
        if (!opts.hasListeners()) {
          head = Math.max(head, latest);
          return;
        }
      }
      const rows = await opts.log.read(head, { limit: PAGE });
      if (rows.length === 0) return;
      head = rows.at(-1)!.seq;
      opts.dispatch(rows);
      if (rows.length < PAGE) return;
    }
  }

  function kick(): void {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    void (async () => {
      do {
        again = false;
        try {
          await readAll();
        } catch (err) {
          opts.logger.warn({ err }, 'relay: reading the event log failed; retrying on the next notification or poll');
        }
      } while (again && !closed);
      reading = false;
    })();
  }

  async function listen(): Promise<void> {
    if (closed) return;
    const client = new pg.Client({
      connectionString: opts.databaseUrl,
      ...connectionBounds(opts.limits ?? defaultDatabaseConfig()),
    });
    let lost = false;
    const retry = (err: unknown): void => {
      // 'error' and 'end' may both fire for one loss: reconnect once.
      if (lost) return;
      lost = true;
      if (listener === client) listener = null;
      client.removeAllListeners();
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
      if (closed) return;
      lostSince ??= Date.now();
      opts.logger.warn({ err, retryInMs: backoff }, 'relay: LISTEN connection lost; reconnecting');
      reconnect = setTimeout(() => void listen(), backoff);
      backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
    };
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    client.on('notification', (n) => {
      if (n.channel === SENT_CHANNEL) opts.onSent?.(n.payload);
      else kick();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${LOG_CHANNEL}`);
      if (opts.onSent) await client.query(`LISTEN ${SENT_CHANNEL}`);
      listener = client;
      dropListener = retry;
      backoff = 500;
      // Anything stored while we were not listening is read now.
      kick();
      if (lostSince !== null) {
        opts.logger.info({ downMs: Date.now() - lostSince }, 'relay: LISTEN connection re-established');
        lostSince = null;
        opts.onReconnect?.();
      }
    } catch (err) {
      retry(err);
    }
  }

  /**
   * A LISTEN connection hears nothing when the server is paused or the network is cut without a
   * FIN, and nothing ends it: a bounded query on it, each poll, finds such a connection dead, and
   * it is replaced (the new one reads everything missed meanwhile).
   */
  function probe(): void {
    const client = listener;
    const drop = dropListener;
    if (!client || !drop || closed || probing) return;
    probing = true;
    client.query('SELECT 1').then(
      () => (probing = false),
      (err: unknown) => {
        probing = false;
        if (listener === client) drop(err);
      },
    );
  }

  return {
    get head() {
      return head;
    },
    ready,
    start() {
      void listen();
      poll = setInterval(() => {
        kick();
        probe();
      }, POLL_MS);
      kick();
    },
    kick,
    async close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(reconnect);
      const c = listener;
      listener = null;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
