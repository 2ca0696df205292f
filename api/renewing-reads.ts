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

export type RenewCredential = (tenant: string, userSlug: string, staleGeneration: number) => Promise<void>;

/** The token generation a refused-token failure carries (its details); null for any other failure. */
export function refusedGeneration(err: unknown): number | null {
  const f = err as { type?: string; details?: unknown[] } | undefined;
  if (f?.type !== FailureType.UnknownToken) return null;
  return (f.details?.[0] as { generation?: number } | undefined)?.generation ?? 0;
}

/** Renewal through the user's re-auth workflow. */
export function renewThroughWorkflow(temporal: Client, config: Config): RenewCredential {
  return async (tenant, slug, staleGeneration) => {
    await reauthUser(temporal, config, { tenant, slug, staleGeneration });
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
