import type { Payload } from '@temporalio/common';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { timingSafeEqual } from 'node:crypto';
import { EncryptionCodec } from '../../lib/codec.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { operation, ref } from '../operation.js';
import { CODEC_JSON_BOUNDS } from '../json-bounds.js';
import { readJsonObject } from '../validation.js';

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

/**
 * The remote codec the Temporal UI and CLI call (`POST /codec/decode`, `/codec/encode`, the
 * proto-JSON `{payloads: [...]}` format) to show our encrypted payloads. CORS admits the UI's
 * origins; with CODEC_ACCESS_TOKEN set, callers must present it (the UI's passAccessToken).
 */
export function codecRoutes(deps: AppDeps) {
  const codec = new EncryptionCodec(deps.config.payloads.keys, deps.config.payloads.activeKeyId);
  const { corsOrigins, accessToken } = deps.config.codec;
  const expected = accessToken ? Buffer.from(`Bearer ${accessToken}`) : null;
  const app = new Hono<ApiEnv>();
  app.use(
    '/codec/*',
    cors({
      origin: (origin) => (corsOrigins.includes(origin) ? origin : null),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['content-type', 'x-namespace', 'authorization'],
      credentials: true,
    }),
  );
  app.use('/codec/*', async (c, next) => {
    if (expected) {
      const given = Buffer.from(c.req.header('authorization') ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new ApiError('M_UNKNOWN_TOKEN', 'codec: missing or wrong access token');
    } else if (c.req.header('origin') && !corsOrigins.includes(c.req.header('origin')!)) {
      throw new ApiError('M_FORBIDDEN', 'codec: origin not allowed (CODEC_CORS_ORIGINS)');
    }
    await next();
  });
  for (const op of ['encode', 'decode'] as const) {
    app.post(ops[op].path, async (c) => {
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
