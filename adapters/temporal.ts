/**
 * The one way this code base opens a Temporal client connection.
 *
 * The SDK retries a failed call (UNAVAILABLE, RESOURCE_EXHAUSTED, …) from a timer, up to about five
 * seconds later, and `Connection.close()` does not clear those timers: a retry that fires after
 * the close throws `Channel has been shut down` inside the timer, where nothing can catch it, and
 * takes the process down (a fault test failed on it in CI). So the retry interceptor here stops
 * retrying once closing has begun, and `close()` waits for the retries already scheduled to run
 * (each ends with its own answer) before it closes the channel.
 */
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
} from '@temporalio/client';
import { dataConverter } from '../lib/codec.js';
import type { Config } from '../lib/config.js';

export interface TemporalSession {
  client: Client;
  connection: Connection;
  /** Stops retrying, lets the retries already scheduled answer, then closes the channel. */
  close(): Promise<void>;
}

/** A retry interceptor that can be told to stop, and knows when its last scheduled retry fires. */
export function closableRetries(): { interceptor: ReturnType<typeof makeGrpcRetryInterceptor>; stop(): number } {
  const defaults = defaultGrpcRetryOptions();
  let stopped = false;
  let lastRetryAt = 0;
  const interceptor = makeGrpcRetryInterceptor({
    retryableDecider: (attempt, status) => !stopped && defaults.retryableDecider(attempt, status),
    delayFunction: (attempt, status) => {
      const ms = defaults.delayFunction(attempt, status);
      lastRetryAt = Math.max(lastRetryAt, Date.now() + ms);
      return ms;
    },
  });
  return {
    interceptor,
    /** No retry is scheduled from now on; returns the time by which the scheduled ones have fired. */
    stop: () => {
      stopped = true;
      return lastRetryAt;
    },
  };
}

/** How long after the last scheduled retry the channel stays open for it to start its call. */
const RETRY_MARGIN_MS = 50;

/**
 * A client with the service's namespace and payload codec. `lazy` connects on the first call (the
 * API starts and answers /healthz while Temporal is still coming up); otherwise the server must
 * answer now.
 */
export async function connectTemporal(
  config: Pick<Config, 'temporal' | 'payloads'>,
  opts: { lazy?: boolean; connectTimeout?: ConnectionOptions['connectTimeout'] } = {},
): Promise<TemporalSession> {
  const retries = closableRetries();
  const options: ConnectionOptions = {
    address: config.temporal.address,
    interceptors: [retries.interceptor],
    ...(opts.connectTimeout === undefined ? {} : { connectTimeout: opts.connectTimeout }),
  };
  const connection = opts.lazy ? Connection.lazy(options) : await Connection.connect(options);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverter(config.payloads),
  });
  let closing: Promise<void> | undefined;
  return {
    client,
    connection,
    close: () =>
      (closing ??= (async () => {
        const wait = retries.stop() + RETRY_MARGIN_MS - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await connection.close();
      })()),
  };
}
