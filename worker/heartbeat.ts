import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { ACTIVITY_HEARTBEAT_EVERY_MS } from '../workflows/heartbeat.js';

/** Activities that heartbeat details of their own (activities/users-batch.ts). */
const SELF_HEARTBEATING = new Set(['provisionMatrixUsersChunk']);

/**
 * Heartbeats every activity attempt of this worker while it runs, from its `EVERY_MS` on: "this
 * worker is alive", so a `heartbeatTimeout` finds a dead worker in seconds (workflows/heartbeat.ts).
 * The SDK throttles what reaches the server; local activities have no heartbeat.
 */
export const heartbeatInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      // A batch chunk heartbeats its progress itself: an empty heartbeat here would replace it.
      if (ctx.info.isLocal || SELF_HEARTBEATING.has(ctx.info.activityType)) return next(input);
      const timer = setInterval(() => ctx.heartbeat(), ACTIVITY_HEARTBEAT_EVERY_MS);
      try {
        return await next(input);
      } finally {
        clearInterval(timer);
      }
    },
  },
});
