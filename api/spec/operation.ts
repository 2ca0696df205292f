/**
 * One documented operation of the HTTP API. Each route file declares its operations beside the
 * handlers, registers the handlers at `op.path` and parses bodies with `op.body`; api/spec/openapi.ts
 * renders the spec from these objects, and test/unit/openapi.test.ts compares it with the router.
 */
import type { ErrorCode } from '../errors.js';
import type { JsonSchema } from './schema.js';

export type Method = 'get' | 'put' | 'post' | 'delete';

/**
 * Who may call: `service` (the platform's service JWT), `relay` (a user JWT or a service JWT),
 * `user` (a user JWT, also in `?access_token`), `homeserver` (the appservice hs_token), `codec`
 * (the credential CODEC_AUTH names, and an allowed origin), `public` (nobody needs to authenticate).
 */
export type Security = 'service' | 'relay' | 'user' | 'homeserver' | 'codec' | 'public';

export interface QueryParam {
  name: string;
  description: string;
  schema: JsonSchema;
  required?: boolean;
}

export interface Answer {
  description: string;
  /** A JSON body's schema (usually a `$ref` to components), or another media type and its schema. */
  json?: JsonSchema;
  content?: Record<string, JsonSchema>;
  headers?: Record<string, string>;
}

export interface Operation<P extends string = string> {
  method: Method;
  /** The Hono path (`/v1/tenants/:tenant/users`); the spec writes `{tenant}`. */
  path: P;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  security: Security;
  query?: readonly QueryParam[];
  /**
   * The JSON body's schema: an api/spec/schema.ts object's `.json`, the same object the route parses with;
   * `contentType` for a body that is not JSON (a file).
   */
  body?: { schema: JsonSchema; required?: boolean; description?: string; contentType?: string };
  responses: Record<number, Answer>;
  /** The error codes this operation answers with (besides the ones every request can get). */
  errors?: readonly ErrorCode[];
}

/** Declares an operation, keeping its path's literal type for Hono's typed `c.req.param`. */
export function operation<const P extends string>(op: Operation<P>): Operation<P> {
  return op;
}

/**
 * `/v1/tenants/:tenant/users` → `/v1/tenants/{tenant}/users`. Only a whole segment is a parameter:
 * the `:batch` of `users:batch` stays literal (a custom method, as in Google's AIP-136).
 */
export const specPath = (honoPath: string): string => honoPath.replace(/\/:([A-Za-z0-9_]+)/g, '/{$1}');

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** A workflow-backed change: 200 with the outcome, or 202 with the operation to follow. */
export function outcomeAnswers(completed: string, running = 'Running'): Record<number, Answer> {
  return {
    200: { description: 'Done within `API_WAIT_MS`: the outcome.', json: ref(completed) },
    202: {
      description: 'Still running after `API_WAIT_MS`: follow the operation.',
      json: ref(running),
      headers: { Location: 'The operation: `/v1/operations/{workflowId}`.' },
    },
  };
}

export const emptyAnswer = (description: string): Answer => ({ description, json: ref('Empty') });

/**
 * An operation's path below the prefix its router is mounted at (`app.route(prefix, router)` in
 * api/app.ts): the spec keeps whole paths, each router registers the part below its own prefix.
 */
export function below<const Pre extends string, const P extends string>(
  prefix: Pre,
  op: Pick<Operation<P>, 'path'>,
): P extends `${Pre}${infer Rest}` ? (Rest extends '' ? '/' : Rest) : never {
  if (!op.path.startsWith(prefix)) throw new Error(`operation ${op.path} is not under ${prefix}`);
  return (op.path.slice(prefix.length) || '/') as P extends `${Pre}${infer Rest}`
    ? Rest extends ''
      ? '/'
      : Rest
    : never;
}
