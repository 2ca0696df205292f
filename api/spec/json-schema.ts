/** The JSON Schema pieces the OpenAPI components are written with (openapi-*.ts, search/schema.ts). */
import type { JsonSchema } from './schema.js';

export const str: JsonSchema = { type: 'string' };
export const bool: JsonSchema = { type: 'boolean' };
/** A count or an epoch time: a whole number, never negative. */
export const int: JsonSchema = { type: 'integer', minimum: 0 };
export const nullable = (s: JsonSchema): JsonSchema => ({ anyOf: [s, { type: 'null' }] });

/** An object whose listed properties are all required (`optional` ones excepted). */
export function obj(properties: Record<string, JsonSchema>, description?: string, optional: string[] = []): JsonSchema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
  };
}
