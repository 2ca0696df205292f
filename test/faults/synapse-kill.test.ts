/**
 * (b) Synapse is SIGKILLed mid-burst and started again (same SQLite database), twice. Activities
 * retry until it is back; no user, room, invite or power level is lost or made twice.
 */
import { expect, it } from '@jest/globals';
import { sleep } from '../helpers/env.js';
import { killComponent, restartComponent, scenario } from './harness.js';

const s = scenario('synapse-kill', 2002);

it('SIGKILL Synapse twice during a burst, restart it each time → exact final state', async () => {
  try {
    const { faults } = await s.run(
      async () => {
        await killComponent('synapse');
        await sleep(1000 + s.random() * 2000);
        await restartComponent('synapse');
      },
      { minFaults: 2, maxFaults: 2, gapMs: [1000, 3000] },
    );
    expect(faults).toBe(2);
  } finally {
    await restartComponent('synapse');
  }
}, 600_000);
