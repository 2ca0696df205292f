/**
 * A small JSON Schema (2020-12) checker for the keywords our OpenAPI spec uses: the tests' oracle
 * of what the spec says is valid, written apart from api/spec/schema.ts so it cannot share its bugs.
 * Lengths count code points, as JSON Schema does.
 */
type Schema = { [k: string]: unknown };

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/** Whether `value` is valid against `schema`; `$ref`s resolve in `root` (the OpenAPI document). */
export function isValid(schema: Schema, value: unknown, root: Schema): boolean {
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Schema)[key], root);
    if (!isValid(target as Schema, value, root)) return false;
  }
  const t = typeOf(value);
  if (schema.type !== undefined && schema.type !== t && !(schema.type === 'number' && t === 'integer')) return false;
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) return false;
  if ('const' in schema && schema.const !== value) return false;
  if (schema.anyOf && !(schema.anyOf as Schema[]).some((s) => isValid(s, value, root))) return false;
  if (schema.oneOf && (schema.oneOf as Schema[]).filter((s) => isValid(s, value, root)).length !== 1) return false;
  if (schema.not && isValid(schema.not as Schema, value, root)) return false;
  if (t === 'string') {
    const s = value as string;
    const length = [...s].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) return false;
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) return false;
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(s)) return false;
  }
  if (t === 'integer' || t === 'number') {
    if (typeof schema.minimum === 'number' && (value as number) < schema.minimum) return false;
    if (typeof schema.maximum === 'number' && (value as number) > schema.maximum) return false;
  }
  if (t === 'array') {
    const a = value as unknown[];
    if (typeof schema.minItems === 'number' && a.length < schema.minItems) return false;
    if (typeof schema.maxItems === 'number' && a.length > schema.maxItems) return false;
    if (schema.uniqueItems && new Set(a.map((i) => JSON.stringify(i))).size !== a.length) return false;
    if (schema.items && !a.every((i) => isValid(schema.items as Schema, i, root))) return false;
  }
  if (t === 'object') {
    const o = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    if (schema.required && !(schema.required as string[]).every((k) => k in o)) return false;
    for (const [k, v] of Object.entries(o)) {
      if (props[k]) {
        if (!isValid(props[k], v, root)) return false;
      } else if (schema.additionalProperties === false) {
        return false;
      } else if (
        typeof schema.additionalProperties === 'object' &&
        !isValid(schema.additionalProperties as Schema, v, root)
      ) {
        return false;
      }
    }
  }
  return true;
}
