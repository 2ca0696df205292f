/**
 * The JSON form of an import file:
 *   {"entities": [{"kind": "event"|"group", "slug", "name"?, "topic"?, "visibility"?,
 *                  "members": [{"userSlug", "role"?, "displayName"?}]}]}
 * Each entity once, with its complete member list (checked as `PUT …/members` checks it). Problems
 * name their JSON path (`entities[2].members[0].role`).
 */
import { describeValue } from '../../vocabulary/describe.js';
import { memberListProblem } from '../../vocabulary/member-list.js';
import { ImportFileError, PlanBuilder, type ImportPlan, type MatrixScope } from './import-plan.js';

const ENTITY_FIELDS = ['kind', 'slug', 'name', 'topic', 'visibility', 'members'];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function readJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ImportFileError(file, [`not JSON: ${(err as Error).message}`]);
  }
}

function readEntity(b: PlanBuilder, raw: unknown, at: string): void {
  if (!isObject(raw)) return b.problem(at, 'must be an object {kind, slug, members, name?, topic?, visibility?}');
  const unknown = Object.keys(raw).find((k) => !ENTITY_FIELDS.includes(k));
  if (unknown !== undefined) return b.problem(at, `unknown field ${describeValue(unknown)} (known: ${ENTITY_FIELDS.join(', ')})`);
  for (const k of ['kind', 'slug', 'name', 'topic', 'visibility'])
    if (raw[k] !== undefined && typeof raw[k] !== 'string') return b.problem(`${at}.${k}`, 'must be a string');
  if (raw.kind === undefined || raw.slug === undefined) return b.problem(at, 'needs "kind" and "slug"');
  const [kind, slug] = [raw.kind as string, raw.slug as string];
  const first = b.firstSeen(kind, slug);
  if (first !== undefined) return b.problem(at, `${kind}/${slug} is listed twice (first at ${first}): give each entity once, with its whole list`);
  const seen = b.entity(kind, slug, at, { kind: `${at}.kind`, slug: `${at}.slug` });
  if (!seen) return;
  for (const key of ['name', 'topic', 'visibility'] as const)
    if (raw[key] !== undefined) b.setting(seen, key, raw[key] as string, at, `${at}.${key}`);
  if (raw.members === undefined) return b.problem(at, 'needs "members" (its complete list; [] empties the room)');
  // The route's own check of a list, its paths put below this entity's.
  const problem = memberListProblem(seen.entity.kind, raw.members);
  if (problem) return b.problem(at, problem.replace(/\bmembers\[/g, `${at}.members[`).replace('field "members"', `${at}.members`));
  (raw.members as { userSlug: string; role?: string; displayName?: string }[]).forEach((m, j) => {
    const path = `${at}.members[${j}]`;
    b.member(seen, m, path, { userSlug: `${path}.userSlug`, role: `${path}.role`, displayName: `${path}.displayName` });
  });
}

/** Reads a JSON import file's text into a checked plan, or throws ImportFileError naming JSON paths. */
export function parseImportJson(file: string, text: string, scope?: MatrixScope): ImportPlan {
  const doc = readJson(file, text);
  const b = new PlanBuilder(scope);
  if (!isObject(doc) || !Array.isArray(doc.entities))
    throw new ImportFileError(file, ['the top level must be an object {"entities": [...]}']);
  const unknown = Object.keys(doc).find((k) => k !== 'entities');
  if (unknown !== undefined) b.problem('the top level', `unknown field ${describeValue(unknown)}`);
  doc.entities.forEach((raw: unknown, i) => readEntity(b, raw, `entities[${i}]`));
  return b.build(file);
}
