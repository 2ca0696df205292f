/**
 * The Temporal floor of the provisioning benchmark (workflow side): an entity workflow of the same
 * shape as provisionUserWorkflow — started by Update-with-Start, the Update answered after one
 * activity — with nothing else in it (it then ends, where the entity would wait for more). Bundled
 * only by the floor worker, never by the service's.
 */
import { allHandlersFinished, condition, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';

export const floorUpdate = defineUpdate<{ done: true }, [{ displayName: string }]>('floorUpdate');

const { floorActivity } = proxyActivities<{ floorActivity(input: { displayName: string }): Promise<void> }>({
  startToCloseTimeout: '1 minute',
});

export async function floorEntityWorkflow(): Promise<void> {
  let answered = false;
  setHandler(floorUpdate, async (input) => {
    await floorActivity(input);
    answered = true;
    return { done: true };
  });
  // Ends once it has answered: left open, its timers would fire inside the next benchmark.
  await condition(() => answered);
  await condition(allHandlersFinished);
}
