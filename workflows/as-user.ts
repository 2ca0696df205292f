import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import type { UserActivities } from '../activities/users.js';
import type { UnknownTokenDetails } from '../vocabulary/contract.js';
import { FailureType } from '../vocabulary/failures.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './heartbeat.js';

const { reauthUser } = proxyActivitiesWithSummaries<UserActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds' },
});

/** Renewals tried for one operation before its failure is reported. */
const MAX_RENEWALS = 3;

/**
 * Runs an activity that acts as a platform user. When the homeserver refuses the user's token
 * (`MatrixUnknownToken`, soft or hard logout), the user is re-authenticated through the
 * `user-auth:{tenant}:{slug}` workflow — however many operations hit the same dead token, it is
 * renewed once — and the operation is tried again.
 */
export async function asUser<T>(tenant: string, slug: string, operation: () => Promise<T>): Promise<T> {
  for (let renewals = 0; ; renewals++) {
    try {
      return await operation();
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (!(cause instanceof ApplicationFailure) || cause.type !== FailureType.UnknownToken || renewals >= MAX_RENEWALS) throw err;
      const details = cause.details?.[0] as UnknownTokenDetails | undefined;
      const staleGeneration = details?.generation ?? 0;
      log.info('token refused; re-authenticating', { tenant, slug, staleGeneration });
      await reauthUser({ tenant, slug, staleGeneration });
    }
  }
}
