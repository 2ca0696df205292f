/**
 * The webhook delivery workflow (decision 0049) with its delivery activity stubbed, on the stack's
 * Temporal dev server: the back-off between failed attempts follows the schedule (read from the
 * workflow's own timers); an outage of an "hour" (the schedule and the outage scaled down alike,
 * the dev server has no time skipping) loses nothing and keeps each room's order, deliveries
 * recorded during it included; a failing head blocks its own room only; 410 ends the workflow.
 */
import { describe, expect, it } from '@jest/globals';
import { Worker } from '@temporalio/worker';
import { uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import {
  webhookBackoffMs,
  webhookWakeSignal,
  webhookWorkflowId,
  type WebhookAttempt,
  type WebhookBackoff,
  type WebhookRoomInput,
} from '../../vocabulary/webhooks.js';
import { stackWorkflowEnv } from './stack-env.js';

const stack = stackWorkflowEnv();

/** An in-memory outbox and receiver behind the stubbed activity. */
class FakeReceiver {
  readonly queues = new Map<string, string[]>();
  readonly delivered = new Map<string, string[]>();
  readonly attempts: { roomKey: string; id: string; at: number; ok: boolean }[] = [];
  /** Answers nothing (a failed attempt) while this says so. */
  failing: (roomKey: string, id: string) => boolean = () => false;
  gone = false;

  enqueue(roomKey: string, ...ids: string[]): void {
    this.queues.set(roomKey, [...(this.queues.get(roomKey) ?? []), ...ids]);
  }

  activities() {
    return {
      attemptWebhookDelivery: async (input: { tenant: string; roomKey: string }): Promise<WebhookAttempt> => {
        const queue = this.queues.get(input.roomKey) ?? [];
        const id = queue[0];
        if (id === undefined) return { outcome: 'none' };
        if (this.gone) return { outcome: 'stopped', reason: 'the receiver answered 410 Gone' };
        const ok = !this.failing(input.roomKey, id);
        this.attempts.push({ roomKey: input.roomKey, id, at: Date.now(), ok });
        if (!ok) return { outcome: 'retry', id, error: 'no answer: ECONNREFUSED' };
        queue.shift();
        this.delivered.set(input.roomKey, [...(this.delivered.get(input.roomKey) ?? []), id]);
        return { outcome: 'delivered', id };
      },
    };
  }
}

async function run(receiver: FakeReceiver, rooms: string[], backoff: WebhookBackoff, body: (tenant: string) => Promise<void>) {
  const taskQueue = uniqueTaskQueue('webhook');
  const tenant = uniqueTenant('wh');
  const worker = await Worker.create({
    connection: stack.env.nativeConnection,
    taskQueue,
    workflowBundle: stack.bundle,
    activities: receiver.activities(),
  });
  await worker.runUntil(async () => {
    for (const roomKey of rooms) {
      const input: WebhookRoomInput = { tenant, roomKey, backoff };
      await stack.env.client.workflow.start('webhookRoomWorkflow', {
        taskQueue,
        workflowId: webhookWorkflowId(tenant, roomKey),
        args: [input],
      });
    }
    await body(tenant);
  });
}

const handle = (tenant: string, roomKey: string) => stack.env.client.workflow.getHandle(webhookWorkflowId(tenant, roomKey));

/** The durations of the workflow's timers, in milliseconds, from its history. */
async function timersOf(tenant: string, roomKey: string): Promise<number[]> {
  const history = await handle(tenant, roomKey).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.timerStartedEventAttributes?.startToFireTimeout)
    .filter((t) => t)
    .map((t) => Number(t!.seconds ?? 0) * 1000 + Math.round((t!.nanos ?? 0) / 1e6));
}

describe('webhookRoomWorkflow', () => {
  it('waits out failed attempts on durable timers that follow the back-off schedule, then delivers', async () => {
    const receiver = new FakeReceiver();
    receiver.enqueue('!a', 'd1', 'd2');
    let failuresLeft = 5;
    receiver.failing = () => failuresLeft-- > 0;
    const backoff = { firstMs: 40, maxMs: 400 };
    await run(receiver, ['!a'], backoff, async (tenant) => {
      const h = handle(tenant, '!a');
      expect(await h.result()).toEqual({ delivered: 2 });
      const timers = await timersOf(tenant, '!a');
      // 40, 80, 160, 320, then held at the cap.
      expect(timers).toEqual([1, 2, 3, 4, 5].map((n) => webhookBackoffMs(n, backoff)));
      expect(timers).toEqual([40, 80, 160, 320, 400]);
      const gaps = receiver.attempts.slice(1).map((a, i) => a.at - receiver.attempts[i]!.at);
      gaps.slice(0, 5).forEach((g, i) => expect(g).toBeGreaterThanOrEqual(timers[i]!));
      expect(receiver.delivered.get('!a')).toEqual(['d1', 'd2']);
    });
  }, 60_000);

  it('an outage of an "hour" loses nothing and keeps each room in order, deliveries recorded meanwhile included', async () => {
    // Scaled by 1/1000: 5 s → 5 ms doubling to 10 min → 600 ms; the hour → 3.6 s.
    const backoff = { firstMs: 5, maxMs: 600 };
    const receiver = new FakeReceiver();
    const rooms = ['!r1', '!r2', '!r3'];
    for (const r of rooms) receiver.enqueue(r, `${r}-1`, `${r}-2`, `${r}-3`);
    const upAt = Date.now() + 3_600;
    receiver.failing = () => Date.now() < upAt;
    await run(receiver, rooms, backoff, async (tenant) => {
      await new Promise((r) => setTimeout(r, 1_500));
      // Recorded during the outage; the sweeper's signal tells the running workflow.
      for (const r of rooms) {
        receiver.enqueue(r, `${r}-4`, `${r}-5`);
        await handle(tenant, r).signal(webhookWakeSignal);
      }
      const results = await Promise.all(rooms.map((r) => handle(tenant, r).result()));
      expect(results).toEqual(rooms.map(() => ({ delivered: 5 })));
      // Each failed attempt was followed by one durable timer of the schedule's length.
      for (const r of rooms) {
        const failures = receiver.attempts.filter((a) => a.roomKey === r && !a.ok).length;
        expect(failures).toBeGreaterThanOrEqual(2);
        expect(await timersOf(tenant, r)).toEqual(Array.from({ length: failures }, (_, i) => webhookBackoffMs(i + 1, backoff)));
      }
    });
    for (const r of rooms) expect(receiver.delivered.get(r)).toEqual([1, 2, 3, 4, 5].map((n) => `${r}-${n}`));
    expect(Math.min(...receiver.attempts.filter((a) => a.ok).map((a) => a.at))).toBeGreaterThanOrEqual(upAt);
    // Backed off, not spinning: at most the schedule's attempts in the outage (5 ms doubling: 10 by 3.6 s).
    expect(receiver.attempts.filter((a) => !a.ok).length).toBeLessThanOrEqual(rooms.length * 11);
  }, 60_000);

  it("a failing head blocks its own room's later deliveries only", async () => {
    const receiver = new FakeReceiver();
    receiver.enqueue('!stuck', 's1', 's2');
    receiver.enqueue('!fine', 'f1', 'f2', 'f3');
    let stuck = true;
    receiver.failing = (_room, id) => id === 's1' && stuck;
    await run(receiver, ['!stuck', '!fine'], { firstMs: 20, maxMs: 100 }, async (tenant) => {
      expect(await handle(tenant, '!fine').result()).toEqual({ delivered: 3 });
      expect(receiver.delivered.get('!stuck')).toBeUndefined();
      stuck = false;
      expect(await handle(tenant, '!stuck').result()).toEqual({ delivered: 2 });
    });
    expect(receiver.delivered.get('!stuck')).toEqual(['s1', 's2']);
  }, 60_000);

  it('ends when the subscription is stopped (410), leaving the rest pending', async () => {
    const receiver = new FakeReceiver();
    receiver.enqueue('!g', 'g1', 'g2');
    receiver.gone = true;
    await run(receiver, ['!g'], { firstMs: 20, maxMs: 100 }, async (tenant) => {
      expect(await handle(tenant, '!g').result()).toEqual({ delivered: 0, stopped: 'the receiver answered 410 Gone' });
    });
    expect(receiver.queues.get('!g')).toEqual(['g1', 'g2']);
  }, 60_000);
});
