import { describe, expect, it } from '@jest/globals';
import { TokenBucket } from '../../api/relay/limits.js';

describe('TokenBucket', () => {
  it('allows the burst at once, then refuses with the wait until the next token', () => {
    let now = 0;
    const bucket = new TokenBucket(5, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0]);
    expect(bucket.take()).toBe(200);
    now = 100;
    expect(bucket.take()).toBe(100);
    now = 200;
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(200);
  });

  it('refills at the sustained rate but never beyond the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    bucket.take();
    bucket.take();
    now = 60_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 100]);
  });
});
