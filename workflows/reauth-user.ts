import type { UserActivities } from '../activities/users.js';
import type { ReauthUserInput, ReauthUserResult } from '../vocabulary/contract.js';
import { proxyActivitiesWithSummaries } from './activity-summaries.js';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './heartbeat.js';

const { renewUserToken } = proxyActivitiesWithSummaries<UserActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/**
 * `user-auth:{tenant}:{slug}`: gets a new token for the same Matrix user after the homeserver
 * refused the stored one. Every caller that hits the dead token joins the same run
 * (USE_EXISTING); a caller that comes later finds the generation moved on and changes nothing.
 */
export async function reauthUserWorkflow(input: ReauthUserInput): Promise<ReauthUserResult> {
  return renewUserToken(input);
}
