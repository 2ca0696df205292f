import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { createApp } from './app.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}
const log = createLogger('api', config.logLevel);
// Lazy: the API starts (and answers /healthz) even while Temporal is still coming up.
const connection = Connection.lazy({ address: config.temporal.address });
const temporal = new Client({ connection, namespace: config.temporal.namespace });
const app = createApp({ config, temporal, log });

const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) => {
  log.info({ url: `http://${info.address}:${info.port}` }, 'api listening');
});

function shutdown(signal: string): void {
  log.info({ signal }, 'api shutting down');
  server.close(() => {
    void connection.close().finally(() => process.exit(0));
  });
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
