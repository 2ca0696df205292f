import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import { FailureType } from '../../vocabulary/failures.js';
import { createWorkerMetrics, outcomeOf } from '../../worker/metrics.js';
import { parsePrometheusText, sumOf } from '../helpers/prometheus.js';

const COUNTER = 'matrix_orchestrator_activity_executions_total';

/** Runs one activity attempt through the interceptor, as the SDK would. */
async function attempt(
  metrics: ReturnType<typeof createWorkerMetrics>,
  activityType: string,
  body: () => Promise<unknown>,
): Promise<void> {
  const { inbound } = metrics.activityInterceptor({ info: { activityType } } as unknown as Context);
  await inbound!.execute!({ args: [], headers: {} }, body).catch(() => undefined);
}

describe('the activity outcome counter', () => {
  it('counts completions, and failures by their failure type, per activity type', async () => {
    const metrics = createWorkerMetrics(null);
    await attempt(metrics, 'ensureMatrixUser', async () => 'ok');
    await attempt(metrics, 'ensureMatrixUser', async () => {
      throw ApplicationFailure.create({ type: FailureType.RateLimited, message: '429' });
    });
    await attempt(metrics, 'ensureMatrixUser', async () => {
      throw ApplicationFailure.create({ type: FailureType.RateLimited, message: '429' });
    });
    await attempt(metrics, 'ensureUserCredential', async () => {
      throw new TypeError('boom');
    });
    await attempt(metrics, 'ensureUserCredential', async () => {
      throw new CancelledFailure('cancelled');
    });

    const m = parsePrometheusText(await metrics.scrape());
    expect(sumOf(m, COUNTER, { activity_type: 'ensureMatrixUser', outcome: 'completed' })).toBe(1);
    expect(
      sumOf(m, COUNTER, { activity_type: 'ensureMatrixUser', outcome: 'failed', failure_type: 'MatrixRateLimited' }),
    ).toBe(2);
    expect(
      sumOf(m, COUNTER, { activity_type: 'ensureUserCredential', outcome: 'failed', failure_type: 'TypeError' }),
    ).toBe(1);
    expect(sumOf(m, COUNTER, { activity_type: 'ensureUserCredential', outcome: 'cancelled' })).toBe(1);
  });

  it('rethrows what the activity threw, unchanged', async () => {
    const metrics = createWorkerMetrics(null);
    const { inbound } = metrics.activityInterceptor({ info: { activityType: 'a' } } as unknown as Context);
    const failure = ApplicationFailure.create({ type: FailureType.Unavailable, message: 'down' });
    await expect(inbound!.execute!({ args: [], headers: {} }, async () => Promise.reject(failure))).rejects.toBe(
      failure,
    );
  });

  it('keeps failure types label-safe: odd error names collapse to Error', () => {
    expect(outcomeOf(Object.assign(new Error('x'), { name: 'has spaces and {braces}' }))).toEqual({
      outcome: 'failed',
      failure_type: 'Error',
    });
    expect(outcomeOf('a string')).toEqual({ outcome: 'failed', failure_type: 'Error' });
  });

  it('keeps serving its own metrics, with a comment, when the SDK exporter does not answer', async () => {
    const metrics = createWorkerMetrics(9); // discard port: nothing listens
    const text = await metrics.scrape();
    expect(text).toMatch(/^# Temporal SDK metrics unavailable: /m);
    expect(parsePrometheusText(text).get(COUNTER)?.type).toBe('counter');
  });
});
