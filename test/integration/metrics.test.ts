/**
 * /metrics of the API app and of a real worker process: each is a valid Prometheus exposition
 * (strictly parsed), and the counters move when work happens — a user provisioned through the API
 * and run by the worker on this file's own task queue.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectTemporal } from '../../adapters/temporal.js';
import { createApp } from '../../api/app.js';
import { createLogger } from '../../lib/log.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, workerHttpUrl, type RunningProcess } from '../helpers/processes.js';
import { parsePrometheusText, samplesOf, sumOf, type Family } from '../helpers/prometheus.js';
import { stack } from '../helpers/stack.js';

const taskQueue = uniqueTaskQueue('metrics');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '30000' });
const tenant = uniqueTenant('metrics');
const USERS_ROUTE = '/v1/tenants/:tenant/users';
const ACTIVITY_COUNTER = 'matrix_orchestrator_activity_executions_total';
let api: TestApi;
let worker: RunningProcess;
let workerUrl: string;

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  workerUrl = workerHttpUrl(worker);
  api = await createTestApi(config);
});
afterAll(async () => {
  await stack(['up', 'synapse']); // whatever happened, leave Synapse running for the next file
  await api?.close();
  await worker?.stop();
});

type Metrics = Map<string, Family>;

async function parsed(res: Response): Promise<Metrics> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}
const apiMetrics = async (app = api.app): Promise<Metrics> => parsed(await app.request('/metrics'));
const workerMetrics = async (): Promise<Metrics> => parsed(await fetch(`${workerUrl}/metrics`));

async function provision(slug: string): Promise<Response> {
  return api.post(`/v1/tenants/${tenant}/users`, { slug, displayName: `User ${slug}` });
}

describe('the API /metrics', () => {
  it('is a valid exposition: request counter, latency histogram, error counter and Node process metrics', async () => {
    const m = await apiMetrics();
    expect(m.get('http_requests_total')?.type).toBe('counter');
    expect(m.get('http_request_duration_seconds')?.type).toBe('histogram');
    expect(m.get('http_request_errors_total')?.type).toBe('counter');
    expect(m.get('process_cpu_user_seconds_total')?.type).toBe('counter');
  });

  it('counts requests under the matched route pattern, never the raw path', async () => {
    const before = await apiMetrics();
    expect((await provision('metered')).status).toBe(200);
    expect((await api.post(`/v1/tenants/${tenant}/users`, { slug: 'x', displayName: 'X' }, 'not-a-jwt')).status).toBe(
      401,
    );
    expect((await api.get(`/v1/${tenant}/no-such-route`)).status).toBe(404);
    const after = await apiMetrics();

    const delta = (name: string, labels: Record<string, string>) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    expect(delta('http_requests_total', { method: 'POST', route: USERS_ROUTE, status: '200' })).toBe(1);
    expect(delta('http_requests_total', { method: 'POST', route: USERS_ROUTE, status: '401' })).toBe(1);
    expect(delta('http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(delta('http_request_duration_seconds_count', { method: 'POST', route: USERS_ROUTE, status: '200' })).toBe(1);
    expect(
      delta('http_request_duration_seconds_sum', { method: 'POST', route: USERS_ROUTE, status: '200' }),
    ).toBeGreaterThan(0);
    expect(delta('http_request_errors_total', {})).toBe(0);

    const routes = new Set(samplesOf(after, 'http_requests_total').map((s) => s.labels.route));
    expect(routes).toContain(USERS_ROUTE);
    expect([...routes].filter((r) => r?.includes(tenant))).toEqual([]);
  });

  it('counts server-side failures in http_request_errors_total by route and status', async () => {
    // An app whose homeserver cannot be reached: its /readyz answers 503.
    const broken = testConfig({ MATRIX_HOMESERVER_URL: 'http://127.0.0.1:9' });
    const temporal = await connectTemporal(broken);
    const app = createApp({
      config: broken,
      temporal: temporal.client,
      temporalConnection: temporal.connection,
      db: api.db,
      log: createLogger('api-test', 'silent'),
    });
    try {
      expect((await app.request('/readyz')).status).toBe(503);
      const m = await apiMetrics(app);
      expect(sumOf(m, 'http_request_errors_total', { method: 'GET', route: '/readyz', status: '503' })).toBe(1);
      expect(sumOf(m, 'http_requests_total', { method: 'GET', route: '/readyz', status: '503' })).toBe(1);
    } finally {
      await temporal.close();
    }
  });
});

describe("the worker's /metrics", () => {
  it("serves our activity counter and the Temporal SDK's metrics as one valid exposition", async () => {
    const before = await workerMetrics();
    expect(before.get(ACTIVITY_COUNTER)?.type).toBe('counter');
    expect(before.get('process_resident_memory_bytes')?.type).toBe('gauge');

    expect((await provision('worker-metered')).status).toBe(200);

    const after = await workerMetrics();
    const completed = (activity_type: string) =>
      sumOf(after, ACTIVITY_COUNTER, { activity_type, outcome: 'completed' }) -
      sumOf(before, ACTIVITY_COUNTER, { activity_type, outcome: 'completed' });
    expect(completed('provisionMatrixUser')).toBe(1);
    expect(completed('ensureMatrixUser')).toBe(0);

    // The SDK's own metrics, exported by its core and re-served here.
    const sdk = await eventually(
      async () => {
        const m = await workerMetrics();
        return sumOf(m, 'temporal_activity_execution_latency_count', {
          activity_type: 'provisionMatrixUser',
          task_queue: taskQueue,
        }) >= 1
          ? m
          : null;
      },
      20_000,
      'the SDK activity latency histogram to count provisionMatrixUser',
    );
    expect(sdk.get('temporal_activity_execution_latency')?.type).toBe('histogram');
    expect(sumOf(sdk, 'temporal_workflow_task_execution_latency_count', { task_queue: taskQueue })).toBeGreaterThan(0);
  });

  it('counts failed attempts by failure type: MatrixUnavailable while Synapse is down', async () => {
    const failed = async () =>
      sumOf(await workerMetrics(), ACTIVITY_COUNTER, {
        activity_type: 'provisionMatrixUser',
        outcome: 'failed',
        failure_type: 'MatrixUnavailable',
      });
    const completed = async () =>
      sumOf(await workerMetrics(), ACTIVITY_COUNTER, { activity_type: 'provisionMatrixUser', outcome: 'completed' });
    const failedBefore = await failed();
    const completedBefore = await completed();

    await stack(['stop', 'synapse']);
    const request = provision('while-down');
    await eventually(async () => (await failed()) > failedBefore, 30_000, 'a MatrixUnavailable attempt to be counted');
    await stack(['up', 'synapse']);

    expect([200, 202]).toContain((await request).status);
    await eventually(
      async () => (await completed()) === completedBefore + 1,
      60_000,
      'the retried provisionMatrixUser to complete',
    );
  });
});
