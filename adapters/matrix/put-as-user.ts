/** One event PUT as a user through the identity adapter (their token, or the appservice's assertion). */
import type { Identity } from '../identity/types.js';
import { authorized, matrixRequest } from './http.js';

/**
 * `PUT path` with `body` as the user; the event id the homeserver answers. The path carries the
 * Matrix transaction id, so a repeat is answered with the same event. Throws what `actAs` throws.
 */
export function putEventAs(
  identity: Identity,
  homeserverUrl: string,
  user: { tenant: string; userSlug: string },
  put: { path: string; body: Record<string, unknown>; timeoutMs?: number },
): Promise<{ eventId: string }> {
  return identity.actAs({ tenant: user.tenant, slug: user.userSlug }, async (as) => {
    const r = await matrixRequest<{ event_id: string }>(
      homeserverUrl,
      authorized(as, {
        method: 'PUT',
        path: put.path,
        body: put.body,
        ...(put.timeoutMs === undefined ? {} : { timeoutMs: put.timeoutMs }),
      }),
    );
    return { eventId: r.event_id };
  });
}
