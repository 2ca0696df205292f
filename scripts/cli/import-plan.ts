/**
 * What an import file asks for, checked before anything is sent: the entities (event and group
 * rooms) with their complete member lists, and every distinct user with the display name to
 * provision them under. The CSV and JSON readers (import-csv.ts, import-json.ts) feed one
 * PlanBuilder, which runs the service's own checks (vocabulary/ids.ts, vocabulary/member-list.ts)
 * and names where each problem is (`line 7`, `entities[2].members[0].role`).
 */
import { settingsFields } from '../../api/spec/fields.js';
import { TEXT_PATTERN } from '../../api/spec/schema.js';
import { describeValue } from '../../vocabulary/describe.js';
import { roleProblem, roomAliasProblem, roomSlugProblem, slugProblem, userIdProblem } from '../../vocabulary/ids.js';
import { MEMBER_LIST_MAX, MEMBER_LIST_MAX_BYTES, type ListedMember } from '../../vocabulary/member-list.js';
import { DISPLAY_NAME_MAX_LENGTH } from '../../vocabulary/user-contract.js';

export const ENTITY_KINDS = ['event', 'group'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];
export type Visibility = 'public' | 'private';

export interface ImportEntity {
  kind: EntityKind;
  slug: string;
  name?: string;
  topic?: string;
  visibility?: Visibility;
  /** The complete list: roles filled in (`member` where the file gave none). */
  members: ListedMember[];
}

export interface ImportPlan {
  entities: ImportEntity[];
  /** Every distinct member, in first-seen order, with the display name from the file or else the slug. */
  users: { slug: string; displayName: string }[];
}

/** Where the Matrix names go: with it, user ids and room aliases are checked against Matrix's length limits too. */
export interface MatrixScope {
  prefix: string;
  serverName: string;
  tenant: string;
}

/** The problems of an import file, each naming where it is. */
export class ImportFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, PROBLEMS_SHOWN);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing was sent:\n  ${shown.join('\n  ')}${more}`);
    this.name = 'ImportFileError';
  }
}

/** How many problems the message lists (all of them count). */
const PROBLEMS_SHOWN = 20;
const TEXT = new RegExp(TEXT_PATTERN);
const isKind = (k: string): k is EntityKind => (ENTITY_KINDS as readonly string[]).includes(k);

/** Why a display name or a room name or topic is unusable, or null. */
function textProblem(value: string, field: string, max: number): string | null {
  if (!TEXT.test(value)) return `${field} must not be blank or contain control characters`;
  if (value.length > max) return `${field} is longer than ${max} characters`;
  return null;
}

interface Seen {
  entity: ImportEntity;
  at: string;
  members: Map<string, string>;
}

export class PlanBuilder {
  readonly problems: string[] = [];
  private readonly entities = new Map<string, Seen>();
  private readonly users = new Map<string, { displayName?: string; at: string }>();

  constructor(private readonly scope?: MatrixScope) {}

  /** `where: what` as one problem (`what` alone when it starts by naming the place, as a JSON path). */
  problem(where: string, what: string): void {
    this.problems.push(what.startsWith(where) ? what : `${where}: ${what}`);
  }

  /** The entity `kind`/`slug` (made on first sight), or null when either is unusable. */
  entity(kind: string, slug: string, at: string, fields = { kind: 'kind', slug: 'slug' }): Seen | null {
    if (!isKind(kind)) {
      this.problem(at, `${fields.kind} ${describeValue(kind)} is unknown: use ${ENTITY_KINDS.join(' or ')}`);
      return null;
    }
    const p =
      roomSlugProblem(kind, slug) ??
      (this.scope && roomAliasProblem(this.scope.prefix, this.scope.serverName, this.scope.tenant, kind, slug));
    if (p) {
      this.problem(at, p.replace(/^slug\b/, fields.slug));
      return null;
    }
    const key = `${kind}/${slug}`;
    let seen = this.entities.get(key);
    if (!seen) this.entities.set(key, (seen = { entity: { kind, slug, members: [] }, at, members: new Map() }));
    return seen;
  }

  /** Whether `kind`/`slug` has been seen, and where first. */
  firstSeen(kind: string, slug: string): string | undefined {
    return this.entities.get(`${kind}/${slug}`)?.at;
  }

  /** A room setting; the same entity giving two different values is a problem. */
  setting(seen: Seen, key: 'name' | 'topic' | 'visibility', value: string, at: string, field: string = key): void {
    if (key === 'visibility') {
      if (value !== 'public' && value !== 'private') {
        this.problem(at, `${field} ${describeValue(value)} must be public or private`);
        return;
      }
    } else {
      const p = textProblem(value, field, settingsFields[key].json.maxLength as number);
      if (p) return this.problem(at, p);
    }
    const before = seen.entity[key];
    if (before !== undefined && before !== value)
      return this.problem(at, `${field} ${describeValue(value)} differs from ${describeValue(before)} given before for ${seen.entity.kind}/${seen.entity.slug}`);
    (seen.entity as unknown as Record<string, string>)[key] = value;
  }

  /** One membership; `fields` names the columns or JSON fields in messages. */
  member(
    seen: Seen,
    m: { userSlug: string; role?: string; displayName?: string },
    at: string,
    fields = { userSlug: 'userSlug', role: 'role', displayName: 'displayName' },
  ): void {
    const { kind, slug } = seen.entity;
    const p =
      slugProblem(m.userSlug, fields.userSlug) ??
      (this.scope && userIdProblem(this.scope.prefix, this.scope.serverName, this.scope.tenant, m.userSlug, fields.userSlug)) ??
      (m.role === undefined ? null : roleProblem(kind, m.role, fields.role)) ??
      (m.displayName === undefined ? null : textProblem(m.displayName, fields.displayName, DISPLAY_NAME_MAX_LENGTH));
    if (p) return this.problem(at, p);
    const twice = seen.members.get(m.userSlug);
    if (twice !== undefined) return this.problem(at, `user ${describeValue(m.userSlug)} is listed in ${kind}/${slug} already (${twice})`);
    seen.members.set(m.userSlug, at);
    const user = this.users.get(m.userSlug);
    if (!user) this.users.set(m.userSlug, { displayName: m.displayName, at });
    else if (m.displayName !== undefined) {
      if (user.displayName === undefined) Object.assign(user, { displayName: m.displayName, at });
      else if (user.displayName !== m.displayName)
        this.problem(at, `user ${describeValue(m.userSlug)} has the display name ${describeValue(m.displayName)} here and ${describeValue(user.displayName)} at ${user.at}`);
    }
    seen.entity.members.push({
      userSlug: m.userSlug,
      role: m.role ?? 'member',
      ...(m.displayName !== undefined ? { displayName: m.displayName } : {}),
    });
  }

  /** The plan, or an ImportFileError naming every problem found. */
  build(file: string): ImportPlan {
    for (const { entity, at } of this.entities.values()) {
      const where = `${entity.kind}/${entity.slug} (${at})`;
      if (entity.members.length > MEMBER_LIST_MAX)
        this.problem(where, `${entity.members.length} members, over the limit of ${MEMBER_LIST_MAX} per room`);
      else if (Buffer.byteLength(JSON.stringify({ members: entity.members })) > MEMBER_LIST_MAX_BYTES)
        this.problem(where, `its member list is over the API's ${MEMBER_LIST_MAX_BYTES / 1024} KiB per request`);
    }
    if (this.problems.length) throw new ImportFileError(file, this.problems);
    return {
      entities: [...this.entities.values()].map((s) => s.entity),
      users: [...this.users].map(([slug, u]) => ({ slug, displayName: u.displayName ?? slug })),
    };
  }
}
