/**
 * Who asked for a change, as the audit trail records it (decision 0060): the service token's
 * subject (`sub`) and the request id (the caller's `X-Request-Id` when valid, else ours; api/app.ts).
 */
import type { Context } from 'hono';
import type { AuditOrigin } from '../vocabulary/audit.js';
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
