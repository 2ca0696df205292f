/** Telling running room workflows about something that already happened (a member renamed). */
import { WorkflowUpdateStage, type Client } from '@temporalio/client';
import { roomWorkflowId } from '../vocabulary/ids.js';
import { roomChangeUpdate, type RoomRef } from '../vocabulary/contract.js';

/**
 * Hands a room workflow the rename of one of its members, if it is running: its desired members
 * follow. A room whose workflow is not running has nothing to tell (its next run reads the renamed
 * members from the database). Resolves once the workflow accepted the change (`told`), or says it
 * was not running.
 */
export async function tellRoomOfRename(
  client: Client,
  ref: RoomRef,
  from: string,
  to: string,
): Promise<'told' | 'not running'> {
  const handle = client.workflow.getHandle(roomWorkflowId(ref.tenant, ref.kind, ref.slug));
  try {
    await handle.startUpdate(roomChangeUpdate, {
      args: [{ type: 'renameMember', userSlug: from, newSlug: to }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    return 'told';
  } catch (err) {
    const name = (err as Error).name;
    // Not found, or completed (the server answers NOT_FOUND for an update to a closed run).
    if (name === 'WorkflowNotFoundError') return 'not running';
    throw err;
  }
}
