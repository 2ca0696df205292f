import { allHandlersFinished, CancellationScope, condition, isCancellation } from '@temporalio/workflow';

/**
 * Runs an entity workflow's main loop so that an operator's cancel ends it cleanly: the requests
 * in flight fail first (their activities are cancelled with the workflow), and only once every
 * update handler has answered does the workflow report itself cancelled. Without this the
 * cancellation could be sent together with update answers and the workflow task fail forever
 * ("CancelWorkflowExecution must be the last command").
 */
export async function endCleanlyOnCancel<T>(main: () => Promise<T>): Promise<T> {
  try {
    return await main();
  } catch (err) {
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    throw err;
  }
}
