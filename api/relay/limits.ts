import type { RelayConfig } from '../../lib/config.js';
import { createKeyedRate } from '../rate-limit.js';

/**
 * A token bucket: `burst` frames at once, refilled at `ratePerSecond`. Each socket has its own, so
 * one client flooding the relay is answered with `M_LIMIT_EXCEEDED` and costs nothing more.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token: `0` when allowed, else the milliseconds until one is available. */
  take(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }
}

/**
 * How many of something each key holds now (sockets per user, per address). A map of counts, not
 * a set of sockets, and a key back at zero is forgotten: an idle socket costs no more (decision 0017).
 */
export class Counts {
  private readonly counts = new Map<string, number>();

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  add(key: string): void {
    this.counts.set(key, this.get(key) + 1);
  }

  remove(key: string): void {
    const n = this.get(key) - 1;
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
  }

  /** Keys holding at least one. */
  get size(): number {
    return this.counts.size;
  }

  /** Keys holding `n` or more (read at a metrics scrape). */
  atLeast(n: number): number {
    let keys = 0;
    for (const count of this.counts.values()) if (count >= n) keys += 1;
    return keys;
  }
}

/** The limits a client can run into, as `/metrics` labels them. */
export const LIMITS = [
  'sockets_per_user',
  'sockets_per_address',
  'handshakes',
  'handshakes_per_address',
  'frames_per_socket',
  'buffered_bytes',
  'http_per_user',
] as const;
export type LimitName = (typeof LIMITS)[number];

/** A refusal: which limit, what the client is told, and when it may try again. */
export interface LimitRefusal {
  limit: LimitName;
  error: string;
  retryAfterMs: number;
}

/** When a client refused for holding too many sockets should try again (one may close meanwhile). */
const SOCKET_RETRY_MS = 10_000;

/**
 * This instance's limits on sockets (decision 0023): open sockets per user and per address, and
 * handshakes per second in all and per address; plus refusals counted by limit for `/metrics`.
 * Counted per instance: a client spread over N instances can hold N times as much.
 */
export class RelayLimits {
  readonly users = new Counts();
  readonly addresses = new Counts();
  private readonly refusals = new Map<LimitName, number>(LIMITS.map((l) => [l, 0]));
  private readonly handshakes;
  private readonly addressHandshakes;

  constructor(readonly config: RelayConfig) {
    this.handshakes = createKeyedRate(config.handshakesPerSecond, config.handshakesPerSecond);
    const perAddress = config.addressHandshakesPerSecond;
    this.addressHandshakes = perAddress > 0 ? createKeyedRate(perAddress, perAddress) : null;
  }

  /** Counts a refusal (also those the frame handler and the HTTP routes make). */
  refused(limit: LimitName): void {
    this.refusals.set(limit, (this.refusals.get(limit) ?? 0) + 1);
  }

  /** Refusals so far, by limit. */
  get refusalCounts(): ReadonlyMap<LimitName, number> {
    return this.refusals;
  }

  /** One handshake from `address`: refused when this instance or the address is over its rate. */
  async handshake(address: string): Promise<LimitRefusal | null> {
    const perAddress = this.addressHandshakes ? await this.addressHandshakes.take(address) : 0;
    if (perAddress > 0)
      return this.refuse(
        'handshakes_per_address',
        perAddress,
        `too many connections from your address: at most ${this.config.addressHandshakesPerSecond} per second`,
      );
    const all = await this.handshakes.take('');
    if (all > 0)
      return this.refuse(
        'handshakes',
        all,
        `this server is accepting at most ${this.config.handshakesPerSecond} connections per second`,
      );
    return null;
  }

  /** Whether one more socket for the user from the address is allowed; `open` then counts it. */
  admit(userId: string, address: string): LimitRefusal | null {
    const { maxSocketsPerUser, maxSocketsPerAddress } = this.config;
    if (this.users.get(userId) >= maxSocketsPerUser)
      return this.refuse(
        'sockets_per_user',
        SOCKET_RETRY_MS,
        `too many sockets: at most ${maxSocketsPerUser} per user; close one first`,
      );
    if (maxSocketsPerAddress > 0 && this.addresses.get(address) >= maxSocketsPerAddress)
      return this.refuse(
        'sockets_per_address',
        SOCKET_RETRY_MS,
        `too many sockets from your address: at most ${maxSocketsPerAddress}`,
      );
    return null;
  }

  open(userId: string, address: string): void {
    this.users.add(userId);
    this.addresses.add(address);
  }

  close(userId: string, address: string): void {
    this.users.remove(userId);
    this.addresses.remove(address);
  }

  private refuse(limit: LimitName, retryAfterMs: number, error: string): LimitRefusal {
    this.refused(limit);
    return { limit, error, retryAfterMs };
  }
}
