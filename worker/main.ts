import { NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { createWorkerDependencies } from './dependencies.js';
import { createWorker } from './worker.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}
const log = createLogger('worker', config.logLevel);

const deps = await createWorkerDependencies(config);
const connection = await NativeConnection.connect({ address: config.temporal.address });
// The SDK's runtime shuts the worker down on SIGINT/SIGTERM, letting running activities finish.
const worker = await createWorker({ config, activities: deps.activities, connection });

log.info({ taskQueue: config.temporal.taskQueue, temporal: config.temporal.address }, 'worker running');
await worker.run();
await connection.close();
await deps.db.end();
log.info('worker stopped');
