import type { MiddlewareHandler } from 'hono';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from './errors.js';

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

/** A request over a rate limit; answered 429 `M_LIMIT_EXCEEDED` with `retry_after_ms` and `Retry-After`. */
export class RateLimited extends ApiError {
  constructor(
    readonly retryAfterMs: number,
    message: string,
  ) {
    super('M_LIMIT_EXCEEDED', message);
  }
}

/**
 * Completes the answer to a `RateLimited` thrown by the handler: the one error handler has already
 * made it a 429 `{errcode, error}`; Matrix clients also expect `retry_after_ms` in the body, and HTTP
 * clients the `Retry-After` header (whole seconds, rounded up).
 */
export function rateLimitAnswer(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const err = c.error;
    if (!(err instanceof RateLimited)) return;
    const body = { errcode: err.errcode, error: err.message, retry_after_ms: err.retryAfterMs };
    c.res = new Response(JSON.stringify(body), {
      status: err.status,
      headers: { 'content-type': 'application/json', 'retry-after': String(Math.ceil(err.retryAfterMs / 1000)) },
    });
  };
}

/**
 * The HTTP sends, typing and receipts of one user (`tenant/userSlug`, whichever token acts for
 * them) at most `RELAY_HTTP_RATE_PER_SECOND`, burst `RELAY_HTTP_RATE_BURST`, on this instance —
 * the socket's frames have the same kind of limit per socket. Throws `RateLimited` when over.
 */
export function createUserRate(
  config: { httpRatePerSecond: number; httpRateBurst: number },
  refused: () => void = () => undefined,
): (user: { tenant: string; userSlug: string }) => Promise<void> {
  const rate = createKeyedRate(config.httpRatePerSecond, config.httpRateBurst);
  return async (user) => {
    const wait = await rate.take(`${user.tenant}/${user.userSlug}`);
    if (wait === 0) return;
    refused();
    throw new RateLimited(
      wait,
      `too many requests for user ${user.userSlug}: at most ${config.httpRatePerSecond} per second (burst ${config.httpRateBurst})`,
    );
  };
}
