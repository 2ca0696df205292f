import { describe, expect, it } from '@jest/globals';
import { waitForResult } from '../../api/wait.js';

/** A stand-in Temporal client: hands the signal to the call, as the real one does to its gRPC calls. */
function fakeTemporal() {
  const seen: AbortSignal[] = [];
  return {
    seen,
    withAbortSignal<R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R> {
      seen.push(signal);
      return fn();
    },
  };
}

describe('waiting for a workflow result', () => {
  it('answers with the result when it comes in time, and cancels nothing', async () => {
    const t = fakeTemporal();
    expect(await waitForResult(t, async () => 42, 1000)).toEqual({ done: true, value: 42 });
    expect(t.seen[0]!.aborted).toBe(false);
  });

  it('gives up after the time and cancels the call instead of leaving it polling', async () => {
    const t = fakeTemporal();
    const never = () =>
      new Promise<number>((_, reject) =>
        t.seen.at(-1)!.addEventListener('abort', () => reject(new Error('cancelled'))),
      );
    expect(await waitForResult(t, never, 20)).toEqual({ done: false });
    expect(t.seen[0]!.aborted).toBe(true);
  });
});
