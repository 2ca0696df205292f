import { describe, expect, it } from '@jest/globals';
import { checkReadiness, publicReason, temporalCheck } from '../../adapters/readiness.js';

const never = (): Promise<void> => new Promise(() => undefined);
const fail = (message: string) => async (): Promise<void> => {
  throw new Error(message);
};

describe('checkReadiness', () => {
  it('is ready only when every check passes, and names each verdict', async () => {
    expect(await checkReadiness({ a: async () => undefined, b: async () => undefined })).toEqual({
      status: 'ready',
      checks: { a: 'ok', b: 'ok' },
    });
    expect(await checkReadiness({ a: async () => undefined, b: fail('connect ECONNREFUSED 127.0.0.1:5432') })).toEqual({
      status: 'unready',
      checks: { a: 'ok', b: 'error: connect ECONNREFUSED 127.0.0.1:5432' },
    });
  });

  it('gives up on a hung check after the timeout and runs the checks in parallel', async () => {
    const started = Date.now();
    const report = await checkReadiness({ hung1: never, hung2: never, hung3: never }, 300);
    const elapsed = Date.now() - started;
    expect(report.checks).toEqual({
      hung1: 'error: timed out after 300 ms',
      hung2: 'error: timed out after 300 ms',
      hung3: 'error: timed out after 300 ms',
    });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(800); // three 300 ms timeouts, not 900 ms in a row
  });
});

describe('publicReason', () => {
  it('removes credentials embedded in URLs and keeps the message to one bounded line', () => {
    expect(publicReason(new Error('cannot reach postgres://postgres:s3cret@db:5432/x\n  at line'))).toBe(
      'cannot reach postgres://[redacted]@db:5432/x at line',
    );
    expect(publicReason(new Error('x'.repeat(500)))).toHaveLength(200);
  });

  it('falls back to the error code or name when the message is empty', () => {
    expect(publicReason(Object.assign(new Error(''), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(publicReason(new AggregateError([]))).toBe('AggregateError');
  });
});

describe('temporalCheck', () => {
  const connection = (status: number | null) => ({
    healthService: { check: async () => ({ status }) },
    withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
  });
  it('passes only when the frontend reports SERVING', async () => {
    await expect(temporalCheck(connection(1))()).resolves.toBeUndefined();
    await expect(temporalCheck(connection(2))()).rejects.toThrow('health status 2');
  });
});
