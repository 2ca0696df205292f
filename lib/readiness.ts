/**
 * Readiness: can this process do its job right now? Shared by the API (`GET /readyz`) and the
 * worker's HTTP server. Every check runs in parallel under its own short timeout, so one hung
 * dependency cannot hold the probe past its deadline, and each reports `ok` or `error: <why>`
 * with nothing secret in the reason.
 */

import { isDatabaseTimeout } from '../activities/store/db-errors.js';

/** A dependency probe: resolves when the dependency answers, rejects (or times out) otherwise. */
export type ReadinessCheck = () => Promise<void>;

export type CheckResult = 'ok' | `error: ${string}`;

export interface ReadinessReport {
  status: 'ready' | 'unready';
  checks: Record<string, CheckResult>;
}

/** How long one check may take before it counts as failed. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

const MAX_REASON_LENGTH = 200;

/** An error message fit for a public probe: credentials in URLs removed, one line, bounded. */
export function publicReason(err: unknown): string {
  // By shape, not instanceof: errors raised by Node internals may come from another realm.
  const e = err as { message?: unknown; code?: unknown; name?: unknown } | null;
  const raw = [e?.message, e?.code, e?.name].find((v): v is string => typeof v === 'string' && v !== '') ?? String(err);
  const clean = raw
    .replace(/\/\/[^/@\s]*@/g, '//[redacted]@')
    .replace(/\s+/g, ' ')
    .trim();
  const reason = clean || 'failed';
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;
}

async function withTimeout(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (err) {
    return `error: ${publicReason(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check in parallel; ready only when all of them are `ok`. */
export async function checkReadiness(
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs = READINESS_CHECK_TIMEOUT_MS,
): Promise<ReadinessReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => withTimeout(checks[name]!, timeoutMs)));
  const report: ReadinessReport['checks'] = {};
  names.forEach((name, i) => (report[name] = results[i]!));
  return { status: results.every((r) => r === 'ok') ? 'ready' : 'unready', checks: report };
}

/**
 * `SELECT 1` through a pg pool (or anything with the same `query`). A server that does not answer
 * (paused, partitioned) is reported as such, whichever bound ran out first: the pool's connect
 * timeout, pg's query timeout, or this check's.
 */
export function databaseCheck(
  db: { query(q: { text: string; query_timeout?: number }): Promise<unknown> },
  timeoutMs = READINESS_CHECK_TIMEOUT_MS,
): ReadinessCheck {
  return async () => {
    const started = Date.now();
    try {
      await db.query({ text: 'SELECT 1', query_timeout: timeoutMs });
    } catch (err) {
      const ms = Date.now() - started;
      if (isDatabaseTimeout(err) || ms >= timeoutMs) {
        throw new Error(`not answering: timed out after ${ms} ms`, { cause: err });
      }
      throw err;
    }
  };
}

/** What both the client `Connection` and the worker's `NativeConnection` offer. */
export interface TemporalConnectionLike {
  healthService: { check(request: object): Promise<{ status?: number | null }> };
  withDeadline<R>(deadline: number, fn: () => Promise<R>): Promise<R>;
}

/** The Temporal frontend's gRPC health service, with a deadline so a dead server cannot hang it. */
export function temporalCheck(
  connection: TemporalConnectionLike,
  timeoutMs = READINESS_CHECK_TIMEOUT_MS,
): ReadinessCheck {
  return async () => {
    const { status } = await connection.withDeadline(Date.now() + timeoutMs, () => connection.healthService.check({}));
    // grpc.health.v1.HealthCheckResponse.ServingStatus: 1 = SERVING.
    if (status !== 1) throw new Error(`health status ${status ?? 'unknown'}`);
  };
}

/** `GET {homeserver}/_matrix/client/versions`, which every homeserver answers without auth. */
export function homeserverCheck(homeserverUrl: string, timeoutMs = READINESS_CHECK_TIMEOUT_MS): ReadinessCheck {
  const url = `${homeserverUrl.replace(/\/$/, '')}/_matrix/client/versions`;
  return async () => {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      // fetch hides the reason (ECONNREFUSED, DNS) in `cause`.
      const cause = (err as { cause?: unknown }).cause;
      throw new Error(publicReason(cause ?? err), { cause: err });
    }
    await res.body?.cancel();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  };
}
