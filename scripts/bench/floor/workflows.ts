/**
 * The Temporal floor of the provisioning benchmark (workflow side): an entity workflow of the same
 * shape as provisionUserWorkflow — started by Update-with-Start, the Update answered after one
 * activity — with nothing else in it. Bundled only by the floor worker, never by the service's.
 */
import { allHandlersFinished, condition, defineUpdate, proxyActivities, setHandler, sleep } from '@temporalio/workflow';

export const floorUpdate = defineUpdate<{ done: true }, [{ displayName: string }]>('floorUpdate');

const { floorActivity } = proxyActivities<{ floorActivity(input: { displayName: string }): Promise<void> }>({
  startToCloseTimeout: '1 minute',
});

export async function floorEntityWorkflow(): Promise<void> {
  setHandler(floorUpdate, async (input) => {
    await floorActivity(input);
    return { done: true };
  });
  // Stays open like the entity it stands for (closing it would be extra work the entity does not
  // do), long enough that its timer never fires inside a later benchmark of the same run.
  await sleep('1 hour');
  await condition(allHandlersFinished);
}
