/**
 * (d) The Temporal dev server is SIGKILLed mid-burst and started again on the same SQLite file
 * (scripts/stack.sh keeps it in .stack/<name>/temporal.db), twice. Histories survive; the API answers
 * 503 meanwhile and the client repeats; the worker reconnects. Nothing is lost or done twice.
 */
import { expect, it } from '@jest/globals';
import { sleep } from '../helpers/env.js';
import { killComponent, restartComponent, scenario } from './harness.js';

const s = scenario('temporal-kill', 4004);

it('SIGKILL the Temporal server twice during a burst, restart it on its SQLite file → exact final state', async () => {
  try {
    const { faults } = await s.run(
      async () => {
        await killComponent('temporal');
        await sleep(500 + s.random() * 1500);
        await restartComponent('temporal');
      },
      { minFaults: 2, maxFaults: 2, gapMs: [1500, 3500] },
    );
    expect(faults).toBe(2);
  } finally {
    await restartComponent('temporal');
  }
}, 600_000);
