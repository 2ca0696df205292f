import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { randomUUID } from 'node:crypto';
import { serviceAuth } from './auth.js';
import type { ApiEnv, AppDeps } from './context.js';
import { respondError, toErrorResponse } from './errors.js';
import { createHttpMetrics } from './metrics.js';
import { healthRoutes } from './routes/health.js';
import { eventsRoutes } from './routes/events.js';
import { operationsRoutes } from './routes/operations.js';
import { roomsRoutes } from './routes/rooms.js';
import { usersRoutes } from './routes/users.js';
import { MAX_BODY_BYTES } from './validation.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The HTTP API: composition only; each resource is its own router. */
export function createApp(deps: AppDeps) {
  const app = new Hono<ApiEnv>();
  const metrics = createHttpMetrics();
  app.use(metrics.middleware);
  app.use(async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    deps.log.debug(
      { requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => respondError(c, 'M_TOO_LARGE', `request body exceeds ${MAX_BODY_BYTES} bytes`),
    }),
  );
  app.use('/v1/*', serviceAuth(deps.config.serviceJwt));
  app.route('/', healthRoutes(deps));
  app.route('/', metrics.routes());
  app.route('/v1/tenants', usersRoutes(deps));
  app.route('/v1/tenants', roomsRoutes(deps));
  app.route('/v1/tenants', eventsRoutes(deps));
  app.route('/v1/operations', operationsRoutes(deps));
  app.notFound((c) => respondError(c, 'M_UNRECOGNIZED', `no route for ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => toErrorResponse(c, err, (obj, msg) => deps.log.error(obj, msg)));
  return app;
}
