/** The realtime relay's section of the configuration (`RELAY_*`). */
import { isIP } from 'node:net';
import { bool, ConfigError, integer, optional, type Env } from './read.js';

export interface RelayConfig {
  /** How long events stay in the log; a client resuming from further back is told to refetch. */
  retentionHours: number;
  /** WebSocket ping interval; a socket that has not answered the previous ping is closed. */
  pingIntervalMs: number;
  /** Largest client frame accepted. */
  maxMessageBytes: number;
  /** Bytes queued to one socket beyond which it is cut off as a slow consumer. */
  maxBufferedBytes: number;
  /** Client frames per socket: sustained rate and burst. */
  ratePerSecond: number;
  rateBurst: number;
  /** Refuse a transaction that shows a gap in the homeserver's ids, once, so it sends what it held back (decision 0020). */
  gapSweep: boolean;
  /** Sockets one user may hold open on this instance (decision 0023). */
  maxSocketsPerUser: number;
  /** Sockets one client address may hold open on this instance; 0: no limit. */
  maxSocketsPerAddress: number;
  /** WebSocket handshakes this instance accepts per second, all clients together. */
  handshakesPerSecond: number;
  /** WebSocket handshakes per second from one client address; 0: no limit. */
  addressHandshakesPerSecond: number;
  /** HTTP sends, typing and receipts per user on this instance: sustained rate and burst. */
  httpRatePerSecond: number;
  httpRateBurst: number;
  /** Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client address; empty: none. */
  trustedProxies: readonly string[];
}

export function relay(env: Env): RelayConfig {
  return {
    retentionHours: integer(env, 'RELAY_RETENTION_HOURS', 168, 1, 8760),
    pingIntervalMs: integer(env, 'RELAY_PING_INTERVAL_MS', 30_000, 1_000, 600_000),
    maxMessageBytes: integer(env, 'RELAY_MAX_MESSAGE_BYTES', 65_536, 1_024, 1_048_576),
    maxBufferedBytes: integer(env, 'RELAY_MAX_BUFFERED_BYTES', 1_048_576, 16_384, 67_108_864),
    ratePerSecond: integer(env, 'RELAY_RATE_PER_SECOND', 10, 1, 1_000),
    rateBurst: integer(env, 'RELAY_RATE_BURST', 30, 1, 10_000),
    gapSweep: bool(env, 'RELAY_GAP_SWEEP', true),
    maxSocketsPerUser: integer(env, 'RELAY_MAX_SOCKETS_PER_USER', 10, 1, 10_000),
    maxSocketsPerAddress: integer(env, 'RELAY_MAX_SOCKETS_PER_ADDRESS', 100, 0, 1_000_000),
    handshakesPerSecond: integer(env, 'RELAY_HANDSHAKES_PER_SECOND', 100, 1, 100_000),
    addressHandshakesPerSecond: integer(env, 'RELAY_ADDRESS_HANDSHAKES_PER_SECOND', 10, 0, 100_000),
    httpRatePerSecond: integer(env, 'RELAY_HTTP_RATE_PER_SECOND', 10, 1, 1_000),
    httpRateBurst: integer(env, 'RELAY_HTTP_RATE_BURST', 30, 1, 10_000),
    trustedProxies: trustedProxies(optional(env, 'RELAY_TRUSTED_PROXIES', '')),
  };
}

/** `RELAY_TRUSTED_PROXIES`: comma-separated IP addresses or CIDR ranges (`10.0.0.0/8`, `::1`). */
function trustedProxies(raw: string): string[] {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 6 ? 128 : 32;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!family || !prefixOk || rest.length > 0)
      throw new ConfigError('RELAY_TRUSTED_PROXIES', `must list IP addresses or CIDR ranges, got "${entry}"`);
  }
  return entries;
}
