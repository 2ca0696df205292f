import { describe, expect, it } from '@jest/globals';
import { oneAtATime } from '../../lib/one-at-a-time.js';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('oneAtATime', () => {
  it('runs what it is handed one at a time, in order, and a failure stops nothing behind it', async () => {
    const serial = oneAtATime();
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const task = (i: number, ms: number, fail = false) =>
      serial(async () => {
        running += 1;
        most = Math.max(most, running);
        await tick(ms);
        order.push(i);
        running -= 1;
        if (fail) throw new Error(`task ${i} failed`);
        return i;
      });
    const results = await Promise.allSettled([task(0, 30), task(1, 5, true), task(2, 1), task(3, 10)]);
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      0,
      'task 1 failed',
      2,
      3,
    ]);
  });
});
