/**
 * The Temporal floor's worker process: the floor workflow and an activity that does nothing, with
 * the service worker's payload codec, on its own task queue (FLOOR_TASK_QUEUE). Its CPU is
 * counted as "floor worker". Prints "floor worker running" when polling.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { dataConverter } from '../../../lib/codec.js';
import { loadConfig } from '../../../lib/config.js';

const config = loadConfig();
const taskQueue = process.env.FLOOR_TASK_QUEUE;
if (!taskQueue) throw new Error('FLOOR_TASK_QUEUE is not set');
const connection = await NativeConnection.connect({ address: config.temporal.address });
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./workflows.js', import.meta.url)),
  activities: { floorActivity: async (): Promise<void> => undefined },
  dataConverter: dataConverter(config.payloads),
});
process.once('SIGTERM', () => worker.shutdown());
console.log('floor worker running');
await worker.run();
await connection.close();
