/**
 * The benchmark's own stack (`bench`, ports offset by 50000) and the real processes on it: a
 * worker and an API, each a separate `node` process as in production.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inspectorUrl } from './gc.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** `BENCH_STACK_NAME` / `BENCH_PORT_OFFSET` let two benchmark runs (or a run beside a kept stack) coexist. */
export const BENCH_STACK = {
  STACK_NAME: process.env.BENCH_STACK_NAME ?? 'bench',
  STACK_PORT_OFFSET: process.env.BENCH_PORT_OFFSET ?? '50000',
  // Synapse's own request counters (/_synapse/metrics): the sync-clients benchmark reads them.
  SYNAPSE_METRICS: 'on',
} as const;

const run = promisify(execFile);

export async function stack(args: string[]): Promise<void> {
  await run('bash', ['scripts/stack.sh', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...BENCH_STACK },
    timeout: 600_000,
  });
}

/** The `export NAME='value'` lines of .stack/bench/stack.env. */
export async function readStackEnv(): Promise<Record<string, string>> {
  const text = await readFile(`${ROOT}.stack/${BENCH_STACK.STACK_NAME}/stack.env`, 'utf8');
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)='([^']*)'$/gm)) env[m[1]!] = m[2]!;
  return env;
}

export interface Proc {
  child: ChildProcess;
  stop: () => Promise<void>;
  /** Its inspector's WebSocket URL, when started with `--inspect=127.0.0.1:0` (scripts/bench/gc.ts). */
  inspector: string | null;
}

/** Starts one of our entry points with `env` and resolves once its log shows `ready`; logs go to .stack/bench/logs/. */
export async function startProcess(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  name: string,
  nodeArgs: string[] = [],
): Promise<Proc> {
  const dir = `${ROOT}.stack/${BENCH_STACK.STACK_NAME}/logs`;
  mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [...nodeArgs, script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(`${dir}/${name}-${child.pid ?? 'x'}.log`);
  child.stdout!.pipe(file, { end: false });
  child.stderr!.pipe(file, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after 90 s:\n${out.slice(-4000)}`)), 90_000);
    const onData = (d: Buffer): void => {
      if (out.length < 100_000) out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready:\n${out.slice(-4000)}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    child,
    inspector: inspectorUrl(out),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      file.end();
    },
  };
}
