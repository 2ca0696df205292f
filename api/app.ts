import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { except } from 'hono/combine';
import { randomUUID } from 'node:crypto';
import { serviceAuth } from './auth.js';
import type { ApiEnv, AppDeps } from './context.js';
import { respondError, toErrorResponse } from './errors.js';
import { createHttpMetrics } from './metrics.js';
import { healthRoutes } from './routes/health.js';
import { codecRoutes } from './routes/codec.js';
import { eventsRoutes } from './routes/events.js';
import { operationsRoutes } from './routes/operations.js';
import { roomsRoutes } from './routes/rooms.js';
import { usersRoutes } from './routes/users.js';
import { MAX_BODY_BYTES } from './validation.js';
import { appserviceRoutes } from './relay/appservice.js';
import { demoRoutes } from './relay/demo.js';
import { realtimeRoutes } from './relay/socket-route.js';
import { relayAuthenticates } from './relay/user-auth.js';
import { messagesRoutes } from './routes/messages.js';
import { docsRoutes } from './routes/docs.js';
import { openApiDocument } from './openapi.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The HTTP API: composition only; each resource is its own router. */
export function createApp(deps: AppDeps) {
  const app = new Hono<ApiEnv>();
  const relay = deps.relay;
  const metrics = createHttpMetrics(
    relay ? { openSockets: () => relay.size, gapCounts: () => relay.gaps.counts, limits: relay.limits } : undefined,
  );
  app.use(metrics.middleware);
  app.use(async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    deps.log.debug(
      {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
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
  // The relay's routes take a user JWT too, and check whichever token they get themselves.
  app.use(
    '/v1/*',
    except((c) => relayAuthenticates(c.req.path), serviceAuth(deps.config.serviceJwt)),
  );
  app.route('/', healthRoutes(deps));
  app.route('/', metrics.routes());
  // Each router registers the full paths of the operations it declares (api/operation.ts).
  app.route('/', codecRoutes(deps));
  app.route('/', usersRoutes(deps));
  app.route('/', roomsRoutes(deps));
  app.route('/', eventsRoutes(deps));
  app.route('/', operationsRoutes(deps));
  app.route('/', messagesRoutes(deps));
  app.route('/', realtimeRoutes());
  app.route('/', appserviceRoutes(deps));
  app.route(
    '/',
    docsRoutes(() => openApiDocument()),
  );
  app.route('/', demoRoutes());
  app.notFound((c) => respondError(c, 'M_UNRECOGNIZED', `no route for ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => toErrorResponse(c, err, (obj, msg) => deps.log.error(obj, msg)));
  return app;
}
