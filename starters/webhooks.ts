/** Starts (or nudges) a room's webhook delivery workflow (decision 0049). */
import type { Client } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { entityAttributes } from '../vocabulary/search-attributes.js';
import { webhookWakeSignal, webhookWorkflowId, type WebhookRoomInput } from '../vocabulary/webhooks.js';
import type { webhookRoomWorkflow } from '../workflows/webhook-room.js';

/**
 * Signals the room's workflow that it has new deliveries, starting it when none runs. A running
 * workflow about to end sees the signal and reads again: nothing recorded is left behind.
 */
export async function wakeWebhookRoom(
  client: Client,
  config: Pick<Config, 'temporal'>,
  input: WebhookRoomInput,
): Promise<void> {
  const isRoom = input.roomKey.startsWith('!');
  await client.workflow.signalWithStart<typeof webhookRoomWorkflow, []>('webhookRoomWorkflow', {
    workflowId: webhookWorkflowId(input.tenant, input.roomKey),
    taskQueue: config.temporal.taskQueue,
    args: [input],
    signal: webhookWakeSignal,
    signalArgs: [],
    typedSearchAttributes: entityAttributes({
      tenant: input.tenant,
      kind: 'webhook',
      ...(isRoom ? { roomId: input.roomKey } : {}),
    }),
    staticSummary: `Webhook deliveries of ${input.tenant} for ${isRoom ? `room ${input.roomKey}` : 'the tenant'}`,
    staticDetails: [
      `Delivers the pending webhook deliveries of \`${input.tenant}\` in ${isRoom ? `room \`${input.roomKey}\`` : 'no room'}, oldest first, one at a time.`,
      'A failed attempt is retried after 5 s, doubling to 10 minutes. Running = deliveries pending;',
      'query `webhookState` for the failing one. Rows: `GET /v1/tenants/{tenant}/webhook/deliveries?state=pending`.',
    ].join('\n'),
  });
}
