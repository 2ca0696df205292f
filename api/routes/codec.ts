import type { Payload } from '@temporalio/common';
import { Hono, type MiddlewareHandler } from 'hono';
import type { BlankSchema } from 'hono/types';
import { bodyLimit } from 'hono/body-limit';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { timingSafeEqual } from 'node:crypto';
import { EncryptionCodec } from '../../lib/codec.js';
import type { CodecAuth } from '../../lib/config.js';
import { describeJoseError } from '../auth.js';
import { corsFor } from '../cors.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError, respondError } from '../errors.js';
import { operation, ref, below } from '../spec/operation.js';
import { CODEC_JSON_BOUNDS } from '../json-bounds.js';
import { readJsonObject } from '../spec/validation.js';

/** Where api/app.ts mounts this router; its routes are registered below it. */
export const CODEC_PREFIX = '/codec';

/** The UI sends whole histories' payloads in one request. */
const CODEC_MAX_BYTES = 8 * 1024 * 1024;

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const PAYLOADS_BODY = {
  type: 'object',
  properties: { payloads: { type: 'array', items: ref('CodecPayload') } },
  description: 'Temporal proto-JSON `Payloads`; an empty list may be left out.',
};
const codecOp = (op: 'encode' | 'decode') =>
  operation({
    method: 'post',
    path: `/codec/${op}`,
    operationId: `codec${op === 'encode' ? 'Encode' : 'Decode'}`,
    summary: `${op === 'encode' ? 'Encrypt' : 'Decrypt'} payloads for the Temporal UI and CLI`,
    tags: ['codec'],
    security: 'codec',
    body: { schema: PAYLOADS_BODY },
    responses: { 200: { description: `The ${op}d payloads.`, json: ref('CodecPayloads') } },
  });
const ops = { encode: codecOp('encode'), decode: codecOp('decode') };
export const codecOperations = Object.values(ops);

const BEARER = /^Bearer\s+(\S+)$/i;

/** The JWKS could not be had (down, slow, not a key set): our side's problem, not the caller's token. */
const keysUnavailable = (err: unknown): boolean =>
  !(err instanceof joseErrors.JOSEError) ||
  ['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC'].includes(err.code);

/** Checks the caller's credential as CODEC_AUTH says; with none chosen, refuses everyone (fail closed). */
function codecAuth(auth: CodecAuth | null, corsOrigins: readonly string[]): MiddlewareHandler<ApiEnv> {
  const expected = auth?.mode === 'token' ? Buffer.from(auth.token) : null;
  const jwks = auth?.mode === 'jwt' ? createRemoteJWKSet(auth.jwksUrl) : null;
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && !corsOrigins.includes(origin)) {
      throw new ApiError('M_FORBIDDEN', 'codec: origin not allowed (CODEC_CORS_ORIGINS)');
    }
    if (!auth) throw new ApiError('M_FORBIDDEN', 'codec: no credential is configured on this server (CODEC_AUTH)');
    if (auth.mode === 'none') return next();
    const given = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
    if (!given) throw new ApiError('M_MISSING_TOKEN', 'codec: missing Authorization: Bearer <token>');
    if (expected) {
      const bytes = Buffer.from(given);
      if (bytes.length !== expected.length || !timingSafeEqual(bytes, expected)) {
        throw new ApiError('M_UNKNOWN_TOKEN', 'codec: wrong access token');
      }
    } else if (auth.mode === 'jwt') {
      try {
        await jwtVerify(given, jwks!, {
          requiredClaims: ['exp'],
          ...(auth.audience ? { audience: auth.audience } : {}),
          ...(auth.issuer ? { issuer: auth.issuer } : {}),
        });
      } catch (err) {
        if (keysUnavailable(err)) {
          throw new ApiError(
            'OM_UNAVAILABLE',
            "codec: the identity provider's keys (CODEC_JWKS_URL) could not be fetched; retry later",
          );
        }
        throw new ApiError('M_UNKNOWN_TOKEN', `codec: JWT rejected: ${describeJoseError(err)}`);
      }
    }
    await next();
  };
}

/**
 * The remote codec the Temporal UI and CLI call (`POST /codec/decode`, `/codec/encode`, the
 * proto-JSON `{payloads: [...]}` format) to show our encrypted payloads. CORS admits the UI's
 * origins; callers present the credential CODEC_AUTH names (a shared token, or the UI user's JWT
 * passed with TEMPORAL_CODEC_PASS_ACCESS_TOKEN), unless the operator chose `none`.
 */
export function codecRoutes(deps: AppDeps) {
  const codec = new EncryptionCodec(deps.config.payloads.keys, deps.config.payloads.activeKeyId);
  const { corsOrigins, auth } = deps.config.codec;
  const app = new Hono<ApiEnv, BlankSchema, typeof CODEC_PREFIX>();
  app.use(
    '/*',
    corsFor(corsOrigins, {
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['content-type', 'x-namespace', 'authorization'],
      credentials: true,
    }),
  );
  app.use('/*', codecAuth(auth, corsOrigins));
  // After the credential check, so only a caller who may use the codec makes it read a body; counts
  // streamed bytes too, so a chunked body without Content-Length stops at the limit, not at its end.
  app.use(
    '/*',
    bodyLimit({
      maxSize: CODEC_MAX_BYTES,
      onError: (c) => respondError(c, 'M_TOO_LARGE', `request body exceeds ${CODEC_MAX_BYTES} bytes`),
    }),
  );
  for (const op of ['encode', 'decode'] as const) {
    app.post(below(CODEC_PREFIX, ops[op]), async (c) => {
      const body = await readJsonObject(c, CODEC_MAX_BYTES, CODEC_JSON_BOUNDS);
      // Proto3 JSON omits empty lists: the temporal CLI sends `{}` when there is nothing to decode.
      if (body.payloads === undefined) body.payloads = [];
      if (!Array.isArray(body.payloads)) throw new ApiError('M_BAD_JSON', 'field "payloads" must be an array');
      let out: Payload[];
      try {
        out = await codec[op]((body.payloads as JsonPayload[]).map(fromJson));
      } catch (err) {
        throw new ApiError('M_INVALID_PARAM', `cannot ${op}: ${(err as Error).message}`);
      }
      return c.json({ payloads: out.map(toJson) });
    });
  }
  return app;
}
