import { serve } from '@hono/node-server';
import { connectTemporal } from '../adapters/temporal.js';
import type { Server } from 'node:http';
import { createDb } from '../adapters/store/db.js';
import { configOrExit, loadApiConfig } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { htmlSanitizer } from '../lib/rich-text.js';
import { createApp } from './app.js';
import { createRelayHub } from './relay/hub.js';
import { attachRealtime } from './routes/realtime.js';
import { recordEscapedError } from './request-context.js';
import { gracefulServer } from './shutdown.js';

const config = configOrExit(loadApiConfig);
const log = createLogger('api', config.logLevel);
// The last line (issue #15): every entry point answers what it is sent, so nothing should get here;
// what does is logged with the request id it escaped from and counted (api_escaped_errors_total),
// and the process keeps serving everyone else.
process.on('uncaughtException', (err) => recordEscapedError(log, 'uncaughtException', err));
process.on('unhandledRejection', (err) => recordEscapedError(log, 'unhandledRejection', err));
// Loaded on first use (lib/rich-text.ts); a process that cannot load it stops here, not on a message.
htmlSanitizer();
// Lazy: the API starts (and answers /healthz) even while Temporal is still coming up.
const { client: temporal, connection, close: closeTemporal } = await connectTemporal(config, { lazy: true });
// No query at start either: /readyz reports the database until it answers.
const db = createDb(config.databaseUrl, 10, config.database);
// The realtime relay: this instance's sockets, fed from the event log by LISTEN/NOTIFY.
const relay = createRelayHub({ config, db, temporal, logger: log });
const app = createApp({ config, temporal, temporalConnection: connection, db, log, relay });

// Without createServer options, serve() builds a plain node:http server.
const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) => {
  log.info({ url: `http://${info.address}:${info.port}` }, 'api listening');
  // Listening now: have Synapse retry at once what it could not push while we were down.
  relay.start({ requestPing: true });
}) as Server;
// WebSocket upgrades go straight to the relay, not through the app (decision 0017).
attachRealtime(server, { config, relay, logger: log });
const graceful = gracefulServer(server);

const graceMs = config.api.shutdownGraceMs;
/** After the grace period, what releasing the pools may take before the process exits anyway. */
const RELEASE_MS = 2_000;
let stopping = false;
/** Stop accepting, let in-flight requests finish within the grace period, release, exit. */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal, graceMs }, 'api shutting down');
  // Whatever hangs (a pool that does not end, a feed that does not close), the process is gone in time.
  setTimeout(() => {
    log.error({ graceMs }, 'api shutdown overran its grace period: exiting');
    process.exit(1);
  }, graceMs + RELEASE_MS).unref();
  // Sockets first: new ones are refused at once (an error frame, then 1001), open ones closed with
  // 1001; their clients reconnect to another instance and resume.
  const started = Date.now();
  await relay.close();
  // One grace period for both: the requests get what closing the sockets left of it.
  const outcome = await graceful.close(Math.max(0, graceMs - (Date.now() - started)));
  if (outcome === 'forced') log.warn({ graceMs }, 'grace period over: cut the requests still open');
  await Promise.allSettled([closeTemporal(), db.end()]);
  log.info({ outcome }, 'api stopped');
  await new Promise<void>((resolve) => log.flush(() => resolve()));
  process.exit(outcome === 'drained' ? 0 : 1);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
