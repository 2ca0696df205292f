/**
 * (f) Network faults between the worker and Synapse: the worker's MATRIX_HOMESERVER_URL points at a
 * TCP proxy (chaos-proxy.ts) that adds latency, resets connections, cuts answers after Synapse acted
 * on the request, black-holes connections, and has short total outages — all while the burst runs.
 * Requests the homeserver carried out but whose answers were lost are repeated by the activities:
 * nothing may exist twice (users, rooms, invites) and nothing may be missing.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { stackEnv } from '../helpers/env.js';
import { seededRandom } from './burst.js';
import { startChaosProxy, type ChaosProxy } from './chaos-proxy.js';
import { scenario } from './harness.js';

let proxy: ChaosProxy;
// Registered before the scenario's hooks, so the proxy listens before the worker starts.
beforeAll(async () => {
  proxy = await startChaosProxy(new URL(stackEnv().MATRIX_HOMESERVER_URL!), {
    random: seededRandom(s.seed ^ 0x5eed),
    resetChance: 0.04,
    dropAnswerChance: 0.06,
    blackholeChance: 0.02,
    maxLatencyMs: 150,
  });
});
afterAll(async () => {
  await proxy?.close();
});
const s = scenario('network', 6006, { workerEnv: () => ({ MATRIX_HOMESERVER_URL: proxy.url }) });

it('latency, resets, lost answers, black holes and outages between worker and Synapse during a burst → exact final state', async () => {
  proxy.storm();
  await s.run(async () => proxy.outage(1500), {
    minFaults: 2,
    maxFaults: 8,
    gapMs: [3000, 6000],
    afterBurst: () => proxy.calm(),
  });
  console.log(`[faults] network: proxy ${JSON.stringify(proxy.stats)}`);
  expect(proxy.stats.resets + proxy.stats.droppedAnswers + proxy.stats.blackholes).toBeGreaterThan(5);
}, 600_000);
