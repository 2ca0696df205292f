import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MessageActivities } from '../activities/messages.js';
import { asUser } from './as-user.js';
import type { SendMessageInput, SendMessageResult } from './messages.js';

/**
 * Retried for as long as the homeserver is unreachable or failing (the message was accepted: it
 * must arrive); permanent refusals (not a member, bad request) are non-retryable failures and end
 * the workflow as failed, which the sender is told.
 */
const { sendMessageAsUser } = proxyActivities<MessageActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * `msg:{tenant}:{clientTxnId}`: a message accepted by the API reaches the room exactly once. The
 * workflow id is the idempotency key; the Matrix transaction id is derived from it, so a retried
 * send is deduplicated by the homeserver.
 */
export async function sendMessageWorkflow(input: SendMessageInput): Promise<SendMessageResult> {
  const { workflowId } = workflowInfo();
  const { eventId } = await asUser(input.tenant, input.userSlug, () => sendMessageAsUser({ ...input, workflowId }));
  return { eventId, roomId: input.roomId, userSlug: input.userSlug, clientTxnId: input.clientTxnId };
}
