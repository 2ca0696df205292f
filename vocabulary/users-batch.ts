/**
 * The users batch (`POST /v1/tenants/{tenant}/users:batch`, decision 0035): inputs, per-user
 * outcomes, its progress query and its limits. Pure: the API, the workflow and the activity share it.
 */
import { defineQuery } from '@temporalio/workflow';
import { DISPLAY_NAME_MAX_LENGTH } from './contract.js';
import { describeValue } from './describe.js';
import { slugProblem, userIdProblem } from './ids.js';
import type { AuditOrigin } from './audit.js';

/** Users in one batch: the API's JSON bounds allow 1,000 items per array, and so does the batch. */
export const USERS_BATCH_MAX = 1_000;
/** Users per activity: the unit retried after a failure, and what the progress advances by. */
export const USERS_BATCH_CHUNK = 100;
/** Users provisioned at once within an activity. */
export const USERS_BATCH_CONCURRENCY = 10;
/**
 * Chunks of a batch in flight at once (decision 0037): while one chunk finishes its last users and
 * the workflow schedules the next, the other keeps the homeserver busy. With USERS_BATCH_CONCURRENCY
 * that is up to 20 users at once, as many as the direct script keeps in flight.
 */
export const USERS_BATCH_CHUNKS_IN_FLIGHT = 2;
/** Attempts of a chunk's activity; on the last one, a user still failing transiently is reported failed. */
export const USERS_BATCH_ATTEMPTS = 8;
/** Request bodies of the batch route may be this large (1,000 users with long names); others 64 KiB. */
export const USERS_BATCH_MAX_BYTES = 1024 * 1024;

export interface BatchUser {
  slug: string;
  displayName: string;
}

export interface UsersBatchInput {
  tenant: string;
  /** The batch's id: its workflow is `users-batch:{tenant}:{batchId}`. */
  batchId: string;
  /** With each user's Matrix id (what a user's outcome names even when the chunk could not run). */
  users: (BatchUser & { userId: string })[];
  requestId?: string;
  /** Who asked (decision 0060): each user's outcome is recorded in the audit trail. */
  origin?: AuditOrigin;
}

export type UserOutcomeKind = 'created' | 'displayNameChanged' | 'reactivated' | 'unchanged' | 'failed';

export interface BatchUserOutcome {
  slug: string;
  userId: string;
  outcome: UserOutcomeKind;
  /** `failed`: the failure's type (FailureType) and message. */
  error?: { type: string; message: string };
}

export type OutcomeCounts = Record<UserOutcomeKind, number>;

export interface UsersBatchResult {
  tenant: string;
  batchId: string;
  total: number;
  counts: OutcomeCounts;
  /** In the order of the request. */
  users: BatchUserOutcome[];
}

/** Where a running batch stands: users done so far (whole chunks) and their outcomes' counts. */
export interface UsersBatchProgress {
  tenant: string;
  batchId: string;
  total: number;
  done: number;
  counts: OutcomeCounts;
}

export const usersBatchProgressQuery = defineQuery<UsersBatchProgress>('usersBatchProgress');

export interface UsersChunkInput {
  tenant: string;
  batchId: string;
  /** Index of the chunk's first user in the batch. */
  offset: number;
  users: BatchUser[];
}

export const usersBatchWorkflowId = (tenant: string, batchId: string): string => `users-batch:${tenant}:${batchId}`;

export function emptyCounts(): OutcomeCounts {
  return { created: 0, displayNameChanged: 0, reactivated: 0, unchanged: 0, failed: 0 };
}

export function countOutcomes(outcomes: readonly BatchUserOutcome[], into: OutcomeCounts = emptyCounts()): OutcomeCounts {
  for (const o of outcomes) into[o.outcome] += 1;
  return into;
}

/** How many offending entries a refusal names. */
const NAMED = 5;

/** Why an entry of the batch's `users` array is unusable, or null; `at` is its field path. */
function entryProblem(entry: unknown, at: string, scope: { prefix: string; serverName: string; tenant: string }): string | null {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return `${at} must be a JSON object`;
  const e = entry as Record<string, unknown>;
  const unknown = Object.keys(e).filter((k) => k !== 'slug' && k !== 'displayName');
  if (unknown.length > 0) return `${at} has an unknown field ${describeValue(unknown[0]!)}`;
  if (typeof e.slug !== 'string') return `${at}.slug must be a string`;
  const slug = slugProblem(e.slug, `${at}.slug`) ?? userIdProblem(scope.prefix, scope.serverName, scope.tenant, e.slug, `${at}.slug`);
  if (slug) return slug;
  const name = e.displayName;
  if (typeof name !== 'string') return `${at}.displayName must be a string`;
  if (name.trim() === '') return `${at}.displayName must not be empty`;
  if (name.length > DISPLAY_NAME_MAX_LENGTH) return `${at}.displayName is longer than ${DISPLAY_NAME_MAX_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return `${at}.displayName contains control characters`;
  return null;
}

/**
 * Why a batch's `users` value is unusable, or null: the shape and count, then each entry's
 * problems and repeated slugs, naming the first few offending entries by index.
 */
export function usersBatchProblem(
  users: unknown,
  scope: { prefix: string; serverName: string; tenant: string },
): { errcode: 'M_BAD_JSON' | 'M_INVALID_PARAM'; message: string } | null {
  if (users === undefined) return { errcode: 'M_BAD_JSON', message: 'missing field "users"' };
  if (!Array.isArray(users)) return { errcode: 'M_BAD_JSON', message: 'field "users" must be an array' };
  if (users.length === 0) return { errcode: 'M_INVALID_PARAM', message: 'field "users" must not be empty' };
  if (users.length > USERS_BATCH_MAX) {
    return { errcode: 'M_INVALID_PARAM', message: `field "users" has ${users.length} entries, over the limit of ${USERS_BATCH_MAX}` };
  }
  const problems: string[] = [];
  const firstIndex = new Map<string, number>();
  let offending = 0;
  users.forEach((entry: unknown, i) => {
    const at = `users[${i}]`;
    const problem = entryProblem(entry, at, scope);
    let found = problem;
    if (!problem) {
      const slug = (entry as BatchUser).slug;
      const first = firstIndex.get(slug);
      if (first === undefined) firstIndex.set(slug, i);
      else found = `${at}.slug repeats users[${first}].slug ${describeValue(slug)}`;
    }
    if (found) {
      offending += 1;
      if (problems.length < NAMED) problems.push(found);
    }
  });
  if (offending === 0) return null;
  const more = offending > problems.length ? ` (and ${offending - problems.length} more)` : '';
  return { errcode: 'M_INVALID_PARAM', message: `${offending} invalid entr${offending === 1 ? 'y' : 'ies'}: ${problems.join('; ')}${more}` };
}
