/**
 * Who asked for a change, as the audit trail records it (decision 0060): the service token's
 * subject (`sub`) and the request id (the caller's `X-Request-Id` when valid, else ours; api/app.ts).
 */
import type { Context } from 'hono';
import { recordAudit, type Queryable } from '../adapters/store/audit.js';
import type { Logger } from '../lib/log.js';
import type { AuditEntry, AuditOrigin } from '../vocabulary/audit.js';
import { ApiError } from './errors.js';
import type { ApiEnv } from './env.js';
import type { RelayEnv } from './relay/user-auth.js';

/** The origin of a request on a service-JWT route. */
export function originOf(c: Context<ApiEnv>): AuditOrigin {
  return { subject: c.get('principal')?.subject ?? null, requestId: c.get('requestId') };
}

/** The origin of a request on a relay route: the service token's subject, or `user:{slug}` for a user JWT. */
export function actorOrigin(c: Context<RelayEnv>): AuditOrigin {
  const actor = c.get('actor');
  const subject = actor.kind === 'service' ? actor.principal.subject : `user:${actor.user.userSlug}`;
  return { subject, requestId: c.get('requestId') };
}

/**
 * Runs a change the route makes on the homeserver itself and records it with its outcome: done
 * (with the actions `done` names from the result) or failed (the ApiError's errcode, else the
 * error's name), then answers or throws as the change did. An entry that cannot be written is
 * logged; the caller still hears the change's own outcome.
 */
export async function audited<T>(
  deps: { db: Queryable; log: Logger },
  entry: Omit<AuditEntry, 'outcome' | 'actions' | 'errorType'>,
  change: () => Promise<T>,
  done: (result: T) => string[],
): Promise<T> {
  const record = (e: AuditEntry): Promise<unknown> =>
    recordAudit(deps.db, [e]).catch((err: unknown) =>
      deps.log.error({ err, operation: e.operation }, 'audit: an entry could not be recorded'),
    );
  let result: T;
  try {
    result = await change();
  } catch (err) {
    await record({ ...entry, outcome: 'failed', errorType: err instanceof ApiError ? err.errcode : (err as Error).name });
    throw err;
  }
  await record({ ...entry, outcome: 'done', actions: done(result) });
  return result;
}
