/**
 * Reads as a user that outlive a refused token. In admin mode a per-user token the homeserver
 * refuses (`MatrixUnknownToken`, with its generation) is renewed by the user's `user-auth:`
 * workflow — once per generation however many callers hit it — and the read asked once more, as
 * workflows/as-user.ts does for the workflows' own calls. Only for reads: asking twice is harmless.
 */
import type { Client } from '@temporalio/client';
import type { Identity } from '../adapters/identity/types.js';
import type { Config } from '../lib/config.js';
import { reauthUser } from '../starters/starters.js';
import { FailureType } from '../vocabulary/failures.js';

/** How long a read waits for a refused token's renewal by default. */
export const RENEW_WAIT_MS = 15_000;

export type RenewCredential = (tenant: string, userSlug: string, staleGeneration: number) => Promise<void>;

/** The token generation a refused-token failure carries (its details); null for any other failure. */
export function refusedGeneration(err: unknown): number | null {
  const f = err as { type?: string; details?: unknown[] } | undefined;
  if (f?.type !== FailureType.UnknownToken) return null;
  return (f.details?.[0] as { generation?: number } | undefined)?.generation ?? 0;
}

/**
 * Renewal through the user's re-auth workflow, waited for at most `timeoutMs` (no worker, a slow
 * homeserver): then the read fails as `MatrixUnavailable` (503 to an HTTP caller) and the
 * renewal goes on in its workflow for the next read. A request never hangs on it.
 */
export function renewThroughWorkflow(temporal: Client, config: Config, timeoutMs = RENEW_WAIT_MS): RenewCredential {
  return async (tenant, slug, staleGeneration) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            Object.assign(new Error(`renewing ${slug}'s refused token took longer than ${timeoutMs} ms; retry later`), {
              type: FailureType.Unavailable,
            }),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([reauthUser(temporal, config, { tenant, slug, staleGeneration }), late]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** `identity` whose `actAs` renews a refused token and runs `fn` once more; as it is without `renew`. */
export function renewingReads(identity: Identity, renew?: RenewCredential): Identity {
  if (!renew) return identity;
  return {
    ...identity,
    async actAs(user, fn) {
      try {
        return await identity.actAs(user, fn);
      } catch (err) {
        const generation = refusedGeneration(err);
        if (generation === null) throw err;
        await renew(user.tenant, user.slug, generation);
        return identity.actAs(user, fn);
      }
    },
  };
}
