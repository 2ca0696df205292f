/**
 * Benchmark 6 (issue 7): durable sends. N messages through the API's durable send path (POST
 * /v1/tenants/{tenant}/rooms/event/{slug}/messages with the user's JWT: a `msg:` workflow per
 * message, sent with the user's stored token, answered once the homeserver has the event) versus
 * the same N as plain `PUT /_matrix/client/v3/rooms/{id}/send/m.room.message/{txn}` with the user's
 * own token, at the same concurrency, same sender and room. Per-message latency on both sides; the
 * goal bounds the added latency (ours p50 − direct p50).
 */
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../lib/config.js';
import { apiClient, type ApiClient } from './clients.js';
import type { Track } from './provisioning.js';
import { historyPhases, p50p99, type HistoryPhases } from './relay-stats.js';
import { matrixSend, matrixTokens, memberSlug, roomWithMembers, userIdOf, userJwt } from './relay-setup.js';
import { compare, measurement, runPool, type Comparison, type Measurement } from './stats.js';

export interface DurableSendOptions {
  config: Config;
  api: ApiClient;
  sends: number;
  concurrency: number;
  runId: string;
  log: (msg: string) => void;
  track: Track;
}

interface Side {
  m: Measurement;
  eventIds: Set<string>;
  /** Ours: request latency per workflow id. */
  workflows?: Map<string, number>;
}

/** Sampled workflows' histories, from the Temporal server: where the time of a durable send goes. */
async function phases(
  config: Config,
  workflows: Map<string, number>,
  sample: number,
): Promise<{ phases: HistoryPhases; requestMs: number }[]> {
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const ids = [...workflows.keys()];
    const step = Math.max(1, Math.floor(ids.length / sample));
    const out: { phases: HistoryPhases; requestMs: number }[] = [];
    for (let i = 0; i < ids.length; i += step) {
      const history = await client.workflow.getHandle(ids[i]!).fetchHistory();
      const events = (history.events ?? []).map((e) => ({
        type: proto.temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? 'unknown',
        ms: Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6,
      }));
      const p = historyPhases(events);
      if (p) out.push({ phases: p, requestMs: workflows.get(ids[i]!)! });
    }
    return out;
  } finally {
    await connection.close();
  }
}

export async function durableSendBench(o: DurableSendOptions): Promise<Comparison> {
  const { config } = o;
  const tenant = `bd-${o.runId}`;
  const slug = 'sends';
  o.log('durable-send: a room with its sender, through the API (untimed)');
  const roomId = await roomWithMembers(o.api, tenant, slug, 1, 1);
  const [token] = await matrixTokens(config, [userIdOf(config, tenant, memberSlug(0))]);
  const asUser = apiClient(o.api.baseUrl, await userJwt(config, tenant, memberSlug(0)));
  const path = `/v1/tenants/${tenant}/rooms/event/${slug}/messages`;

  const direct = async (n: number, label: string): Promise<Side> => {
    const eventIds = new Set<string>();
    const started = performance.now();
    const r = await runPool(
      Array.from({ length: n }, (_, i) => i),
      o.concurrency,
      async (i) => {
        eventIds.add(await matrixSend(config, token!, roomId, randomUUID(), `${label} ${i}`));
      },
    );
    const seconds = (performance.now() - started) / 1000;
    for (const e of r.errors.slice(0, 3)) console.error(`  direct send error: ${String(e.error)}`);
    return { m: measurement('direct', n - r.errors.length, seconds, r.latenciesMs, r.errors.length), eventIds };
  };
  const ours = async (n: number, label: string): Promise<Side> => {
    const eventIds = new Set<string>();
    const workflows = new Map<string, number>();
    const started = performance.now();
    const r = await runPool(
      Array.from({ length: n }, (_, i) => i),
      o.concurrency,
      async (i) => {
        const t0 = performance.now();
        const res = await asUser.call('POST', path, { txnId: randomUUID(), body: `${label} ${i}` });
        if (res.status !== 200 || res.body.status !== 'sent' || typeof res.body.eventId !== 'string')
          throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
        eventIds.add(res.body.eventId);
        workflows.set(String(res.body.workflowId), performance.now() - t0);
      },
    );
    const seconds = (performance.now() - started) / 1000;
    for (const e of r.errors.slice(0, 3)) console.error(`  api send error: ${String(e.error)}`);
    return { m: measurement('API', n - r.errors.length, seconds, r.latenciesMs, r.errors.length), eventIds, workflows };
  };

  o.log('durable-send: warm-up (10 messages each side)');
  await direct(10, 'warm-up direct');
  await ours(10, 'warm-up api');
  o.log(`durable-send: direct, ${o.sends} messages at concurrency ${o.concurrency}`);
  const { value: d, cores: directCores } = await o.track(() => direct(o.sends, 'direct'));
  o.log(`  ${d.m.rate.toFixed(1)} messages/s`);
  o.log(`durable-send: API, ${o.sends} messages at concurrency ${o.concurrency}`);
  const { value: a, cores: apiCores } = await o.track(() => ours(o.sends, 'api'));
  o.log(`  ${a.m.rate.toFixed(1)} messages/s`);

  const sampled = await phases(config, a.workflows!, 100);
  const pick = (f: (p: HistoryPhases) => number): number[] => sampled.map((s) => f(s.phases));
  const apiSide = sampled.map((s) => s.requestMs - s.phases.total);
  const added = { p50: a.m.latency.p50 - d.m.latency.p50, p99: a.m.latency.p99 - d.m.latency.p99 };
  const result = compare({
    id: 'durable-send',
    title: 'Durable sends (issue 7 #6)',
    unit: 'messages/s',
    params: { messages: o.sends, concurrency: o.concurrency },
    ours: a.m,
    baseline: d.m,
    goal: 30,
    metric: 'added-p50-ms',
    cpu: { ours: apiCores, direct: directCores },
    check: {
      ok: a.eventIds.size === a.m.ops && d.eventIds.size === d.m.ops,
      detail: `ours: ${a.eventIds.size} distinct events for ${a.m.ops} sends; direct: ${d.eventIds.size} for ${d.m.ops}`,
    },
    details: { addedMs: added, phases: sampled },
  });
  result.notes = [
    `Durable sends: one sender and room per side, ${o.sends} messages at concurrency ${o.concurrency}; ours answered 200 "sent" with the event id (the workflow done). ` +
      `Added latency per message (ours − direct): p50 ${added.p50.toFixed(1)} ms, p99 ${added.p99.toFixed(1)} ms. ` +
      `Where ours goes (${sampled.length} workflow histories): workflow started → completed ${p50p99(pick((p) => p.total))}, of which ` +
      `workflow tasks waiting for the worker ${p50p99(pick((p) => p.workflowTaskWait))}, workflow tasks running ${p50p99(pick((p) => p.workflowTaskRun))} ` +
      `(the send runs inside as a local activity: stored token + the Matrix PUT; decision 0016), a regular send activity (only after failed local attempts) ` +
      `waiting ${p50p99(pick((p) => p.activityWait))} and running ${p50p99(pick((p) => p.activityRun))}, the server recording results ${p50p99(pick((p) => p.other))}; ` +
      `the API around the workflow (auth, room and membership lookups, start, describe, result) ${p50p99(apiSide)}.`,
  ];
  return result;
}
