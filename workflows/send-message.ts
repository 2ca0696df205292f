import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { MessageActivities } from '../activities/messages.js';
import { asUser } from './as-user.js';
import type { SendMessageInput, SendMessageResult } from './messages.js';

/**
 * Retried for as long as the homeserver is unreachable or failing (the message was accepted: it
 * must arrive); permanent refusals (not a member, bad request) are non-retryable failures and end
 * the workflow as failed, which the sender is told.
 */
const remote = proxyActivities<MessageActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** The quick first attempts, inside the workflow task (decision 0016). */
const local = proxyLocalActivities<MessageActivities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '20 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

const LOCAL_FIRST = 'local-first-send';

/**
 * Sends local-first: a workflow with no Updates can use a local activity safely (decision 0015 is
 * about Updates arriving while one runs), and the send is idempotent (the Matrix transaction id is
 * the workflow's). Whatever a retry could cure falls back to the regular activity, which retries
 * for as long as it takes and shows in the UI as pending while it does.
 */
async function send(args: Parameters<MessageActivities['sendMessageAsUser']>[0]): Promise<{ eventId: string }> {
  if (!patched(LOCAL_FIRST)) return remote.sendMessageAsUser(args);
  try {
    return await local.sendMessageAsUser(args);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure && cause.nonRetryable) {
      // What a regular activity's failure looks like, for asUser and the API's error mapping.
      throw err instanceof ActivityFailure
        ? err
        : new ActivityFailure(
            'Activity task failed',
            'sendMessageAsUser',
            undefined,
            'NON_RETRYABLE_FAILURE',
            undefined,
            cause,
          );
    }
    return remote.sendMessageAsUser(args);
  }
}

/**
 * `msg:{tenant}:{userSlug}:{clientTxnId}`: a message accepted by the API reaches the room exactly once. The
 * workflow id is the idempotency key; the Matrix transaction id is derived from it, so a retried
 * send is deduplicated by the homeserver.
 */
export async function sendMessageWorkflow(input: SendMessageInput): Promise<SendMessageResult> {
  const { workflowId } = workflowInfo();
  const { eventId } = await asUser(input.tenant, input.userSlug, () => send({ ...input, workflowId }));
  return { eventId, roomId: input.roomId, userSlug: input.userSlug, clientTxnId: input.clientTxnId };
}
