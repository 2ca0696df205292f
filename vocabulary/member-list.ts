/**
 * A room's complete member list (`PUT …/rooms/{kind}/{slug}/members`, the `setMembers` change):
 * its limits, the check both the API and the room workflow's validator run, and the outcome that
 * says what the list changed. Pure: workflow code imports it.
 */
import { DISPLAY_NAME_MAX_LENGTH } from './user-contract.js';
import { describeValue } from './describe.js';
import { roleProblem, slugProblem, type RoomKind } from './ids.js';
import { DM_MEMBERS_ARE_FIXED } from './room-rules.js';

/** Members in one list; a room's list is set whole, so this is also the largest room the route manages. */
export const MEMBER_LIST_MAX = 10_000;
/**
 * Bytes of a list request's body: the list travels to the room workflow in one update, which
 * Temporal caps at 2 MB per payload. 10,000 members with slugs and names of 40 characters fit.
 */
export const MEMBER_LIST_MAX_BYTES = 1536 * 1024;

/** One desired member: who, with which role, and the name used if their account is made now. */
export interface ListedMember {
  userSlug: string;
  role: string;
  displayName?: string;
}

/** What a list changed in the desired members, and which members the homeserver refused. */
export interface MemberListOutcome {
  /** Listed members who were not members before. */
  added: string[];
  /** Members before who are not listed: taken out. */
  removed: string[];
  /** Members who stay, with another role. */
  roleChanged: { userSlug: string; from: string; to: string }[];
  /** Listed members already there with that role (brought back in if the homeserver had lost them). */
  unchanged: number;
  /** Members the homeserver work failed for (the rest of the list went ahead); repeating the list tries them again. */
  failed: { userSlug: string; type: string; message: string }[];
}

/** How many offending entries a refusal names. */
const NAMED = 5;

function entryProblem(kind: RoomKind, entry: unknown, at: string, roleRequired: boolean): string | null {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return `${at} must be a JSON object`;
  const e = entry as Record<string, unknown>;
  const unknown = Object.keys(e).find((k) => k !== 'userSlug' && k !== 'role' && k !== 'displayName');
  if (unknown !== undefined) return `${at} has an unknown field ${describeValue(unknown)}`;
  if (typeof e.userSlug !== 'string') return `${at}.userSlug must be a string`;
  const slug = slugProblem(e.userSlug, `${at}.userSlug`);
  if (slug) return slug;
  if (e.role === undefined && roleRequired) return `${at}.role is missing`;
  if (e.role !== undefined) {
    if (typeof e.role !== 'string') return `${at}.role must be a string`;
    const role = roleProblem(kind, e.role, `${at}.role`);
    if (role) return role;
  }
  const name = e.displayName;
  if (name === undefined) return null;
  if (typeof name !== 'string' || name.trim() === '') return `${at}.displayName must be a non-empty string`;
  if (name.length > DISPLAY_NAME_MAX_LENGTH) return `${at}.displayName is longer than ${DISPLAY_NAME_MAX_LENGTH} characters`;
  return null;
}

/**
 * Why `members` is not a usable complete list for a room of `kind`, or null: an array of at most
 * MEMBER_LIST_MAX `{userSlug, role?, displayName?}` with each slug once and roles of the kind. Names
 * the first few offending entries by index. An empty list is fine: it empties the room. The room
 * workflow's validator requires every role (the API fills in `member` where the request left it out).
 */
export function memberListProblem(kind: RoomKind, members: unknown, roleRequired = false): string | null {
  if (kind === 'dm') return DM_MEMBERS_ARE_FIXED;
  if (!Array.isArray(members)) return 'field "members" must be an array';
  if (members.length > MEMBER_LIST_MAX)
    return `field "members" has ${members.length} entries, over the limit of ${MEMBER_LIST_MAX}`;
  const problems: string[] = [];
  let offending = 0;
  const first = new Map<string, number>();
  members.forEach((entry: unknown, i) => {
    const at = `members[${i}]`;
    let p = entryProblem(kind, entry, at, roleRequired);
    if (!p) {
      const slug = (entry as ListedMember).userSlug;
      const seen = first.get(slug);
      if (seen !== undefined) p = `${at}.userSlug repeats members[${seen}] (${describeValue(slug)})`;
      else first.set(slug, i);
    }
    if (!p) return;
    offending += 1;
    if (problems.length < NAMED) problems.push(p);
  });
  if (offending === 0) return null;
  const more = offending > problems.length ? ` (and ${offending - problems.length} more)` : '';
  return problems.join('; ') + more;
}
