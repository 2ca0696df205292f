/**
 * Closing a Temporal connection while a call waits to be retried (adapters/temporal.ts). The SDK's
 * retry timer outlives `Connection.close()` and throws `Channel has been shut down` where nothing
 * can catch it: a fault test's suite failed on it in CI. Each case runs in a child process (an
 * uncaught exception ends that process, not this one) against a loopback port nobody listens on, so
 * every attempt fails at once as UNAVAILABLE and a retry is always scheduled when the close comes.
 */
import { describe, expect, it } from '@jest/globals';
import { runNode } from '../helpers/child.js';

/** The script's stdout and exit code; `open` is the expression that yields `{ client, close }`. */
function closeDuringRetry(open: string): Promise<{ code: number | null; output: string }> {
  const script = `
    import { Client, Connection } from '@temporalio/client';
    import { connectTemporal } from './dist/adapters/temporal.js';
    const config = { temporal: { address: '127.0.0.1:1', namespace: 'default' }, payloads: { keys: [], activeKeyId: 'none' } };
    const { client, close } = await (${open});
    const call = client.workflowService.getSystemInfo({}).then(() => 'answered', (e) => 'rejected with code ' + e.code);
    await new Promise((r) => setTimeout(r, 400));
    await close();
    console.log('closed');
    console.log(await call);
    // Long enough for any retry the SDK had scheduled (at most 5 s apart) to fire.
    await new Promise((r) => setTimeout(r, 5500));
    console.log('still alive');`;
  return runNode(['--input-type=module', '-e', script], { timeoutMs: 30_000 });
}

describe('closing a Temporal connection while a call is being retried', () => {
  it('the SDK alone: the scheduled retry throws after the close and ends the process', async () => {
    const { code, output } = await closeDuringRetry(`(async () => {
      const connection = Connection.lazy({ address: config.temporal.address });
      return { client: new Client({ connection }), close: () => connection.close() };
    })()`);
    // Should this start passing, the SDK clears its timers itself and adapters/temporal.ts can go.
    expect(output).toMatch(/Channel has been shut down/);
    expect(output).not.toMatch(/still alive/);
    expect(code).not.toBe(0);
  }, 40_000);

  it('connectTemporal: the call ends with its own answer, the close waits for it, the process lives on', async () => {
    const { code, output } = await closeDuringRetry(`connectTemporal(config, { lazy: true })`);
    expect(output).not.toMatch(/Channel has been shut down/);
    expect(output).toMatch(/closed\nrejected with code 14\nstill alive/);
    expect(code).toBe(0);
  }, 40_000);
});
