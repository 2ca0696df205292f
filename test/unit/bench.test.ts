/** The benchmark harness's pure parts: aggregation, percentiles, the final-state check, rendering. */
import { describe, expect, it } from '@jest/globals';
import { floorNote } from '../../scripts/bench/provisioning.js';
import { roleFor } from '../../scripts/bench/rooms.js';
import {
  ArrivalBook,
  historyPhases,
  localActivityEvents,
  latencies,
  markerBody,
  markerIndex,
  p50p99,
  vmRssKiB,
} from '../../scripts/bench/relay-stats.js';
import {
  BENCH_BEGIN,
  BENCH_END,
  BENCH_IDS,
  compare,
  coresUsed,
  goalText,
  cpuModelFrom,
  measurement,
  memTotalMiB,
  parseArgs,
  parseProcStat,
  percentile,
  renderSection,
  renderTable,
  replaceSection,
  roomProblems,
  roomsCheck,
  runPool,
  summarize,
} from '../../scripts/bench/stats.js';

describe('percentiles and summaries', () => {
  it('uses the nearest rank', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(s, 50), percentile(s, 95), percentile(s, 99), percentile(s, 100), percentile(s, 0)]).toEqual([
      50, 95, 99, 100, 1,
    ]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarizes unsorted samples', () => {
    expect(summarize([30, 10, 20, 40])).toEqual({ count: 4, min: 10, p50: 20, p95: 40, p99: 40, max: 40, mean: 25 });
    expect(summarize([]).count).toBe(0);
  });

  it('computes rates, ratios and whether the goal is met', () => {
    const ours = measurement('API', 200, 20, [1, 2], 0);
    const direct = measurement('direct', 200, 10, [1], 0);
    expect(ours.rate).toBe(10);
    const c = compare({ id: 'p', title: 'P', unit: 'users/s', params: {}, ours, baseline: direct, goal: 0.8 });
    expect(c.ratio).toBe(0.5);
    expect(c.meetsGoal).toBe(false);
    expect(
      compare({ id: 'p', title: 'P', unit: 'u', params: {}, ours: direct, baseline: ours, goal: 0.8 }).meetsGoal,
    ).toBe(true);
  });

  it('never meets the goal with errors or a failed check', () => {
    const fast = measurement('API', 100, 1, [], 1);
    const slow = measurement('direct', 100, 10, [], 0);
    expect(
      compare({ id: 'x', title: 'X', unit: 'u', params: {}, ours: fast, baseline: slow, goal: 0.7 }).meetsGoal,
    ).toBe(false);
    const ok = measurement('API', 100, 1, [], 0);
    const failed = compare({
      id: 'x',
      title: 'X',
      unit: 'u',
      params: {},
      ours: ok,
      baseline: slow,
      goal: 0.7,
      check: { ok: false, detail: 'd' },
    });
    expect(failed.meetsGoal).toBe(false);
  });
});

describe('runPool', () => {
  it('keeps at most `concurrency` tasks in flight, runs every item, and collects failures', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    const { latenciesMs, errors } = await runPool(
      Array.from({ length: 25 }, (_, i) => i),
      4,
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        seen.push(i);
        if (i % 10 === 3) throw new Error(`boom ${i}`);
      },
    );
    expect(peak).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(errors.map((e) => e.index)).toEqual([3, 13, 23]);
    expect(latenciesMs).toHaveLength(22);
  });
});

describe('the rooms final-state check', () => {
  const bot = '@openmeet-bot:localhost';
  const prefix = '@om_t1_';
  const expected = {
    roomId: '!r',
    members: { '@om_t1_a:localhost': 100, '@om_t1_b:localhost': 0, '@om_t1_c:localhost': 25 },
  };
  const exact = {
    joined: [bot, '@om_t1_a:localhost', '@om_t1_b:localhost', '@om_t1_c:localhost', '@admin:localhost'],
    powerLevelUsers: { '@om_t1_a:localhost': 100, '@om_t1_c:localhost': 25, '@admin:localhost': 100 },
    usersDefault: 0,
  };

  it('passes an exact room (a level-0 member may have no entry or an explicit 0; unmanaged users are ignored)', () => {
    expect(roomProblems(expected, exact, bot, prefix)).toEqual([]);
    expect(
      roomProblems(
        expected,
        { ...exact, powerLevelUsers: { ...exact.powerLevelUsers, '@om_t1_b:localhost': 0 } },
        bot,
        prefix,
      ),
    ).toEqual([]);
  });

  it('fails on a missing member, an extra member, a wrong level, a stray managed level, and a missing bot', () => {
    const problems = roomProblems(
      expected,
      {
        joined: ['@om_t1_a:localhost', '@om_t1_c:localhost', '@om_t1_x:localhost'],
        powerLevelUsers: { '@om_t1_a:localhost': 50, '@om_t1_c:localhost': 25, '@om_t1_y:localhost': 50 },
        usersDefault: 0,
      },
      bot,
      prefix,
    );
    expect(problems).toEqual([
      `!r: bot ${bot} not joined`,
      '!r: @om_t1_b:localhost not joined',
      '!r: @om_t1_x:localhost joined but not expected',
      '!r: power level @om_t1_a:localhost is 50, want 100',
      '!r: power level @om_t1_y:localhost is 50, want 0',
    ]);
    expect(roomsCheck(1, 3, problems)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^5 problems: !r: bot/),
    });
    expect(roomsCheck(20, 1000, [])).toEqual({ ok: true, detail: '20 rooms, 1000 memberships and power levels exact' });
  });

  it('uses a mix of roles in every default-sized room', () => {
    for (let r = 0; r < 20; r++) {
      const roles = new Set(Array.from({ length: 50 }, (_, j) => roleFor(r, j)));
      expect([...roles].sort()).toEqual(['host', 'member', 'moderator', 'speaker']);
    }
  });
});

describe('rendering', () => {
  const c = compare({
    id: 'provisioning',
    title: 'Provisioning',
    unit: 'users/s',
    params: { users: 200, concurrency: 20 },
    ours: measurement('API', 200, 25, [100, 200, 300], 0),
    baseline: measurement('direct', 200, 10, [10, 20, 30], 0),
    goal: 0.8,
  });

  it('renders each figure beside its baseline with the ratio and the goal', () => {
    const t = renderTable([c]).split('\n');
    expect(t).toHaveLength(3);
    expect(t[2]).toContain(
      '| Provisioning | users 200, concurrency 20 | 8.0 users/s (200 in 25.00 s) | 20.0 users/s (200 in 10.00 s) | 0.40× | ≥ 0.8× | no |',
    );
    expect(t[2]).toContain('| 200 / 300 / 300 | 20 / 30 / 30 | 0 / 0 |');
  });

  it('writes the section between the markers, replacing an earlier one and keeping the rest', () => {
    const section = renderSection({
      results: [c],
      command: 'npm run bench',
      date: '2026-01-01T00:00:00.000Z',
      machine: { cpus: 2, cpuModel: 'Xeon', memoryMiB: 24576, node: '22.23.3', os: 'Linux 6' },
      resultsFile: 'bench-results/x.json',
      notes: ['a note'],
    });
    expect(section).toContain('`npm run bench`');
    expect(section).toContain('Machine: 2 CPUs (`nproc`), Xeon, 24.0 GiB memory');
    expect(section).toContain('- a note');
    const doc = `# B\n\nintro\n\n${BENCH_BEGIN}\nold\n${BENCH_END}\n\nfooter\n`;
    const once = replaceSection(doc, section);
    expect(once).toContain('intro');
    expect(once).toContain('footer');
    expect(once).not.toContain('old');
    expect(replaceSection(once, section)).toBe(once);
    expect(replaceSection('# B\n', section)).toBe(`# B\n\n${section}\n`);
  });

  it("writes a partial run's section beside the full run's, which it leaves as it is", () => {
    const opts = {
      results: [c],
      command: 'npm run bench -- --only provisioning,users-batch',
      date: '2026-01-01T00:00:00.000Z',
      machine: { cpus: 2, cpuModel: 'Xeon', memoryMiB: 24576, node: '22.23.3', os: 'Linux 6' },
      resultsFile: 'bench-results/x.json',
      notes: ['a note'],
    };
    const key = 'provisioning,users-batch';
    const partial = renderSection({ ...opts, key });
    expect(partial.startsWith('<!-- bench:begin only=provisioning,users-batch -->')).toBe(true);
    expect(partial.endsWith('<!-- bench:end only=provisioning,users-batch -->')).toBe(true);
    const doc = `# B\n\n${BENCH_BEGIN}\nfull run\n${BENCH_END}\n\nfooter\n`;
    const once = replaceSection(doc, partial, key);
    expect(once).toBe(`# B\n\n${BENCH_BEGIN}\nfull run\n${BENCH_END}\n\n${partial}\n\nfooter\n`);
    // A later partial run of the same benchmarks replaces its own section only.
    const again = replaceSection(once, renderSection({ ...opts, key, notes: ['another note'] }), key);
    expect(again).toContain('full run');
    expect(again).toContain('- another note');
    expect(again).not.toContain('- a note');
    // A full run replaces the full section and keeps the partial one.
    expect(replaceSection(once, renderSection(opts))).toContain(partial);
    expect(replaceSection(once, renderSection(opts))).not.toContain('full run');
  });
});

describe('machine and process readings', () => {
  it('reads the CPU model and memory', () => {
    expect(cpuModelFrom('processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t: x\n')).toBe(
      'Intel(R) Xeon(R) Processor',
    );
    expect(cpuModelFrom('')).toBe('unknown');
    expect(memTotalMiB('MemTotal:       24683520 kB\nMemFree: 1 kB\n')).toBe(24105);
  });

  it('parses /proc/<pid>/stat, names with spaces and parentheses included', () => {
    const line = '1234 (python (x) y) S 99 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 1000 10';
    expect(parseProcStat(line)).toEqual({ ppid: 99, ticks: 300 });
    expect(parseProcStat('garbage')).toBeNull();
  });

  it('turns CPU seconds into cores over the interval', () => {
    expect(coresUsed({ a: 1, b: 2 }, { a: 3, b: 2.5, c: 1 }, 2)).toEqual({ a: 1, b: 0.25, c: 0.5 });
  });
});

describe('arguments', () => {
  it("has the issue's defaults, a quick size, and flags", () => {
    expect(parseArgs([])).toMatchObject({ users: 200, concurrency: 20, rooms: 20, members: 50, quick: false });
    expect(parseArgs([]).only).toEqual([...BENCH_IDS]);
    expect(BENCH_IDS.slice(0, 2)).toEqual(['provisioning', 'rooms']);
    expect(parseArgs([])).toMatchObject({ batchUsers: 1000, batches: 1, batchRounds: 2 });
    expect(parseArgs([])).toMatchObject({ listRounds: 4, sendRounds: 4 });
    expect(parseArgs(['--quick'])).toMatchObject({ listRounds: 1, sendRounds: 1 });
    expect(parseArgs(['--list-rounds', '2', '--send-rounds', '3'])).toMatchObject({ listRounds: 2, sendRounds: 3 });
    expect(parseArgs(['--only', 'users-batch', '--batch-users', '500', '--batches', '2', '--batch-rounds', '3'])).toMatchObject({
      only: ['users-batch'],
      batchUsers: 500,
      batches: 2,
      batchRounds: 3,
    });
    expect(parseArgs(['--quick'])).toMatchObject({ users: 20, concurrency: 5, rooms: 3, members: 5, quick: true });
    expect(parseArgs(['--users', '50', '--concurrency', '10', '--only', 'rooms'])).toMatchObject({
      users: 50,
      concurrency: 10,
      only: ['rooms'],
    });
    expect(() => parseArgs(['--users', '0'])).toThrow(/positive integer/);
    expect(() => parseArgs(['--frobnicate'])).toThrow(/unknown argument/);
  });

  it("runs the search benchmark alone on a Synapse on PostgreSQL, the others on SQLite, unless told", () => {
    expect(parseArgs([]).synapseDb).toBe('sqlite');
    expect(parseArgs(['--only', 'search'])).toMatchObject({ synapseDb: 'postgres', searchReseed: false });
    expect(parseArgs(['--only', 'search,rooms']).synapseDb).toBe('sqlite');
    expect(parseArgs(['--only', 'search', '--synapse-db', 'sqlite']).synapseDb).toBe('sqlite');
    expect(parseArgs(['--only', 'rooms', '--synapse-db', 'postgres']).synapseDb).toBe('postgres');
    expect(parseArgs(['--only', 'search', '--search-reseed']).searchReseed).toBe(true);
    expect(() => parseArgs(['--synapse-db', 'mysql'])).toThrow(/sqlite or postgres/);
  });
});

describe('relay benchmark arguments', () => {
  it("defaults to the issue's sizes, is smaller with --quick, and selects the relay benchmarks by id", () => {
    expect(parseArgs([])).toMatchObject({
      messages: 500,
      interval: 80,
      sockets: 2000,
      fanoutUsers: 100,
      fanoutMessages: 50,
      sends: 500,
      sequentialSends: 200,
    });
    expect(parseArgs(['--quick'])).toMatchObject({
      messages: 50,
      sockets: 200,
      fanoutUsers: 10,
      fanoutMessages: 10,
      sends: 50,
      sequentialSends: 50,
    });
    const a = parseArgs([
      '--only',
      'relay-latency,fanout,durable-send',
      '--messages',
      '100',
      '--interval',
      '50',
      '--sockets',
      '300',
    ]);
    expect(a).toMatchObject({
      only: ['relay-latency', 'fanout', 'durable-send'],
      messages: 100,
      interval: 50,
      sockets: 300,
    });
    expect(parseArgs(['--fanout-users', '7', '--fanout-messages', '9', '--sends', '11', '--sequential-sends', '13'])).toMatchObject({
      fanoutUsers: 7,
      fanoutMessages: 9,
      sends: 11,
      sequentialSends: 13,
    });
    expect(() => parseArgs(['--only', 'fanout,nope'])).toThrow(/--only takes/);
  });
});

describe('latency goals', () => {
  const m = (p: number, rate = 10): ReturnType<typeof measurement> => measurement('x', rate, 1, [p], 0);
  const base = { id: 'x', title: 'X', unit: 'u', params: {} };

  it('p99-ratio: ours p99 / direct p99, met when at most the goal', () => {
    const c = compare({ ...base, ours: m(40), baseline: m(50), goal: 1, metric: 'p99-ratio' });
    expect(c.ratio).toBeCloseTo(0.8);
    expect(c.meetsGoal).toBe(true);
    expect(compare({ ...base, ours: m(60), baseline: m(50), goal: 1, metric: 'p99-ratio' }).meetsGoal).toBe(false);
  });

  it('p99-ms: an absolute bound on ours, the ratio still against the baseline', () => {
    const c = compare({ ...base, ours: m(45), baseline: m(9), goal: 50, metric: 'p99-ms' });
    expect(c.ratio).toBe(5);
    expect(c.meetsGoal).toBe(true);
    expect(compare({ ...base, ours: m(51), baseline: m(9), goal: 50, metric: 'p99-ms' }).meetsGoal).toBe(false);
  });

  it('added-p50-ms: ours p50 − direct p50 bounded, the ratio of rates', () => {
    const c = compare({ ...base, ours: m(50, 5), baseline: m(25, 10), goal: 30, metric: 'added-p50-ms' });
    expect(c.ratio).toBe(0.5);
    expect(c.meetsGoal).toBe(true);
    expect(compare({ ...base, ours: m(56), baseline: m(25), goal: 30, metric: 'added-p50-ms' }).meetsGoal).toBe(false);
  });

  it('errors still fail a latency goal', () => {
    const failed = compare({
      ...base,
      ours: measurement('x', 1, 1, [1], 2),
      baseline: m(50),
      goal: 1,
      metric: 'p99-ratio',
    });
    expect(failed.meetsGoal).toBe(false);
  });

  it('renders each goal and the p99 ratio in the table', () => {
    expect(
      [undefined, 'p99-ratio', 'p99-ms', 'added-p50-ms'].map((metric) =>
        goalText({ goal: 1, metric: metric as never }),
      ),
    ).toEqual(['≥ 1×', 'p99 ≤ 1× direct', 'p99 ≤ 1 ms', 'added p50 ≤ 1 ms']);
    const row = renderTable([compare({ ...base, ours: m(45), baseline: m(9), goal: 50, metric: 'p99-ms' })]).split(
      '\n',
    )[2]!;
    expect(row).toContain('| p99 5.00× | p99 ≤ 50 ms | yes |');
  });
});

describe('relay benchmark helpers', () => {
  it('finds the message marker in a frame without parsing it', () => {
    const frame = JSON.stringify({
      v: 1,
      type: 'event',
      event: { content: { msgtype: 'm.text', body: markerBody('fo1a2b3c', 42) } },
    });
    expect(markerIndex(frame, 'fo1a2b3c')).toBe(42);
    expect(markerIndex(frame, 'fo1a2b3')).toBe(-1);
    expect(markerIndex('{"body":"fo1a2b3c-"}', 'fo1a2b3c')).toBe(-1);
    expect(markerIndex('{"body":"fo1a2b3c-12x"}', 'fo1a2b3c')).toBe(-1);
    expect(markerIndex('{"type":"live","seq":3}', 'fo1a2b3c')).toBe(-1);
  });

  it('books arrivals per message over sockets, each socket once, and says when all have it', () => {
    const book = new ArrivalBook(3);
    expect(book.record(0, 0, 10)).toBeNull();
    expect(book.record(0, 2, 14)).toBeNull();
    expect(book.record(0, 2, 15)).toBeNull();
    expect(book.duplicates).toBe(1);
    expect(book.record(0, 1, 12)).toEqual({ count: 3, first: 10, last: 14 });
    expect(book.record(1, 1, 20)).toBeNull();
    expect(book.arrivals[1]).toEqual({ count: 1, first: 20, last: 20 });
  });

  it('times messages against their sends, counting the missing and skipping failed sends', () => {
    const arrived = [15, undefined, 40];
    expect(latencies([10, 20, undefined, 30], (i) => arrived[i])).toEqual({ samples: [5], missing: 2 });
    expect(latencies([10, 20, 30], (i) => arrived[i])).toEqual({ samples: [5, 10], missing: 1 });
  });

  it('reads VmRSS and summarizes samples for notes', () => {
    expect(vmRssKiB('Name:\tnode\nVmRSS:\t  123456 kB\nVmSwap:\t0 kB\n')).toBe(123456);
    expect(vmRssKiB('Name:\tnode\n')).toBeNaN();
    expect(p50p99([3, 1, 2, 100])).toBe('p50 2.0 / p99 100.0 ms');
    expect(p50p99([])).toBe('no samples');
  });
});

describe('workflow history phases', () => {
  it('splits a send workflow into task waits, the activity and the rest', () => {
    const h = [
      ['EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', 0],
      ['EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 0],
      ['EVENT_TYPE_WORKFLOW_TASK_STARTED', 10],
      ['EVENT_TYPE_WORKFLOW_TASK_COMPLETED', 20],
      ['EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', 20],
      ['EVENT_TYPE_ACTIVITY_TASK_STARTED', 35],
      ['EVENT_TYPE_ACTIVITY_TASK_COMPLETED', 85],
      ['EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 85],
      ['EVENT_TYPE_WORKFLOW_TASK_STARTED', 90],
      ['EVENT_TYPE_WORKFLOW_TASK_COMPLETED', 100],
      ['EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', 100],
    ].map(([type, ms]) => ({ type: type as string, ms: ms as number }));
    expect(historyPhases(h)).toEqual({
      total: 100,
      workflowTaskWait: 15,
      workflowTaskRun: 20,
      localActivityRun: 0,
      activityWait: 15,
      activityRun: 50,
      other: 0,
    });
    expect(historyPhases(h.slice(0, -1))).toBeNull();
  });

  it('splits a local-first send: the local activity (from its marker) inside the one workflow task', () => {
    const at = (s: number): { seconds: string; nanos: number } => ({ seconds: String(1000 + Math.floor(s / 1000)), nanos: (s % 1000) * 1e6 });
    const marker = JSON.stringify({ seq: 1, attempt: 1, activity_type: 'sendMessageAsUser', complete_time: at(45), backoff: null, original_schedule_time: at(20) });
    const la = localActivityEvents(marker);
    expect(la).toEqual([
      { type: 'LOCAL_ACTIVITY_SCHEDULED', ms: 1_000_020 },
      { type: 'LOCAL_ACTIVITY_COMPLETED', ms: 1_000_045 },
    ]);
    const h = [
      ['EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', 0],
      ['EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 0],
      ['EVENT_TYPE_WORKFLOW_TASK_STARTED', 5],
      ['EVENT_TYPE_WORKFLOW_TASK_COMPLETED', 60],
      ['EVENT_TYPE_MARKER_RECORDED', 61],
      ['EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', 62],
    ].map(([type, ms]) => ({ type: type as string, ms: 1_000_000 + (ms as number) }));
    expect(historyPhases([...h, ...la])).toEqual({
      total: 62,
      workflowTaskWait: 5,
      workflowTaskRun: 55,
      localActivityRun: 25,
      activityWait: 0,
      activityRun: 0,
      other: 2,
    });
    expect(localActivityEvents('not json')).toEqual([]);
    expect(localActivityEvents('{"seq":1}')).toEqual([]);
  });
});

describe('the Temporal floor note', () => {
  const m = (rate: number) => measurement('x', Math.round(rate * 10), 10, [5, 6, 7], 0);
  it('says the goal is out of reach when the floor is below what the goal needs, and how much of the floor ours reached', () => {
    const note = floorNote(m(40), { temporal: 0.9, 'floor worker': 0.7, api: 0.01 }, m(30), m(100), 0.8);
    expect(note).toContain('40.0 users/s');
    expect(note).toContain('below the 80.0 users/s the goal needs');
    expect(note).toContain('out of reach');
    expect(note).toContain('temporal 0.90, floor worker 0.70, api 0.01 cores');
    expect(note).toContain('Ours reached 0.75 of the floor');
  });
  it('does not blame Temporal when the floor clears the goal', () => {
    const note = floorNote(m(90), { temporal: 1 }, m(30), m(100), 0.8);
    expect(note).toContain('above the 80.0 users/s the goal needs');
    expect(note).not.toContain('out of reach');
  });
});
