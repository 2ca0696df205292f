/**
 * The worker's liveness heartbeat (worker/heartbeat.ts): an activity attempt that runs for a while
 * heartbeats every ACTIVITY_HEARTBEAT_EVERY_MS and stops when it ends; short ones and local ones
 * send none. The timeout the workflows declare must leave room for several heartbeats.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Context } from '@temporalio/activity';
import { heartbeatInterceptor } from '../../worker/heartbeat.js';
import { ACTIVITY_HEARTBEAT_EVERY_MS, ACTIVITY_HEARTBEAT_TIMEOUT } from '../../workflows/heartbeat.js';

function attempt(isLocal: boolean) {
  const heartbeat = jest.fn();
  const ctx = { info: { isLocal, activityType: 'applyRoomMember' }, heartbeat } as unknown as Context;
  const { inbound } = heartbeatInterceptor(ctx);
  let finish!: (v: string) => void;
  const next = jest.fn(() => new Promise<string>((r) => (finish = r)));
  const result = inbound!.execute!({ args: [], headers: {} }, next as never);
  return { heartbeat, finish: (v: string) => finish(v), result };
}

describe('activity liveness heartbeat', () => {
  beforeEach(() => void jest.useFakeTimers());
  afterEach(() => void jest.useRealTimers());

  it('heartbeats a long attempt every interval, and stops when it ends', async () => {
    const a = attempt(false);
    jest.advanceTimersByTime(ACTIVITY_HEARTBEAT_EVERY_MS - 1);
    expect(a.heartbeat).not.toHaveBeenCalled();
    jest.advanceTimersByTime(ACTIVITY_HEARTBEAT_EVERY_MS + 1);
    expect(a.heartbeat).toHaveBeenCalledTimes(2);
    a.finish('done');
    await expect(a.result).resolves.toBe('done');
    jest.advanceTimersByTime(10 * ACTIVITY_HEARTBEAT_EVERY_MS);
    expect(a.heartbeat).toHaveBeenCalledTimes(2);
  });

  it('stops on a failed attempt too', async () => {
    const heartbeat = jest.fn();
    const ctx = { info: { isLocal: false }, heartbeat } as unknown as Context;
    const result = heartbeatInterceptor(ctx).inbound!.execute!({ args: [], headers: {} }, (() =>
      Promise.reject(new Error('refused'))) as never);
    await expect(result).rejects.toThrow('refused');
    jest.advanceTimersByTime(10 * ACTIVITY_HEARTBEAT_EVERY_MS);
    expect(heartbeat).not.toHaveBeenCalled();
  });

  it('leaves local activities alone (they have no heartbeat)', async () => {
    const a = attempt(true);
    jest.advanceTimersByTime(10 * ACTIVITY_HEARTBEAT_EVERY_MS);
    expect(a.heartbeat).not.toHaveBeenCalled();
    a.finish('ok');
    await expect(a.result).resolves.toBe('ok');
  });

  it('declares a heartbeat timeout that several heartbeats fit in', () => {
    const seconds = Number(/^(\d+) seconds$/.exec(ACTIVITY_HEARTBEAT_TIMEOUT)?.[1]);
    expect(seconds * 1000).toBeGreaterThanOrEqual(3 * ACTIVITY_HEARTBEAT_EVERY_MS);
  });
});
