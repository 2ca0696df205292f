import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { except } from 'hono/combine';
import { randomUUID } from 'node:crypto';
import { serviceAuth } from './auth.js';
import { corsFor, V1_CORS } from './cors.js';
import type { ApiEnv, AppDeps } from './context.js';
import { respondError, toErrorResponse } from './errors.js';
import { createHttpMetrics } from './metrics.js';
import { healthRoutes } from './routes/health.js';
import { CODEC_PREFIX, codecRoutes } from './routes/codec.js';
import { EVENTS_PREFIX, eventsRoutes, isEventsPath } from './routes/events.js';
import { OPERATIONS_PREFIX, operationsRoutes } from './routes/operations.js';
import { ROOMS_PREFIX, roomsRoutes } from './routes/rooms.js';
import { USERS_PREFIX, usersRoutes } from './routes/users.js';
import { isUsersBatchPath, usersBatchRoutes } from './routes/users-batch.js';
import { isMemberListPath, memberListRoutes } from './routes/room-members.js';
import { MAX_BODY_BYTES } from './spec/validation.js';
import { boundedError, requestContext } from './request-context.js';
import { APPSERVICE_PREFIX, appserviceRoutes } from './routes/appservice.js';
import { demoRoutes } from './routes/demo.js';
import { realtimeRoutes } from './routes/realtime.js';
import { relayAuthenticates } from './relay/user-auth.js';
import { MESSAGES_PREFIX, messagesRoutes } from './routes/messages.js';
import { MY_ROOMS_PREFIX, myRoomsRoutes } from './routes/my-rooms.js';
import { messageChangesRoutes } from './routes/message-changes.js';
import { SEARCH_PREFIX, searchRoutes } from './routes/search.js';
import { docsRoutes } from './routes/docs.js';
import { isMediaUploadPath, mediaRoutes } from './routes/media.js';
import { webhookRoutes } from './routes/webhooks.js';
import { auditRoutes } from './routes/audit.js';
import { joinRequestRoutes } from './routes/join-requests.js';
import { driftRoutes } from './routes/drift.js';
import { moderationRoutes } from './routes/moderation.js';
import { eventTimerRoutes } from './routes/event-timers.js';
import { offboardRoutes } from './routes/offboard.js';
import { groupRoutes } from './routes/groups.js';
import { openApiDocument } from './spec/openapi.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const PATH_SHOWN_MAX = 200;
const boundedPath = (path: string): string =>
  path.length > PATH_SHOWN_MAX ? `${path.slice(0, PATH_SHOWN_MAX)}… (${path.length} characters)` : path;

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
    // Everything the request runs, however deep or late, knows its id (the process guard logs it).
    await requestContext.run({ requestId }, next);
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
  // Before the body limit and authentication: preflights need no token, and refusals carry CORS headers.
  app.use('/v1/*', corsFor(deps.config.api.corsOrigins, V1_CORS));
  app.use(
    '/v1/*',
    // Batches and member lists have larger limits of their own (api/routes/users-batch.ts, room-members.ts); uploads MEDIA_MAX_BYTES.
    except(
      (c) =>
        isUsersBatchPath(c.req.path) || isMemberListPath(c.req.path) || isEventsPath(c.req.path) || isMediaUploadPath(c.req.path),
      bodyLimit({
        maxSize: MAX_BODY_BYTES,
        onError: (c) => respondError(c, 'M_TOO_LARGE', `request body exceeds ${MAX_BODY_BYTES} bytes`),
      }),
    ),
  );
  // The relay's routes take a user JWT too, and check whichever token they get themselves.
  app.use(
    '/v1/*',
    except((c) => relayAuthenticates(c.req.path), serviceAuth(deps.config.serviceJwt)),
  );
  app.route('/', healthRoutes(deps));
  app.route('/', metrics.routes());
  // Each resource's router is mounted at its prefix and registers its operations below it (api/spec/operation.ts `below`).
  app.route(CODEC_PREFIX, codecRoutes(deps));
  app.route(USERS_PREFIX, usersRoutes(deps));
  app.route('/', usersBatchRoutes(deps));
  app.route(ROOMS_PREFIX, roomsRoutes(deps));
  app.route(ROOMS_PREFIX, memberListRoutes(deps));
  app.route(ROOMS_PREFIX, joinRequestRoutes(deps));
  app.route(EVENTS_PREFIX, eventsRoutes(deps));
  app.route(OPERATIONS_PREFIX, operationsRoutes(deps));
  app.route(MESSAGES_PREFIX, messagesRoutes(deps));
  app.route('/', mediaRoutes(deps));
  app.route(MY_ROOMS_PREFIX, myRoomsRoutes(deps));
  app.route(MESSAGES_PREFIX, messageChangesRoutes(deps));
  app.route(SEARCH_PREFIX, searchRoutes(deps));
  app.route('/', webhookRoutes(deps));
  app.route('/', auditRoutes(deps));
  app.route('/', driftRoutes(deps));
  app.route('/', moderationRoutes(deps));
  app.route('/', eventTimerRoutes(deps));
  app.route('/', offboardRoutes(deps));
  app.route('/', groupRoutes(deps));
  app.route('/', realtimeRoutes());
  app.route(APPSERVICE_PREFIX, appserviceRoutes(deps));
  app.route(
    '/',
    docsRoutes(() => openApiDocument()),
  );
  app.route('/', demoRoutes());
  // The path is the client's: shown cut, like every client value in a message (decision 0021).
  app.notFound((c) =>
    respondError(c, 'M_UNRECOGNIZED', `no route for ${c.req.method.slice(0, 16)} ${boundedPath(c.req.path)}`),
  );
  // Logged with the request's id, and cut to size: an error's message may quote what a client sent.
  app.onError((err, c) =>
    toErrorResponse(c, err, (obj, msg) => {
      const { err: e, ...rest } = obj as { err?: unknown };
      deps.log.error({ requestId: c.get('requestId'), ...rest, error: boundedError(e) }, msg);
    }),
  );
  return app;
}
