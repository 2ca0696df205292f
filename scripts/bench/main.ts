/**
 * `npm run bench [-- --only <ids> --quick --keep-stack --profile --synapse-db sqlite|postgres --search-reseed <sizes>]`
 *   ids: provisioning, rooms, member-lists, relay-latency, fanout, durable-send, sync-clients, users-batch, search (default: all)
 *   sizes: --users --concurrency --rooms --members --messages --interval --sockets --fanout-users
 *          --fanout-messages --sends --sequential-sends --online --room-size --step-seconds --batch-users --batches
 *          --batch-rounds --list-rounds --send-rounds --search-messages --search-rooms --search-queries
 *
 * Brings up its own stack (`bench`, ports offset by 50000; BENCH_STACK_NAME / BENCH_PORT_OFFSET
 * for another), runs a real worker process and a real
 * API process on it, measures each benchmark beside its direct baseline in the same run, writes
 * bench-results/<timestamp>.json, prints a markdown table, updates BENCHMARKS.md (not for
 * --quick; a partial run, --only, in a section of its own), and stops the stack.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { loadConfig } from '../../lib/config.js';
import { apiClient, directMatrix, serviceJwt } from './clients.js';
import { cpuTracker } from './cpu.js';
import { temporalFloor } from './floor/client.js';
import { renderProfile, summarizeProfiles } from './profile.js';
import { provisioningBench } from './provisioning.js';
import { roomsBench } from './rooms.js';
import { memberListsBench } from './member-lists.js';
import { relayLatencyBench } from './relay-latency.js';
import { fanoutBench } from './fanout.js';
import { durableSendBench } from './durable-send.js';
import { inspectorGc } from './gc.js';
import { syncClientsBench } from './sync-clients.js';
import { usersBatchBench } from './users-batch.js';
import { searchBench } from './search.js';
import { BENCH_STACK, readStackEnv, ROOT, stack, startProcess, type Proc } from './stack.js';
import {
  BENCH_IDS,
  cpuModelFrom,
  memTotalMiB,
  parseArgs,
  renderCores,
  renderCpuPerOp,
  renderSection,
  renderTable,
  replaceSection,
  type Comparison,
  type MachineInfo,
} from './stats.js';

const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

function machine(): MachineInfo {
  const read = (f: string): string => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const model = cpuModelFrom(read('/proc/cpuinfo'));
  const mem = memTotalMiB(read('/proc/meminfo'));
  return {
    // nproc counts the CPUs this process may use (affinity), as the shell's nproc does.
    cpus: cpus().length,
    cpuModel: model === 'unknown' ? (cpus()[0]?.model ?? 'unknown') : model,
    memoryMiB: mem || Math.round(totalmem() / 2 ** 20),
    node: process.versions.node,
    os: `Linux ${release()}`,
  };
}

const pidFile = (f: string): number | undefined => {
  try {
    const n = Number(readFileSync(f, 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
};

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const argv = process.argv.slice(2);
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const runId = randomBytes(3).toString('hex');
  const started = new Date();

  log(`bringing up the bench stack (STACK_NAME=${BENCH_STACK.STACK_NAME} STACK_PORT_OFFSET=${BENCH_STACK.STACK_PORT_OFFSET}, Synapse on ${args.synapseDb})`);
  process.env.STACK_SYNAPSE_DB = args.synapseDb;
  await stack(['up']);
  const stackEnv = await readStackEnv();
  const taskQueue = `bench-${runId}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...stackEnv,
    TEMPORAL_TASK_QUEUE: taskQueue,
    API_WAIT_MS: '120000',
    LOG_LEVEL: 'info',
    // Scheduled reconciliation (one membership read per desired membership, each tenant, every
    // interval) would fire inside whichever measurement its time falls in: once a week here.
    RECONCILE_INTERVAL_MINUTES: '10080',
    // Every bench socket comes from 127.0.0.1, many per user (fan-out: sockets / users of them):
    // the relay's per-address, per-user and handshake limits (decision 0023) would refuse the load.
    RELAY_MAX_SOCKETS_PER_ADDRESS: '0',
    RELAY_ADDRESS_HANDSHAKES_PER_SECOND: '0',
    RELAY_HANDSHAKES_PER_SECOND: '100000',
    RELAY_MAX_SOCKETS_PER_USER: '10000',
    // Durable sends go through the HTTP message route as one user, hundreds at a time: the per-user
    // HTTP limit (10/s) would answer 429s instead of measuring the send.
    RELAY_HTTP_RATE_PER_SECOND: '1000',
    RELAY_HTTP_RATE_BURST: '10000',
  };
  const config = loadConfig(env);
  const stackDir = stackEnv.STACK_DIR!;
  const profileDir = `${stackDir}/profiles/${runId}`;
  const profiledPids: Record<string, number> = {};
  const procs: Proc[] = [];
  const results: Comparison[] = [];
  let failure: unknown = null;
  try {
    log(`starting a worker (task queue ${taskQueue}) and an API on port ${config.api.port}`);
    // --profile: V8 CPU profiles of both processes, written when they exit, summarized in the notes.
    const profiled: Record<string, string> = args.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {};
    const worker = await startProcess('dist/worker/main.js', { ...env, ...profiled, WORKER_HTTP_PORT: '0' }, /worker running/, 'worker');
    procs.push(worker);
    if (worker.child.pid) profiledPids.worker = worker.child.pid;
    // Its inspector (loopback, a free port) lets the memory benchmarks read RSS after a full GC.
    const apiProc = await startProcess('dist/api/main.js', { ...env, ...profiled }, /api listening/, 'api', [
      '--inspect=127.0.0.1:0',
    ]);
    const apiInspector = apiProc.inspector;
    if (!apiInspector) throw new Error('the API printed no inspector URL (started with --inspect=127.0.0.1:0)');
    const apiGc = (): Promise<void> => inspectorGc(apiInspector);
    procs.push(apiProc);
    if (apiProc.child.pid) profiledPids.api = apiProc.child.pid;
    const api = apiClient(`http://127.0.0.1:${config.api.port}`, await serviceJwt(config));
    const ready = await api.call('GET', '/readyz');
    if (ready.status !== 200) throw new Error(`the API is not ready: ${JSON.stringify(ready.body)}`);

    let floorWorker: Proc | undefined;
    const pgData = existsSync(`${stackDir}/pg.datadir`) ? readFileSync(`${stackDir}/pg.datadir`, 'utf8').trim() : '';
    // The processes whose CPU the benchmarks account for (read anew: a restarted one has a new pid).
    const roots = () => ({
      synapse: pidFile(`${stackDir}/synapse.pid`),
      temporal: pidFile(`${stackDir}/temporal.pid`),
      postgres: pgData ? pidFile(`${pgData}/postmaster.pid`) : undefined,
      worker: worker.child.pid,
      'floor worker': floorWorker?.child.pid,
      api: apiProc.child.pid,
      'bench client': process.pid,
    });
    const track = cpuTracker(roots);

    if (args.only.includes('provisioning')) {
      // The Temporal floor's worker: the same Temporal work as a provisioning, with nothing in it.
      const floorQueue = `bench-floor-${runId}`;
      // Profiled too (--profile): where the same Temporal work costs the floor's worker, beside ours.
      floorWorker = await startProcess('dist/scripts/bench/floor/worker.js', { ...env, ...profiled, FLOOR_TASK_QUEUE: floorQueue }, /floor worker running/, 'floor-worker');
      procs.push(floorWorker);
      if (floorWorker.child.pid) profiledPids['floor worker'] = floorWorker.child.pid;
      const floor = (tenant: string, n: number, concurrency: number) => temporalFloor(config, floorQueue, tenant, n, concurrency);
      results.push(await provisioningBench({ config, api, users: args.users, concurrency: args.concurrency, runId, log, track, floor }));
      await floorWorker.stop();
      floorWorker = undefined;
    }
    if (args.only.includes('rooms')) {
      results.push(
        await roomsBench({ config, api, direct: directMatrix(config), rooms: args.rooms, members: args.members, concurrency: args.concurrency, runId, log, track }),
      );
    }
    if (args.only.includes('member-lists')) {
      results.push(
        await memberListsBench({ config, api, direct: directMatrix(config), rooms: args.rooms, members: args.members, concurrency: args.concurrency, rounds: args.listRounds, runId, log, track }),
      );
    }
    if (args.only.includes('relay-latency')) {
      results.push(await relayLatencyBench({ config, api, messages: args.messages, interval: args.interval, runId, log, track }));
    }
    if (args.only.includes('fanout')) {
      results.push(
        await fanoutBench({ config, api, apiPid: apiProc.child.pid!, apiGc, sockets: args.sockets, users: args.fanoutUsers, messages: args.fanoutMessages, concurrency: args.concurrency, runId, log, track }),
      );
    }
    if (args.only.includes('durable-send')) {
      results.push(
        ...(await durableSendBench({ config, api, sends: args.sends, sequentialSends: args.sequentialSends, rounds: args.sendRounds, concurrency: args.concurrency, runId, log, track })),
      );
    }
    if (args.only.includes('sync-clients')) {
      results.push(
        ...(await syncClientsBench({ config, api, online: args.online, roomSize: args.roomSize, stepSeconds: args.stepSeconds, concurrency: args.concurrency, runId, log, roots, apiPid: apiProc.child.pid!, apiGc })),
      );
    }
    if (args.only.includes('users-batch')) {
      results.push(
        await usersBatchBench({ config, api, users: args.batchUsers, batches: args.batches, rounds: args.batchRounds, concurrency: args.concurrency, runId, log, track }),
      );
    }
    if (args.only.includes('search')) {
      results.push(
        await searchBench({ config, api, messages: args.searchMessages, rooms: args.searchRooms, queries: args.searchQueries, reseed: args.searchReseed, synapseDb: args.synapseDb, stackDir, runId, log, track }),
      );
    }
  } catch (err) {
    failure = err;
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    if (!args.keepStack) {
      log('stopping the bench stack');
      await stack(['down']).catch((err: unknown) => log(`stack down failed: ${String(err)}`));
    }
  }
  if (failure) {
    log(`benchmark failed: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`);
    return 1;
  }

  const m = machine();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const resultsFile = `bench-results/${stamp}.json`;
  mkdirSync(`${ROOT}bench-results`, { recursive: true });
  writeFileSync(`${ROOT}${resultsFile}`, JSON.stringify({ command, date: started.toISOString(), machine: m, args, results }, null, 2) + '\n');

  const notes = [
    'Each benchmark runs its direct baseline first, then the same work through the API, in the same run on the same stack (member lists and durable sends under load: rounds with the order of the sides alternating; the users batch: rounds; see their notes); ratio = ours / direct.',
    'Provisioning: "done" is the provisioning operation completed (the API answered 200 with status completed, or its operation reported completed): user created on Synapse, token issued and stored encrypted. Direct: Admin API GET user, PUT user, POST admin login per user, nothing stored.',
    'Rooms: members were provisioned beforehand on both sides (untimed); the rate counts memberships (room creation included in the time); latencies are per membership request. Direct: bot createRoom with alias, invite + join with the user\'s own token per membership, one power-levels read and write per room.',
    args.synapseDb === 'postgres'
      ? "Stack: Synapse (one Python process) storing in the stack's PostgreSQL (`--synapse-db postgres`, STACK_SYNAPSE_DB=postgres: its CPU there is counted as postgres), the Temporal dev server (one SQLite-backed shard, WAL, synchronous=OFF), one worker and one API process, the benchmark client — all on this machine."
      : 'Stack: Synapse on SQLite (one Python process), the Temporal dev server (one SQLite-backed shard, WAL, synchronous=OFF), PostgreSQL, one worker and one API process, the benchmark client — all on this machine.',
    ...results.flatMap((r) => r.notes ?? []),
    ...(args.profile && existsSync(profileDir)
      ? Object.entries(profiledPids).map(
          ([name, pid]) =>
            `Where the ${name} process's CPU went over the whole run (\`--profile\`, V8 CPU profile, self time; profiles in ${profileDir.slice(ROOT.length)}): ${renderProfile(summarizeProfiles(profileDir, pid))}.`,
        )
      : []),
    ...results.flatMap((r) =>
      r.cpu ? Object.entries(r.cpu).map(([side, cores]) => `CPU during ${r.id}, ${side === 'ours' ? 'API' : 'direct'} side: ${renderCores(cores)}.`) : [],
    ),
    ...results.flatMap((r) =>
      r.cpu
        ? Object.entries(r.cpu).map(
            ([side, cores]) =>
              `CPU cost of ${r.id}, ${side === 'ours' ? 'API' : 'direct'} side: ${renderCpuPerOp(cores, side === 'ours' ? r.ours : r.baseline, r.unit.replace(/\/s$/, '').replace(/ies$/, 'y').replace(/s$/, ''), m.cpus)}.`,
          )
        : [],
    ),
  ];
  const table = renderTable(results);
  process.stdout.write(`\n${table}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n\nresults: ${resultsFile}\n`);

  if (args.quick) {
    log('--quick: BENCHMARKS.md left as it is (a smoke run)');
  } else {
    const file = `${ROOT}BENCHMARKS.md`;
    const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    // A partial run (--only) has a section of its own: the full run's figures stay as they were measured.
    const key = args.only.length < BENCH_IDS.length ? args.only.join(',') : undefined;
    writeFileSync(file, replaceSection(doc, renderSection({ results, command, date: started.toISOString(), machine: m, resultsFile, notes, key }), key));
    log('BENCHMARKS.md updated');
  }
  const failedCheck = results.some((r) => r.check && !r.check.ok);
  return failedCheck ? 3 : 0;
}

process.exit(await main());
