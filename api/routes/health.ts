import { Hono } from 'hono';
import { checkReadiness, databaseCheck, homeserverCheck, temporalCheck } from '../../adapters/readiness.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { operation, ref } from '../spec/operation.js';

const healthz = operation({
  method: 'get',
  path: '/healthz',
  operationId: 'health',
  summary: 'The process is alive',
  tags: ['health'],
  security: 'public',
  responses: { 200: { description: 'Alive.', json: ref('Health') } },
});
const readyz = operation({
  method: 'get',
  path: '/readyz',
  operationId: 'readiness',
  summary: 'PostgreSQL, Temporal and the homeserver answer',
  tags: ['health'],
  security: 'public',
  responses: {
    200: { description: 'Ready.', json: ref('Readiness') },
    503: { description: 'Unready: `checks` says which check failed.', json: ref('Readiness') },
  },
});
export const healthOperations = [healthz, readyz];

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
    .get(healthz.path, (c) => c.json({ status: 'ok' }))
    .get(readyz.path, async (c) => {
      const report = await checkReadiness(checks);
      return c.json(report, report.status === 'ready' ? 200 : 503);
    });
}
