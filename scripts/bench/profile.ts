/**
 * Where a process's CPU went, from a V8 CPU profile (`node --cpu-prof`): self time of every
 * sampled frame, grouped by what the frame belongs to — the Temporal SDK, our own compiled code,
 * the HTTP and PostgreSQL clients, logging, start-up. Used by `npm run bench -- --profile` to show
 * whether a benchmark's cost lies in our code or in what it runs on.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
}
export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

/** First match wins; tested against `functionName url`. */
const CATEGORIES: readonly (readonly [string, RegExp])[] = [
  ['idle', /^\(idle\) /],
  ['garbage collection', /^\(garbage collector\) /],
  [
    'start-up (module loading, workflow bundling)',
    /webpack|swc|memfs|node:internal\/modules|cjs-module-lexer|compileForInternalLoader|^Script node:vm|^(wrapSafe|compileFunction|internalModuleStat|readFileUtf8) /,
  ],
  [
    'Temporal SDK: workflow sandbox',
    /^(runInContext|__TEMPORAL_CALL_INTO_SCOPE) |evalmachine|workflow-bundle-|@temporalio\/worker\/lib\/workflow\/|source-map/,
  ],
  [
    'Temporal SDK: worker, core bridge, protobuf',
    /@temporalio\/|protobufjs|\/long\/|rxjs|^postMessage |^RegExp: .*(activity|interceptors)\\\.\[jt\]s/,
  ],
  ['async context tracking (AsyncLocalStorage, promise hooks)', /async_hooks|promise_hooks|async_local_storage/],
  ['HTTP client (undici)', /undici/],
  ['PostgreSQL client', /node_modules\/pg(-[a-z]+)?\//],
  ['logging (pino)', /pino|sonic-boom/],
  // A socket write's syscall, whoever writes: on loopback it carries the receiver's TCP work too.
  // Which client wrote is in the callers (PostgreSQL queries and HTTP requests, mostly), not here.
  ['socket writes (PostgreSQL, HTTP, gRPC; syscalls)', /^(writev|writeUtf8String|writeLatin1String|writeBuffer) /],
  ['crypto', /node:internal\/crypto|^(createCipherBase|randomFillSync|pbkdf2|update|final) /],
  ['our code', /\/dist\/(activities|api|lib|worker|workflows)\//],
];

/** Milliseconds of self time per category (idle left out), largest first. */
export function summarizeProfile(profile: CpuProfile): Record<string, number> {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const micros = new Map<number, number>();
  profile.samples.forEach((id, i) => micros.set(id, (micros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totals: Record<string, number> = {};
  for (const [id, us] of micros) {
    const f = frames.get(id);
    const key = f ? `${f.functionName || '(anonymous)'} ${f.url}` : '';
    const category = CATEGORIES.find(([, re]) => re.test(key))?.[0] ?? 'other (Node.js internals, program)';
    if (category === 'idle') continue;
    totals[category] = (totals[category] ?? 0) + us / 1000;
  }
  return Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]));
}

/** Sums the summaries of every `.cpuprofile` in `dir` (a process with worker threads writes one per thread). */
export function summarizeProfiles(dir: string, pid: number): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile') && n.includes(`.${pid}.`))) {
    for (const [k, v] of Object.entries(
      summarizeProfile(JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as CpuProfile),
    )) {
      totals[k] = (totals[k] ?? 0) + v;
    }
  }
  return Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]));
}

/** `Temporal SDK: workflow sandbox 41% (4.1 s), …` of the busy time. */
export function renderProfile(summary: Record<string, number>): string {
  const busy = Object.values(summary).reduce((s, v) => s + v, 0);
  if (busy <= 0) return 'no samples';
  const parts = Object.entries(summary).map(
    ([k, ms]) => `${k} ${Math.round((100 * ms) / busy)}% (${(ms / 1000).toFixed(1)} s)`,
  );
  return `${parts.join(', ')}; busy ${(busy / 1000).toFixed(1)} s in all`;
}
