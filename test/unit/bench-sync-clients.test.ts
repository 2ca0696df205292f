import { describe, expect, it } from '@jest/globals';
import { parseArgs, renderTable } from '../../scripts/bench/stats.js';
import { syncClientsReport, type Side } from '../../scripts/bench/sync-clients-report.js';
import {
  counterBy,
  counterDelta,
  judgeStep,
  median,
  messagePlan,
  nextRate,
  planRooms,
  renderCounts,
  sustainableRate,
  vmRssBytes,
  type RampOptions,
  type StepOutcome,
} from '../../scripts/bench/sync-clients-stats.js';

const ramp: RampOptions = { start: 1, max: 1024, refine: 2, resolution: 0.15 };

/** Runs the ramp against a homeserver that holds up to `capacity` msg/s. */
function rampAgainst(capacity: number, o: RampOptions = ramp): StepOutcome[] {
  const steps: StepOutcome[] = [];
  for (let r = nextRate(steps, o); r !== null; r = nextRate(steps, o)) steps.push({ rate: r, passed: r <= capacity });
  return steps;
}

describe('sync-clients room plan', () => {
  it('puts every user in a room of exactly roomSize, the last room wrapping around to the first users', () => {
    const rooms = planRooms(200, 30);
    expect(rooms).toHaveLength(7);
    for (const r of rooms) expect(new Set(r).size).toBe(30);
    expect(new Set(rooms.flat()).size).toBe(200);
    expect(rooms[6]!.slice(-10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('makes one room of everyone when there are fewer users than the room size', () => {
    expect(planRooms(5, 30)).toEqual([[0, 1, 2, 3, 4]]);
  });

  it('spreads messages over the rooms and, within a room, over its members in turn', () => {
    const rooms = planRooms(6, 3); // [0,1,2] [3,4,5]
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => messagePlan(i, rooms))).toEqual([
      { room: 0, sender: 0 },
      { room: 1, sender: 3 },
      { room: 0, sender: 1 },
      { room: 1, sender: 4 },
      { room: 0, sender: 2 },
      { room: 1, sender: 5 },
      { room: 0, sender: 0 },
    ]);
  });
});

describe('sync-clients ramp', () => {
  it('doubles from the start rate while every step passes, up to the maximum', () => {
    expect(rampAgainst(10_000, { ...ramp, max: 16 }).map((s) => s.rate)).toEqual([1, 2, 4, 8, 16]);
  });

  it('bisects between the highest pass and the lowest failure, at most `refine` times', () => {
    const steps = rampAgainst(40);
    expect(steps.map((s) => s.rate)).toEqual([1, 2, 4, 8, 16, 32, 64, 48, 40]);
    expect(sustainableRate(steps)).toBe(40);
  });

  it('stops refining once the gap is within the resolution', () => {
    const steps = rampAgainst(7, { ...ramp, refine: 5, resolution: 0.15 });
    // 8 fails; 6 passes; 7 passes; (8 − 7) ≤ 0.15 × 7 → done.
    expect(steps.map((s) => s.rate)).toEqual([1, 2, 4, 8, 6, 7]);
    expect(sustainableRate(steps)).toBe(7);
  });

  it('tries below the start rate when the first step fails, in quarter steps', () => {
    const steps = rampAgainst(0.5);
    expect(steps.map((s) => s.rate)).toEqual([1, 0.5, 0.75]);
    expect(sustainableRate(steps)).toBe(0.5);
  });

  it('reports 0 when nothing passes, and ignores a lucky pass above a failure', () => {
    expect(sustainableRate([{ rate: 1, passed: false }])).toBe(0);
    expect(
      sustainableRate([
        { rate: 8, passed: false },
        { rate: 16, passed: true },
        { rate: 4, passed: true },
      ]),
    ).toBe(4);
  });
});

describe('sync-clients step verdict', () => {
  const rooms = [
    [0, 1, 2],
    [3, 4, 5],
  ];
  const sent = [
    { room: 0, sender: 0, sentAt: 0 },
    { room: 1, sender: 4, sentAt: 0 },
  ];

  it('passes when each message reached every other member of its room within the limit', () => {
    const r = judgeStep(
      2,
      sent,
      [
        [0, 1, 10],
        [0, 2, 20],
        [1, 3, 30],
        [1, 5, 40],
      ],
      rooms,
      1000,
    );
    expect(r).toMatchObject({ expected: 4, delivered: 4, missing: 0, sendErrors: 0, passed: true });
    expect(r.latency.p99).toBe(40);
  });

  it('ignores duplicates, echoes to the sender and deliveries outside the room', () => {
    const r = judgeStep(
      2,
      sent,
      [
        [0, 1, 10],
        [0, 1, 11],
        [0, 0, 1],
        [0, 4, 1],
        [0, 2, 20],
        [1, 3, 30],
        [1, 5, 40],
      ],
      rooms,
      1000,
    );
    expect(r).toMatchObject({ expected: 4, delivered: 4, passed: true });
  });

  it('fails on a missing delivery (counted as infinitely late), a slow p99 or a failed send', () => {
    const missing = judgeStep(
      2,
      sent,
      [
        [0, 1, 10],
        [0, 2, 20],
        [1, 3, 30],
      ],
      rooms,
      1000,
    );
    expect(missing).toMatchObject({ missing: 1, passed: false });
    expect(missing.latency.p99).toBe(Number.POSITIVE_INFINITY);
    expect(
      judgeStep(
        2,
        sent,
        [
          [0, 1, 10],
          [0, 2, 20],
          [1, 3, 30],
          [1, 5, 1500],
        ],
        rooms,
        1000,
      ).passed,
    ).toBe(false);
    const failedSend = judgeStep(
      2,
      [sent[0]!, { ...sent[1]!, failed: true }],
      [
        [0, 1, 10],
        [0, 2, 20],
      ],
      rooms,
      1000,
    );
    expect(failedSend).toMatchObject({ expected: 2, delivered: 2, sendErrors: 1, passed: false });
  });
});

describe('sync-clients readings', () => {
  it('reads VmRSS from /proc/<pid>/status in bytes', () => {
    expect(vmRssBytes('Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t  123456 kB\nThreads:\t7\n')).toBe(123456 * 1024);
    expect(vmRssBytes('Name:\tzombie\n')).toBeNaN();
  });

  it('takes the median of samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('sums a Prometheus counter by one label, and the change between two readings', () => {
    const text = [
      '# HELP synapse_http_server_requests_received_total',
      '# TYPE synapse_http_server_requests_received_total counter',
      'synapse_http_server_requests_received_total{method="GET",servlet="SyncRestServlet"} 400.0',
      'synapse_http_server_requests_received_total{method="PUT",servlet="RoomSendEventRestServlet"} 7.0',
      'synapse_http_server_requests_received_total{method="POST",servlet="SyncRestServlet"} 2.0',
      'synapse_http_server_requests_received_created{method="GET",servlet="SyncRestServlet"} 1.7e9',
      'synapse_http_server_requests_received_totals{servlet="x"} 5',
    ].join('\n');
    const before = counterBy(text, 'synapse_http_server_requests_received_total', 'servlet');
    expect(before).toEqual({ SyncRestServlet: 402, RoomSendEventRestServlet: 7 });
    expect(counterDelta(before, { SyncRestServlet: 410, RoomSendEventRestServlet: 7, VersionsRestServlet: 1 })).toEqual(
      {
        SyncRestServlet: 8,
        VersionsRestServlet: 1,
      },
    );
    expect(renderCounts({ a: 1, b: 5 })).toBe('b 5, a 1');
    expect(renderCounts({})).toBe('none');
  });

  it('parses the sync-clients size options', () => {
    expect(parseArgs(['--only', 'sync-clients', '--online', '200', '--room-size', '30'])).toMatchObject({
      only: ['sync-clients'],
      online: 200,
      roomSize: 30,
    });
    expect(parseArgs(['--quick'])).toMatchObject({ online: 20, roomSize: 10, stepSeconds: 6 });
    expect(parseArgs(['--quick', '--step-seconds', '15'])).toMatchObject({ quick: true, stepSeconds: 15 });
    expect(parseArgs([]).only).toContain('sync-clients');
  });
});

describe('sync-clients report', () => {
  const step = (rate: number, passed: boolean, p99: number): Side['steps'][number] => ({
    rate,
    passed,
    sent: rate * 15,
    sendErrors: 0,
    expected: rate * 15 * 29,
    delivered: rate * 15 * 29,
    missing: 0,
    latency: { count: rate * 15 * 29, min: 1, p50: p99 / 2, p95: p99, p99, max: p99, mean: p99 / 2 },
    lost: 0,
    cores: { synapse: 0.5 },
  });
  const side = (perUserKiB: number, idleSyncs: number, steps: Side['steps']): Side => ({
    memory: { before: 100 * 2 ** 20, atHalf: 120 * 2 ** 20, after: 120 * 2 ** 20 + 100 * perUserKiB * 1024, half: 100 },
    online: 200,
    failures: [],
    startSeconds: 3,
    idle: { seconds: 60, requests: idleSyncs ? { SyncRestServlet: idleSyncs } : {}, cores: { synapse: 0.01 } },
    steps,
  });
  const theirs = side(300, 400, [step(1, false, 1500), step(0.5, true, 700), step(0.75, false, 1100)]);
  const ours = side(6, 0, [
    step(1, true, 100),
    step(2, true, 100),
    step(4, true, 200),
    step(8, false, 2000),
    step(6, true, 500),
  ]);

  it('judges memory per user (marginal, half → all), idle requests and the sustainable rate against the goals', () => {
    const [memory, idle, capacity] = syncClientsReport(
      { online: 200, roomSize: 30, stepSeconds: 15 },
      { rooms: 7 },
      theirs,
      ours,
    );
    expect(memory).toMatchObject({ id: 'sync-clients-memory', goal: 50, meetsGoal: true });
    expect(memory!.ratio).toBeCloseTo(50, 5);
    expect(idle).toMatchObject({ id: 'sync-clients-idle', meetsGoal: true });
    expect(idle!.baseline.rate).toBeCloseTo(400 / 60, 5);
    expect(idle!.ours.ops).toBe(0);
    expect(capacity).toMatchObject({ id: 'sync-clients', ratio: 12, goal: 10, meetsGoal: true });
    expect(capacity!.ours.rate).toBe(6);
    expect(capacity!.baseline.rate).toBe(0.5);
    const table = renderTable([memory!, idle!, capacity!]);
    expect(table).toContain('6.0 KiB per user');
    expect(table).toContain('0 requests per user (ours)');
  });

  it('weighs our user by the bulk socket reading when there is one, not by the noisy marginal one', () => {
    // The marginal 100 → 200 reading says 6 KiB; 2,000 more sockets say 5 KiB each.
    const after = ours.memory.after;
    const weighed = { ...ours, memory: { ...ours.memory, sockets: { count: 2000, after: after + 2000 * 5 * 1024 } } };
    const [memory] = syncClientsReport({ online: 200, roomSize: 30, stepSeconds: 15 }, { rooms: 7 }, theirs, weighed);
    expect(memory!.ratio).toBeCloseTo(60, 5);
    expect(memory!.meetsGoal).toBe(true);
    expect(renderTable([memory!])).toContain('5.0 KiB per user = per socket');
    // A bulk reading that shows a heavier socket counts as such: no page floor hides it.
    const heavy = { ...ours, memory: { ...ours.memory, sockets: { count: 2000, after: after + 2000 * 10 * 1024 } } };
    const [worse] = syncClientsReport({ online: 200, roomSize: 30, stepSeconds: 15 }, { rooms: 7 }, theirs, heavy);
    expect(worse!.ratio).toBeCloseTo(30, 5);
    expect(worse!.meetsGoal).toBe(false);
  });

  it('misses the idle goal when our side made any request while idle', () => {
    const busy = { ...ours, idle: { ...ours.idle, requests: { RoomStateEventRestServlet: 7 } } };
    expect(
      syncClientsReport({ online: 200, roomSize: 30, stepSeconds: 15 }, { rooms: 7 }, theirs, busy)[1]!.meetsGoal,
    ).toBe(false);
  });
});
