/**
 * (a) The worker process is SIGKILLed again and again while users are provisioned and rooms change
 * members and roles through the API, and restarted each time. Nothing is lost or done twice: every
 * user exists once on the homeserver with one working credential, every room once with exactly the
 * desired members and power levels.
 */
import { expect, it } from '@jest/globals';
import { sleep } from '../helpers/env.js';
import { scenario } from './harness.js';

const s = scenario('worker-kill', 1001);

it('SIGKILL the worker 3 times during a burst of provisioning and membership changes → exact final state', async () => {
  const { faults } = await s.run(
    async () => {
      await s.worker?.stop('SIGKILL');
      await sleep(s.random() * 1000);
      await s.startWorker();
    },
    { minFaults: 3, maxFaults: 3, gapMs: [1500, 3500] },
  );
  expect(faults).toBe(3);
}, 600_000);
