import { describe, expect, it } from '@jest/globals';
import { renderCpuPerOp } from '../../scripts/bench/stats.js';

describe('CPU cost per operation', () => {
  it('turns cores over a run into milliseconds per operation, largest first, and the ceiling they imply', () => {
    const line = renderCpuPerOp(
      { temporal: 0.75, worker: 0.6, synapse: 0.3, 'rest of machine': 0.5 },
      { ops: 200, seconds: 10 },
      'user',
      2,
    );
    // temporal 0.75 × 10 s / 200 = 37.5 ms; total 82.5 ms (other processes left out); 2000 / 82.5 = 24.2
    expect(line).toBe(
      'temporal 37.5, worker 30.0, synapse 15.0 ms per user (total 82.5 ms: 2 cores could do at most 24.2 users/s at this cost)',
    );
  });

  it('counts cheap operations in microseconds', () => {
    expect(renderCpuPerOp({ api: 0.5 }, { ops: 100_000, seconds: 10 }, 'delivery', 2)).toBe(
      'api 50.0 µs per delivery (total 50.0 µs: 2 cores could do at most 40000.0 deliveries/s at this cost)',
    );
  });

  it('says so when nothing completed', () => {
    expect(renderCpuPerOp({ worker: 1 }, { ops: 0, seconds: 5 }, 'membership', 2)).toBe('no memberships completed');
  });
});
