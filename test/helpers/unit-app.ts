/**
 * The API app without services, for unit tests: its Temporal, database and homeserver are
 * stand-ins that throw when reached, so a request that gets past validation answers 500.
 */
import { createApp } from '../../api/app.js';
import type { AppDeps } from '../../api/context.js';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';
import { MINIMAL_ENV } from './minimal-env.js';

/** Any property is itself, any call throws: a dependency a unit test must never reach. */
const unreachable: unknown = new Proxy(function () {}, {
  get: (_t, p) => (p === 'then' ? undefined : unreachable),
  apply: () => {
    throw new Error('unit test: the backend was reached');
  },
});

export function serviceLessApp(env: Record<string, string> = {}) {
  const config = loadConfig({ ...MINIMAL_ENV, ...env });
  const app = createApp({
    config,
    temporal: unreachable,
    temporalConnection: unreachable,
    db: unreachable,
    log: createLogger('unit-app', 'silent'),
  } as AppDeps);
  return { app, config };
}
