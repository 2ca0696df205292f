import { Hono, type MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApiEnv } from './context.js';
import { LIMITS, type RelayLimits } from './relay/limits.js';
import type { GapCounts } from './relay/txn-gaps.js';
import { operation } from './operation.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** The label of requests no route matched: their raw paths are unbounded, so they share one. */
export const UNMATCHED_ROUTE = 'unmatched';

type Labels = 'method' | 'route' | 'status';

const metricsOperation = operation({
  method: 'get',
  path: '/metrics',
  operationId: 'metrics',
  summary: "The API process's metrics",
  tags: ['health'],
  security: 'public',
  responses: { 200: { description: 'The Prometheus text format.', content: { 'text/plain': { type: 'string' } } } },
});
export const metricsOperations = [metricsOperation];

export interface HttpMetrics {
  registry: Registry;
  /** Counts and times every request under the route pattern it matched. */
  middleware: MiddlewareHandler<ApiEnv>;
  /** `GET /metrics` in the Prometheus text format. */
  routes: () => Hono<ApiEnv>;
}

/**
 * The pattern of the handler that owns the request (`/v1/tenants/:tenant/users`), never the raw
 * path, so series stay bounded. Middleware (`use`) is registered as method ALL and skipped; a
 * request that matched only middleware (404, wrong method) is `unmatched`.
 */
function routeOf(c: Parameters<MiddlewareHandler>[0]): string {
  const handlers = matchedRoutes(c).filter((r) => r.method !== 'ALL');
  return handlers.at(-1)?.path ?? UNMATCHED_ROUTE;
}

/**
 * The API's own metrics, plus Node's process metrics, in a registry of its own; `openSockets`, on a
 * process serving the relay, is read at each scrape (WebSocket handshakes bypass the app: 0017).
 */
export function createHttpMetrics(relay?: {
  openSockets: () => number;
  gapCounts: () => Readonly<GapCounts>;
  /** The relay's limits and what they refused (decision 0023); absent: no such metrics. */
  limits?: RelayLimits;
}): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (relay) {
    new Gauge({
      name: 'relay_sockets_open',
      help: 'Realtime relay WebSockets open on this API process.',
      registers: [registry],
      collect() {
        this.set(relay.openSockets());
      },
    });
    // Counted by the gap watch (decision 0020); read at each scrape.
    const counterOf = (name: string, help: string, read: (c: Readonly<GapCounts>) => number): void => {
      let reported = 0;
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          const now = read(relay.gapCounts());
          this.inc(now - reported);
          reported = now;
        },
      });
    };
    counterOf(
      'relay_transaction_gap_sweeps_total',
      'Homeserver transactions refused once because of a gap in the ids, so the homeserver sends what it held back first.',
      (c) => c.sweeps,
    );
    counterOf(
      'relay_held_back_transactions_total',
      'Transactions the homeserver had held back (stored, never sent) that a sweep brought into the log.',
      (c) => c.recovered,
    );
    if (relay.limits) limitMetrics(registry, relay.limits);
  }
  const requests = new Counter<Labels>({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const errors = new Counter<Labels>({
    name: 'http_request_errors_total',
    help: 'HTTP requests answered with a server-side error (status >= 500), by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram<Labels>({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response headers, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    // Up to API_WAIT_MS territory: start endpoints may wait for a workflow for seconds.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  const middleware: MiddlewareHandler<ApiEnv> = async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // An exception escaping here would have become a 500 in Hono's own fallback.
      const status = c.finalized ? String(c.res.status) : '500';
      const labels = { method: METHODS.has(c.req.method) ? c.req.method : 'OTHER', route: routeOf(c), status };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - started) / 1000);
      if (Number(status) >= 500) errors.inc(labels);
    }
  };

  const routes = () =>
    new Hono<ApiEnv>().get(metricsOperation.path, async (c) =>
      c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }),
    );

  return { registry, middleware, routes };
}

/** Refusals by limit, and how close users and addresses are to theirs (read at each scrape). */
function limitMetrics(registry: Registry, limits: RelayLimits): void {
  const reported = new Map<string, number>();
  new Counter<'limit'>({
    name: 'relay_limit_refusals_total',
    help: 'Sockets, handshakes, frames and HTTP requests refused (or sockets cut off) by a relay limit, by limit.',
    labelNames: ['limit'],
    registers: [registry],
    collect() {
      for (const limit of LIMITS) {
        const now = limits.refusalCounts.get(limit) ?? 0;
        // inc(0) too: every limit has a series from the first scrape on.
        this.inc({ limit }, now - (reported.get(limit) ?? 0));
        reported.set(limit, now);
      }
    },
  });
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  const { maxSocketsPerUser, maxSocketsPerAddress } = limits.config;
  gauge(
    'relay_socket_users',
    'Users with at least one relay socket open on this API process.',
    () => limits.users.size,
  );
  gauge(
    'relay_socket_users_at_limit',
    'Users holding RELAY_MAX_SOCKETS_PER_USER sockets on this API process (their next one is refused).',
    () => limits.users.atLeast(maxSocketsPerUser),
  );
  gauge(
    'relay_socket_addresses',
    'Client addresses with at least one relay socket open on this API process.',
    () => limits.addresses.size,
  );
  gauge(
    'relay_socket_addresses_at_limit',
    'Client addresses holding RELAY_MAX_SOCKETS_PER_ADDRESS sockets on this API process (0 when that limit is off).',
    () => (maxSocketsPerAddress > 0 ? limits.addresses.atLeast(maxSocketsPerAddress) : 0),
  );
}
