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
  // Stays open a while, like the entity it stands for, then ends.
  await sleep('2 minutes');
  await condition(allHandlersFinished);
}
