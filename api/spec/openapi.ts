/**
 * The OpenAPI 3.1 document of the HTTP API, rendered from the operations the route files declare
 * beside their handlers (api/spec/operation.ts) and the body schemas the handlers parse with. Static:
 * built from code alone, never from configuration, so it holds no secrets.
 */
import { ERROR_STATUS, type ErrorCode } from '../errors.js';
import { PATH_PARAMS } from './fields.js';
import { COMPONENT_SCHEMAS } from './openapi-components.js';
import { ref, specPath, type Answer, type Operation, type Security } from './operation.js';
import { appserviceOperations } from '../routes/appservice.js';
import { demoOperations } from '../routes/demo.js';
import { realtimeOperations } from '../routes/realtime.js';
import { codecOperations } from '../routes/codec.js';
import { docsOperations } from '../routes/docs.js';
import { eventsOperations } from '../routes/events.js';
import { healthOperations } from '../routes/health.js';
import { messagesOperations } from '../routes/messages.js';
import { MEDIA_SCHEMAS, mediaOperations } from '../routes/media-spec.js';
import { myRoomsOperations } from '../routes/my-rooms.js';
import { messageChangesOperations } from '../routes/message-changes.js';
import { searchOperations } from '../routes/search.js';
import { metricsOperations } from '../metrics.js';
import { operationsOperations } from '../routes/operations.js';
import { roomsOperations } from '../routes/rooms.js';
import { usersOperations } from '../routes/users.js';
import { usersBatchOperations } from '../routes/users-batch.js';
import { memberListOperations } from '../routes/room-members.js';
import { joinRequestOperations } from '../routes/join-requests.js';
import { webhookOperations } from '../routes/webhooks.js';
import { auditOperations } from '../routes/audit.js';
import { driftOperations } from '../routes/drift.js';
import { moderationOperations } from '../routes/moderation.js';
import { eventTimerOperations } from '../routes/event-timers.js';
import { OFFBOARD_SCHEMAS, offboardOperations } from '../routes/offboard.js';
import { groupOperations } from '../routes/groups.js';
import type { JsonSchema } from './schema.js';

/** Every documented operation; test/unit/openapi.test.ts checks these are exactly the app's routes. */
export function apiOperations(): Operation[] {
  return [
    ...usersOperations,
    ...usersBatchOperations,
    ...roomsOperations,
    ...memberListOperations,
    ...joinRequestOperations,
    ...eventsOperations,
    ...operationsOperations,
    ...messagesOperations,
    ...mediaOperations,
    ...myRoomsOperations,
    ...messageChangesOperations,
    ...searchOperations,
    ...webhookOperations,
    ...auditOperations,
    ...driftOperations,
    ...moderationOperations,
    ...eventTimerOperations,
    ...offboardOperations,
    ...groupOperations,
    ...realtimeOperations,
    ...healthOperations,
    ...metricsOperations,
    ...codecOperations,
    ...appserviceOperations,
    ...docsOperations,
    ...demoOperations,
  ];
}

const bearer = (description: string) => ({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description });
const SECURITY_SCHEMES = {
  serviceJwt: bearer(
    'The platform backend\'s service JWT: `iss` SERVICE_JWT_ISSUER, `aud` SERVICE_JWT_AUDIENCE, a required `exp`, and `tenants` (the tenants it may act for, or `["*"]`).',
  ),
  userJwt: bearer("A platform user's JWT (`sub` = user slug, `tenant`, audience `matrix-orchestrator-realtime`)."),
  userJwtQuery: {
    type: 'apiKey',
    in: 'query',
    name: 'access_token',
    description: 'The user JWT, for clients that cannot set headers.',
  },
  hsToken: { type: 'http', scheme: 'bearer', description: "The homeserver's `hs_token` of this application service." },
  hsTokenQuery: {
    type: 'apiKey',
    in: 'query',
    name: 'access_token',
    description: 'The `hs_token` in the query, as homeservers before Matrix 1.4 send it.',
  },
  codecToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      "CODEC_ACCESS_TOKEN (CODEC_AUTH=token), or the Temporal UI user's JWT from its identity provider (CODEC_AUTH=jwt).",
  },
};
const SECURITY: Record<Security, Record<string, string[]>[]> = {
  service: [{ serviceJwt: [] }],
  relay: [{ userJwt: [] }, { serviceJwt: [] }],
  user: [{ userJwt: [] }, { userJwtQuery: [] }],
  homeserver: [{ hsToken: [] }, { hsTokenQuery: [] }],
  codec: [{ codecToken: [] }, {}],
  public: [],
};
const AUTH_ERRORS: Record<Security, ErrorCode[]> = {
  service: ['M_MISSING_TOKEN', 'M_UNKNOWN_TOKEN', 'M_FORBIDDEN'],
  relay: ['M_MISSING_TOKEN', 'M_UNKNOWN_TOKEN', 'M_FORBIDDEN'],
  user: [],
  homeserver: ['M_UNAUTHORIZED', 'M_FORBIDDEN'],
  codec: ['M_UNKNOWN_TOKEN', 'M_FORBIDDEN'],
  public: [],
};
const BODY_ERRORS: ErrorCode[] = ['M_NOT_JSON', 'M_BAD_JSON', 'M_INVALID_PARAM', 'M_TOO_LARGE'];

function answer(a: Answer): JsonSchema {
  const content = a.json ? { 'application/json': { schema: a.json } } : a.content;
  return {
    description: a.description,
    ...(a.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(a.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]),
          ),
        }
      : {}),
    ...(content
      ? { content: Object.fromEntries(Object.entries(content).map(([t, s]) => [t, 'schema' in s ? s : { schema: s }])) }
      : {}),
  };
}

/** The error answers of an operation, grouped by status: `{errcode, error}` naming the codes. */
function errorAnswers(op: Operation): Record<string, JsonSchema> {
  const codes = new Set<ErrorCode>([
    ...AUTH_ERRORS[op.security],
    ...(op.body && !op.body.contentType ? BODY_ERRORS : []),
    ...(op.errors ?? []),
  ]);
  if (op.security !== 'public') codes.add('M_UNKNOWN');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, c]) => [
      String(status),
      answer({ description: c.map((x) => `\`${x}\``).join(', '), json: ref('Error') }),
    ]),
  );
}

function parameters(op: Operation): JsonSchema[] {
  const path = [...op.path.matchAll(/\/:([A-Za-z0-9_]+)/g)].map(([, name]) => {
    const schema = PATH_PARAMS[name!];
    if (!schema) throw new Error(`${op.operationId}: path parameter "${name}" is not described in api/spec/fields.ts`);
    const { description, ...rest } = schema;
    return { name, in: 'path', required: true, description, schema: rest };
  });
  const query = (op.query ?? []).map((q) => ({
    name: q.name,
    in: 'query',
    required: q.required ?? false,
    description: q.description,
    schema: q.schema,
  }));
  return [...path, ...query];
}

function render(op: Operation): JsonSchema {
  const params = parameters(op);
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: op.tags,
    security: SECURITY[op.security],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: op.body.required ?? true,
            ...(op.body.description ? { description: op.body.description } : {}),
            content: { [op.body.contentType ?? 'application/json']: { schema: op.body.schema } },
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(Object.entries(op.responses).map(([status, a]) => [status, answer(a)])),
      ...errorAnswers(op),
    },
  };
}

/** Builds the document (cheap; callers may cache it). */
export function openApiDocument(operations: Operation[] = apiOperations()): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of operations) {
    const item = (paths[specPath(op.path)] ??= {});
    if (item[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is declared twice`);
    item[op.method] = render(op);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'matrix-orchestrator',
      version: '1',
      description:
        'The Matrix side of a community platform as durable Temporal workflows: users, rooms, members, DMs, platform events and the realtime relay. Errors are Matrix-style `{errcode, error}`.',
    },
    tags: [...new Set(operations.flatMap((o) => o.tags))].map((name) => ({ name })),
    paths,
    components: { schemas: { ...COMPONENT_SCHEMAS, ...MEDIA_SCHEMAS, ...OFFBOARD_SCHEMAS }, securitySchemes: SECURITY_SCHEMES },
  };
}
