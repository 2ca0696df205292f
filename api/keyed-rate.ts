import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

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
