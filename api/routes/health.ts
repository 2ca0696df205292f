import { Hono } from 'hono';
import { checkReadiness, databaseCheck, homeserverCheck, temporalCheck } from '../../lib/readiness.js';
import type { ApiEnv, AppDeps } from '../context.js';

/**
 * `GET /healthz`: the process is alive and serving. `GET /readyz`: PostgreSQL, Temporal and the
 * homeserver all answer (200 `ready`, else 503 `unready`, each check's verdict in `checks`).
 */
export function healthRoutes(deps: Pick<AppDeps, 'db' | 'temporalConnection' | 'config'>) {
  const checks = {
    database: databaseCheck(deps.db),
    temporal: temporalCheck(deps.temporalConnection),
    homeserver: homeserverCheck(deps.config.matrix.homeserverUrl),
  };
  return new Hono<ApiEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const report = await checkReadiness(checks);
      return c.json(report, report.status === 'ready' ? 200 : 503);
    });
}
