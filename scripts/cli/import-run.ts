/**
 * Applies a checked import plan through the API's typed client (client/), never Temporal or the
 * database: every distinct user through `users:batch` in chunks of 1,000 first, then each entity —
 * its room ensured when the file gives settings, its complete list set — a few entities at once.
 * A 202 answer is followed to its end (`operations.wait`). What each request did is summed up; what
 * failed is named and the rest goes ahead. Only an API that cannot be reached or will not take the
 * token stops the run (everything is idempotent: running the import again is safe).
 */
import {
  MatrixOrchestratorError,
  type MatrixOrchestratorClient,
  type MemberListResult,
  type Operation,
  type Outcome,
  type RoomRef,
  type RoomState,
  type UsersBatchResult,
} from '../../client/index.js';
import { USERS_BATCH_MAX } from '../../vocabulary/users-batch.js';
import { roomWorkflowId } from '../../vocabulary/ids.js';
import { CliError, EXIT } from './args.js';
import type { ImportEntity, ImportPlan } from './import-plan.js';
import type { Progress } from './import-progress.js';

/** How long one operation answered with 202 is followed before it counts as failed. */
export const OPERATION_WAIT_MS = 30 * 60_000;

export interface ImportFailure {
  /** `user alice`, `users 1–1000`, `event/meetup`, or `member bob of event/meetup`. */
  target: string;
  errcode: string;
  message: string;
}

export interface ImportSummary {
  file: string;
  tenant: string;
  seconds: number;
  users: { total: number; created: number; updated: number; unchanged: number; failed: number };
  entities: { total: number; done: number; failed: number };
  members: { added: number; removed: number; roleChanged: number; unchanged: number; failed: number };
  failures: ImportFailure[];
}

/** Errors after which nothing else can work: the API unreachable, or the token refused. */
function fatal(err: unknown, apiUrl: string): CliError | null {
  if (err instanceof MatrixOrchestratorError) {
    if (err.status !== 401) return null;
    return new CliError(EXIT.failed, `the API at ${apiUrl} refused the service token (${err.errcode}: ${err.error})`);
  }
  if (!(err instanceof TypeError && err.message === 'fetch failed')) return null;
  const cause = (err as { cause?: { message?: string } }).cause?.message;
  return new CliError(
    EXIT.failed,
    `cannot reach the API at ${apiUrl}: ${(err as Error).message}${cause ? ` (${cause})` : ''}; what was sent is applied, and repeating the import is safe`,
  );
}

const describeError = (err: unknown): { errcode: string; message: string } =>
  err instanceof MatrixOrchestratorError
    ? { errcode: err.errcode, message: err.newSlug ? `${err.error} (now "${err.newSlug}")` : err.error }
    : { errcode: 'M_UNKNOWN', message: (err as Error).message };

interface Run {
  om: MatrixOrchestratorClient;
  tenant: string;
  apiUrl: string;
  s: ImportSummary;
  progress: Progress;
}

/** Follows an operation answered with 202 to its end; a failed one throws, naming why. */
async function settled(run: Run, workflowId: string): Promise<Operation> {
  const op = await run.om.operations.wait(workflowId, { timeoutMs: OPERATION_WAIT_MS, intervalMs: 1000 });
  if (op.status === 'failed') {
    const last = (op.state as RoomState | undefined)?.lastError;
    throw new MatrixOrchestratorError(500, last?.type ?? 'M_UNKNOWN', last?.message ?? op.failure ?? 'failed', null);
  }
  return op;
}

/** Every user through users:batch, USERS_BATCH_MAX a request; a request that fails fails its users. */
async function provisionUsers(run: Run, users: ImportPlan['users']): Promise<void> {
  const { s } = run;
  for (let i = 0; i < users.length; i += USERS_BATCH_MAX) {
    const chunk = users.slice(i, i + USERS_BATCH_MAX);
    try {
      const r = await run.om.users.provisionBatch(run.tenant, { users: chunk });
      const result = r.status === 'running' ? ((await settled(run, r.workflowId)).result as UsersBatchResult) : r;
      for (const u of result.users) {
        if (u.outcome === 'failed') {
          s.users.failed += 1;
          s.failures.push({ target: `user ${u.slug}`, errcode: u.error?.type ?? 'M_UNKNOWN', message: u.error?.message ?? '' });
        } else if (u.outcome === 'created' || u.outcome === 'unchanged') s.users[u.outcome] += 1;
        else s.users.updated += 1;
      }
    } catch (err) {
      const stop = fatal(err, run.apiUrl);
      if (stop) throw stop;
      s.users.failed += chunk.length;
      s.failures.push({ target: `users ${i + 1}–${i + chunk.length} (${chunk[0]!.slug} … ${chunk.at(-1)!.slug})`, ...describeError(err) });
    }
    run.progress.users(i + chunk.length, users.length);
  }
}

/** One entity: its room ensured when the file gives settings, then its complete list set and counted. */
async function applyEntity(run: Run, e: ImportEntity): Promise<void> {
  const { om, s } = run;
  const ref: RoomRef<'event' | 'group'> = { tenant: run.tenant, kind: e.kind, slug: e.slug };
  if (e.name !== undefined || e.topic !== undefined || e.visibility !== undefined) {
    const r = await om.rooms.ensure(ref, { name: e.name, topic: e.topic, visibility: e.visibility });
    if (r.status === 'running') await settled(run, r.workflowId);
  }
  const before = await desiredMembers(om, ref);
  let r: Outcome<MemberListResult> = await om.members.setAll(ref, e.members as never);
  let counted: MemberListResult['members'];
  if (r.status === 'running') {
    // A 202 leaves only the room's state to read: count from the desired members before and the
    // list, and send the list once more (idempotent) for the members the homeserver still refuses.
    await settled(run, r.workflowId);
    counted = { ...diff(before, e), failed: [] };
    r = await om.members.setAll(ref, e.members as never);
    if (r.status !== 'running') counted.failed = r.members.failed;
  } else counted = r.members;
  s.members.added += counted.added.length;
  s.members.removed += counted.removed.length;
  s.members.roleChanged += counted.roleChanged.length;
  s.members.unchanged += counted.unchanged;
  s.members.failed += counted.failed.length;
  for (const f of counted.failed)
    s.failures.push({ target: `member ${f.userSlug} of ${e.kind}/${e.slug}`, errcode: f.type, message: f.message });
}

/** Applies the plan: users first, then `concurrency` entities at once. Throws CliError only when the run must stop. */
export async function runImport(
  om: MatrixOrchestratorClient,
  opts: { file: string; tenant: string; apiUrl: string; concurrency: number },
  plan: ImportPlan,
  progress: Progress,
): Promise<ImportSummary> {
  const started = Date.now();
  const s: ImportSummary = {
    file: opts.file,
    tenant: opts.tenant,
    seconds: 0,
    users: { total: plan.users.length, created: 0, updated: 0, unchanged: 0, failed: 0 },
    entities: { total: plan.entities.length, done: 0, failed: 0 },
    members: { added: 0, removed: 0, roleChanged: 0, unchanged: 0, failed: 0 },
    failures: [],
  };
  const run: Run = { om, tenant: opts.tenant, apiUrl: opts.apiUrl, s, progress };
  progress.users(0, plan.users.length);
  progress.entities(0, plan.entities.length);
  await provisionUsers(run, plan.users);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.entities.length) {
      const e = plan.entities[next++]!;
      try {
        await applyEntity(run, e);
        s.entities.done += 1;
      } catch (err) {
        const stop = fatal(err, opts.apiUrl);
        if (stop) throw stop;
        s.entities.failed += 1;
        s.failures.push({ target: `${e.kind}/${e.slug}`, ...describeError(err) });
      }
      progress.entities(s.entities.done + s.entities.failed, plan.entities.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, plan.entities.length) }, worker));
  s.seconds = Math.round((Date.now() - started) / 100) / 10;
  return s;
}

/** The room's desired members now (user slug → role), as its workflow says; none for a room not made yet. */
async function desiredMembers(om: MatrixOrchestratorClient, ref: RoomRef): Promise<Record<string, string>> {
  try {
    const op = await om.operations.get(roomWorkflowId(ref.tenant, ref.kind, ref.slug));
    return (op.state as RoomState | undefined)?.members ?? {};
  } catch (err) {
    if (err instanceof MatrixOrchestratorError && err.status === 404) return {};
    throw err;
  }
}

/** What setting `e`'s list changes in `before`'s desired members. */
function diff(before: Record<string, string>, e: ImportEntity): Omit<MemberListResult['members'], 'failed'> {
  const listed = new Map(e.members.map((m) => [m.userSlug, m.role]));
  const out = { added: [] as string[], removed: [] as string[], roleChanged: [] as { userSlug: string; from: string; to: string }[], unchanged: 0 };
  for (const [slug, role] of listed) {
    const was = before[slug];
    if (was === undefined) out.added.push(slug);
    else if (was !== role) out.roleChanged.push({ userSlug: slug, from: was, to: role });
    else out.unchanged += 1;
  }
  for (const slug of Object.keys(before)) if (!listed.has(slug)) out.removed.push(slug);
  return out;
}
