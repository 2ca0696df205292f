import type { MiddlewareHandler } from 'hono';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ERROR_STATUS, errorBody } from './errors.js';
import type { RelayEnv } from './relay/user-auth.js';

/** Requests or handshakes per key (a user, an address, the instance) over time. */
export interface KeyedRate {
  /** Counts one for `key`: `0` when allowed, else the milliseconds until one more will be. */
  take(key: string): Promise<number>;
}

/**
 * `burst` at once and `ratePerSecond` on average, per key, in this process's memory: a fixed window
 * of `burst / ratePerSecond` seconds (rate-limiter-flexible's RateLimiterMemory, whose record of a
 * key is dropped when its window ends, so keys that went quiet cost nothing). At a window's edge a
 * client can get up to two bursts in quick succession; the average over any longer span holds.
 */
export function createKeyedRate(ratePerSecond: number, burst: number): KeyedRate {
  const limiter = new RateLimiterMemory({ points: burst, duration: burst / ratePerSecond });
  return {
    async take(key) {
      try {
        await limiter.consume(key);
        return 0;
      } catch (err) {
        if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext));
        throw err;
      }
    },
  };
}

/**
 * HTTP sends, typing and receipts made with a user JWT: at most `RELAY_HTTP_RATE_PER_SECOND`
 * (burst `RELAY_HTTP_RATE_BURST`) per user on this instance, as the socket's frames are limited
 * per socket. Over it: 429 `M_LIMIT_EXCEEDED` with `retry_after_ms` (Matrix clients read it) and
 * `Retry-After` (whole seconds, rounded up), before the body is read or anything is looked up.
 * Requests with the service JWT are not limited: the platform backend acts for many users and
 * limits its own.
 */
export function userRateLimit(
  config: { httpRatePerSecond: number; httpRateBurst: number },
  refused: () => void = () => undefined,
): MiddlewareHandler<RelayEnv> {
  const rate = createKeyedRate(config.httpRatePerSecond, config.httpRateBurst);
  const error = `too many requests: at most ${config.httpRatePerSecond} per second per user (burst ${config.httpRateBurst})`;
  return async (c, next) => {
    const actor = c.get('actor');
    if (actor.kind === 'user') {
      const wait = await rate.take(actor.user.userId);
      if (wait > 0) {
        refused();
        c.header('Retry-After', String(Math.ceil(wait / 1000)));
        return c.json({ ...errorBody('M_LIMIT_EXCEEDED', error), retry_after_ms: wait }, ERROR_STATUS.M_LIMIT_EXCEEDED);
      }
    }
    await next();
  };
}
