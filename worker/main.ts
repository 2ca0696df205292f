import { NativeConnection, Runtime } from '@temporalio/worker';
import { configOrExit, loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { checkReadiness, databaseCheck, homeserverCheck, temporalCheck } from '../adapters/readiness.js';
import { createWorkerDependencies } from './dependencies.js';
import { startWorkerHttp } from './http.js';
import { createWorkerMetrics, freeLoopbackPort } from './metrics.js';
import { sdkLogger } from './sdk-logger.js';
import { createWorker } from './worker.js';
import { startOutboxSweeper } from './outbox-sweeper.js';
import { startWebhookSweeper } from './webhook-sweeper.js';
import { startAuditSweeper } from './audit-sweeper.js';

const config = configOrExit(loadConfig);
const log = createLogger('worker', config.logLevel);

// Before any connection: the SDK's runtime (and its metrics exporter) is created once. Its
// Prometheus exporter listens on loopback only; worker/http.ts re-serves it at /metrics. The
// default shutdownSignals (SIGINT, SIGTERM, SIGQUIT, SIGUSR2) make the runtime shut the worker
// down, letting running activities finish (shutdownGraceTime in worker.ts).
const sdkMetricsPort = await freeLoopbackPort();
Runtime.install({
  logger: sdkLogger(log.child({ component: 'temporal' })),
  telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } },
});
const metrics = createWorkerMetrics(sdkMetricsPort);

let deps;
try {
  deps = await createWorkerDependencies(config, (message) => log.warn(message));
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'worker cannot start');
  console.error(`worker cannot start: ${(err as Error).message}`);
  process.exit(2);
}
const connection = await NativeConnection.connect({ address: config.temporal.address });
const worker = await createWorker({
  config,
  activities: deps.activities,
  connection,
  interceptors: { activity: [metrics.activityInterceptor] },
});

const homeserverUrl = config.matrix.homeserverUrl;
const http = await startWorkerHttp({
  host: config.worker.httpHost,
  port: config.worker.httpPort,
  metrics: metrics.scrape,
  metricsContentType: metrics.contentType,
  readiness: () =>
    checkReadiness({
      database: databaseCheck(deps.db),
      temporal: temporalCheck(connection),
      homeserver: homeserverCheck(homeserverUrl),
      // Unready while draining after SIGTERM: no new work should be routed here.
      worker: async () => {
        const state = worker.getState();
        if (state !== 'RUNNING') throw new Error(`worker is ${state.toLowerCase()}`);
      },
    }),
  onError: (err, path) => log.error({ err, path }, 'worker http request failed'),
});

// Accepted messages their API did not finish (decision 0036): taken up by whichever worker runs.
const sweeper = startOutboxSweeper({ client: deps.client, config, db: deps.db, log: log.child({ component: 'outbox' }) });
// Webhook deliveries recorded with their events: each room's workflow is told (decision 0049).
const webhookSweeper = deps.activities.webhooks
  ? startWebhookSweeper({ client: deps.client, config, webhooks: deps.activities.webhooks, log: log.child({ component: 'webhooks' }) })
  : null;

// The audit trail kept to AUDIT_RETENTION_DAYS (decision 0060).
const auditSweeper = startAuditSweeper({ db: deps.db, config, log: log.child({ component: 'audit' }) });

log.info({ taskQueue: config.temporal.taskQueue, temporal: config.temporal.address, http: http.url }, 'worker running');
try {
  await worker.run();
} finally {
  await Promise.all([sweeper.stop(), webhookSweeper?.stop(), auditSweeper.stop()]);
  await Promise.allSettled([http.close(), connection.close(), deps.close()]);
}
log.info('worker stopped');
