import type { Context } from 'hono';
import { describeNames, describeValue } from '../../vocabulary/describe.js';
import { ApiError } from '../errors.js';
import { CLIENT_JSON_BOUNDS, JsonBoundsError, parseBoundedJson, type JsonBounds } from '../json-bounds.js';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Parses JSON text from a client within `bounds` (api/json-bounds.ts) into a JSON object; anything
 * else is an ApiError naming what is wrong (`what` names the text: "request body", "frame").
 */
export function parseJsonObject(
  text: string,
  what: string,
  bounds: JsonBounds = CLIENT_JSON_BOUNDS,
): Record<string, unknown> {
  let body: unknown;
  try {
    body = parseBoundedJson(text, bounds, what);
  } catch (err) {
    if (err instanceof JsonBoundsError) throw new ApiError(err.errcode, err.message);
    throw err;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError('M_BAD_JSON', `${what} must be a JSON object`);
  }
  return body as Record<string, unknown>;
}

/**
 * Reads the body as a JSON object within `bounds` (nesting, sizes and prototype keys are checked
 * before anything walks it), with a message naming what is wrong when it is not one.
 */
export async function readJsonObject(
  c: Context,
  maxBytes = MAX_BODY_BYTES,
  bounds: JsonBounds = CLIENT_JSON_BOUNDS,
): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError('M_NOT_JSON', 'request body must be JSON (Content-Type: application/json)');
  }
  const text = await c.req.text();
  if (Buffer.byteLength(text) > maxBytes) throw new ApiError('M_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);
  return parseJsonObject(text, 'request body', bounds);
}

/** Rejects fields outside `allowed`, naming (a few of) them: a typo must not be silently ignored. */
export function rejectUnknownFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new ApiError('M_BAD_JSON', `unknown field${unknown.length > 1 ? 's' : ''}: ${describeNames(unknown)}`);
  }
}

/** Which characters a text field refuses, and how the refusal is worded after `field "x" `. */
export interface ControlCharacters {
  readonly forbidden: RegExp;
  readonly problem: string;
}

/** Control characters have no place in names and would corrupt logs and Matrix profiles. */
// eslint-disable-next-line no-control-regex
const NO_CONTROL: ControlCharacters = { forbidden: /[\u0000-\u001f\u007f]/, problem: 'contains control characters' };

export function requireString(
  body: Record<string, unknown>,
  field: string,
  maxLength: number,
  control: ControlCharacters = NO_CONTROL,
): string {
  const v = body[field];
  if (v === undefined) throw new ApiError('M_BAD_JSON', `missing field "${field}"`);
  if (typeof v !== 'string') throw new ApiError('M_BAD_JSON', `field "${field}" must be a string`);
  if (v.trim() === '') throw new ApiError('M_INVALID_PARAM', `field "${field}" must not be empty`);
  if (v.length > maxLength)
    throw new ApiError('M_INVALID_PARAM', `field "${field}" is longer than ${maxLength} characters`);
  if (control.forbidden.test(v)) throw new ApiError('M_INVALID_PARAM', `field "${field}" ${control.problem}`);
  return v;
}

/** Throws 400 naming the problem when `problem` is not null. */
export function assertValid(problem: string | null): void {
  if (problem) throw new ApiError('M_INVALID_PARAM', problem);
}

export function optionalString(body: Record<string, unknown>, field: string, maxLength: number): string | undefined {
  return body[field] === undefined ? undefined : requireString(body, field, maxLength);
}

export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ApiError('M_BAD_JSON', `field "${field}" must be true or false`);
  return v;
}

export function optionalEnum<T extends string>(
  body: Record<string, unknown>,
  field: string,
  allowed: readonly T[],
): T | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ApiError(
      'M_INVALID_PARAM',
      `field "${field}" must be one of ${allowed.map((a) => describeValue(a)).join(', ')}`,
    );
  }
  return v as T;
}

/** An optional JSON body: empty is `{}`, anything else must be a JSON object. */
export async function readOptionalJsonObject(c: Context): Promise<Record<string, unknown>> {
  const length = c.req.header('content-length');
  if (!c.req.header('content-type') && (length === undefined || length === '0')) return {};
  return readJsonObject(c);
}
