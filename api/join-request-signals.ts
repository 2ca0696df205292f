/**
 * Tells a running room workflow of a join request the appservice intake just recorded (decision
 * 0055), so its query (the Temporal UI) shows it. Best effort, after the commit: the request is in
 * PostgreSQL whatever happens here, and a room workflow not running loads the room's requests when
 * it next starts.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { RecordedRequest } from '../adapters/store/join-requests.js';
import { roomWorkflowId } from '../vocabulary/ids.js';
import { joinRequestSignal } from '../vocabulary/join-requests.js';
import type { AppDeps } from './context.js';

export async function tellRoomWorkflows(deps: Pick<AppDeps, 'temporal' | 'log'>, recorded: RecordedRequest[]): Promise<void> {
  for (const { ref, request } of recorded) {
    try {
      await deps.temporal.workflow.getHandle(roomWorkflowId(ref.tenant, ref.kind, ref.slug)).signal(joinRequestSignal, request);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError') continue;
      deps.log.warn({ err, room: roomWorkflowId(ref.tenant, ref.kind, ref.slug) }, 'join request not signalled to its room workflow (it loads it at its next start)');
    }
  }
}
