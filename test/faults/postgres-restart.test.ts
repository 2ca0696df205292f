/**
 * (c) PostgreSQL (the service's database: credentials, rooms, desired members) is stopped mid-burst
 * and started again, twice. Store activities fail and retry; nothing is lost or stored twice.
 */
import { expect, it } from '@jest/globals';
import { sleep } from '../helpers/env.js';
import { stack } from '../helpers/stack.js';
import { restartComponent, scenario } from './harness.js';

const s = scenario('postgres-restart', 3003);

it('stop PostgreSQL twice during a burst, start it again each time → exact final state', async () => {
  try {
    const { faults } = await s.run(
      async () => {
        await stack(['stop', 'postgres']);
        await sleep(2000 + s.random() * 3000);
        await restartComponent('postgres');
      },
      { minFaults: 2, maxFaults: 2, gapMs: [1000, 3000] },
    );
    expect(faults).toBe(2);
  } finally {
    await restartComponent('postgres');
  }
}, 600_000);
