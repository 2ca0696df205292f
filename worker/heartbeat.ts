import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { ACTIVITY_HEARTBEAT_EVERY_MS } from '../workflows/heartbeat.js';

/**
 * Heartbeats every activity attempt of this worker while it runs, from its `EVERY_MS` on: "this
 * worker is alive", so a `heartbeatTimeout` finds a dead worker in seconds (workflows/heartbeat.ts).
 * The SDK throttles what reaches the server; local activities have no heartbeat.
 */
export const heartbeatInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      if (ctx.info.isLocal) return next(input);
      const timer = setInterval(() => ctx.heartbeat(), ACTIVITY_HEARTBEAT_EVERY_MS);
      try {
        return await next(input);
      } finally {
        clearInterval(timer);
      }
    },
  },
});
