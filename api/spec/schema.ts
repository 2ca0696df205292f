/**
 * Request bodies described once: each field knows how the route reads it (with the API's exact
 * messages, through the helpers in validation.ts) and how the OpenAPI spec describes it (JSON
 * Schema). Routes parse with the same object the spec is rendered from, so the two cannot drift.
 */
import { ApiError } from '../errors.js';
import { describeValue } from '../../vocabulary/describe.js';
import { assertValid, rejectUnknownFields, requireString } from './validation.js';

export type JsonSchema = { [key: string]: unknown };
export type Body = Record<string, unknown>;
type Problem = string | null;

/** One field of a JSON object: how it is read (present or required) and what the spec says of it. */
export interface Field<T> {
  readonly optional: boolean;
  readonly json: JsonSchema;
  read(body: Body, name: string): T;
}

/**
 * Non-blank, without control characters: what `requireString` accepts. Lengths are counted by the
 * API in UTF-16 code units (JavaScript's `length`), which only differs from JSON Schema's code
 * points for characters outside the Basic Multilingual Plane.
 */
export const TEXT_PATTERN = String.raw`^(?!\s*$)[^\u0000-\u001f\u007f]*$`;

const doc = (description?: string): JsonSchema => (description ? { description } : {});

/** A non-blank string of at most `maxLength` characters, without control characters. */
export function text(maxLength: number, description?: string): Field<string> {
  return {
    optional: false,
    json: { type: 'string', minLength: 1, maxLength, pattern: TEXT_PATTERN, ...doc(description) },
    read: (body, name) => requireString(body, name, maxLength),
  };
}

/**
 * A string read like `text` (at most `readLimit` characters), then checked by `check`, whose
 * problem is the 400 `M_INVALID_PARAM` message; `json` is the exact grammar the check enforces.
 */
export function formatted(
  readLimit: number,
  check: (v: string, name: string) => Problem,
  json: JsonSchema,
): Field<string> {
  return {
    optional: false,
    json: { type: 'string', ...json },
    read(body, name) {
      const v = requireString(body, name, readLimit);
      assertValid(check(v, name));
      return v;
    },
  };
}

/** One of `values`; anything else is a 400 listing them. */
export function choice<const T extends string>(values: readonly T[], description?: string): Field<T> {
  return {
    optional: false,
    json: { type: 'string', enum: [...values], ...doc(description) },
    read(body, name) {
      const v = body[name];
      if (v === undefined) throw new ApiError('M_BAD_JSON', `missing field "${name}"`);
      if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
        throw new ApiError(
          'M_INVALID_PARAM',
          `field "${name}" must be one of ${values.map((a) => describeValue(a)).join(', ')}`,
        );
      }
      return v as T;
    },
  };
}

/** `true` or `false` (a missing required flag is told the same way). */
export function flag(description?: string): Field<boolean> {
  return {
    optional: false,
    json: { type: 'boolean', ...doc(description) },
    read(body, name) {
      const v = body[name];
      if (typeof v !== 'boolean') throw new ApiError('M_BAD_JSON', `field "${name}" must be true or false`);
      return v;
    },
  };
}

/** Any string; the route checks it further (`json` says how) where the check needs more context. */
export function str(json: JsonSchema): Field<string> {
  return {
    optional: false,
    json: { type: 'string', ...json },
    read(body, name) {
      if (typeof body[name] !== 'string') throw new ApiError('M_BAD_JSON', `field "${name}" must be a string`);
      return body[name];
    },
  };
}

/** A JSON object left to the route to read (its shape depends on another field). */
export function anyObject(json: JsonSchema = {}): Field<Body> {
  return {
    optional: false,
    json: { type: 'object', ...json },
    read(body, name) {
      const v = body[name];
      if (!v || typeof v !== 'object' || Array.isArray(v))
        throw new ApiError('M_BAD_JSON', `field "${name}" must be a JSON object`);
      return v as Body;
    },
  };
}

export interface ListOptions {
  items: JsonSchema;
  minItems?: number;
  maxItems?: number;
  /** The 400 `M_BAD_JSON` message for anything but an array of strings of the right length. */
  shape: string;
  /** Each item's problem, a 400 `M_INVALID_PARAM`. */
  check?: (item: string) => Problem;
  /** With `uniqueItems`: the 400 `M_INVALID_PARAM` message for a repeated item. */
  duplicate?: string;
}

/** An array of strings. */
export function list(o: ListOptions): Field<string[]> {
  const { minItems = 0, maxItems = Infinity } = o;
  const bounds = { ...(minItems > 0 ? { minItems } : {}), ...(maxItems < Infinity ? { maxItems } : {}) };
  return {
    optional: false,
    json: { type: 'array', items: o.items, ...bounds, ...(o.duplicate ? { uniqueItems: true } : {}) },
    read(body, name) {
      const v = body[name];
      if (!Array.isArray(v) || v.length < minItems || v.length > maxItems || !v.every((i) => typeof i === 'string')) {
        throw new ApiError('M_BAD_JSON', o.shape);
      }
      for (const item of v as string[]) assertValid(o.check?.(item) ?? null);
      if (o.duplicate && new Set(v).size !== v.length) throw new ApiError('M_INVALID_PARAM', o.duplicate);
      return v as string[];
    },
  };
}

/** The field may be left out (read as `undefined`). */
export function optional<T>(field: Field<T>): Field<T | undefined> {
  return {
    optional: true,
    json: field.json,
    read: (body, name) => (body[name] === undefined ? undefined : field.read(body, name)),
  };
}

type Fields = Record<string, Field<unknown>>;
export type Parsed<F extends Fields> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

/** A JSON object body: unknown fields are refused by name, then each field is read in order. */
export interface ObjectSchema<F extends Fields> {
  readonly fields: F;
  readonly json: JsonSchema;
  parse(body: Body): Parsed<F>;
}

export function object<const F extends Fields>(fields: F, description?: string): ObjectSchema<F> {
  const names = Object.keys(fields);
  const required = names.filter((n) => !fields[n]!.optional);
  return {
    fields,
    json: {
      type: 'object',
      ...doc(description),
      properties: Object.fromEntries(names.map((n) => [n, fields[n]!.json])),
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: false,
    },
    parse(body) {
      rejectUnknownFields(body, names);
      return Object.fromEntries(names.map((n) => [n, fields[n]!.read(body, n)])) as Parsed<F>;
    },
  };
}

/**
 * Like `object`, for a shape someone else owns (the platform's events): fields it does not name
 * are ignored, not refused, and the spec allows them; the named ones are read as in `object`.
 */
export function openObject<const F extends Fields>(fields: F, description?: string): ObjectSchema<F> {
  const { additionalProperties: _closed, ...json } = object(fields, description).json;
  const names = Object.keys(fields);
  return {
    fields,
    json,
    parse: (body) => Object.fromEntries(names.map((n) => [n, fields[n]!.read(body, n)])) as Parsed<F>,
  };
}
