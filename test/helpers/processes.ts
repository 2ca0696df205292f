import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { ROOT, stackEnv } from './env.js';

/** Every process's output is also kept as a file under the stack's logs/ (the secret scan reads them). */
function logFile(script: string, pid: number | undefined): ReturnType<typeof createWriteStream> | null {
  const dir = process.env.STACK_DIR;
  if (!dir) return null;
  mkdirSync(`${dir}/logs`, { recursive: true });
  return createWriteStream(`${dir}/logs/${basename(script, '.js')}-${pid ?? 'x'}.log`);
}

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * Runs one of our entry points (dist/worker/main.js, dist/api/main.js) as a real process with the
 * stack's environment plus overrides, and resolves once its log shows `readyLine`.
 */
export async function startProcess(script: string, env: Record<string, string>, readyLine: RegExp, timeoutMs = 60_000): Promise<RunningProcess> {
  const child = spawn(process.execPath, [script], { cwd: ROOT, env: { ...stackEnv(), LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const file = logFile(script, child.pid);
  if (file) {
    child.stdout!.pipe(file, { end: false });
    child.stderr!.pipe(file, { end: false });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      file?.end();
      resolve(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (readyLine.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready:\n${out}`));
    });
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A worker process on its own task queue. */
export function startWorker(taskQueue: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  return startProcess('dist/worker/main.js', { TEMPORAL_TASK_QUEUE: taskQueue, WORKER_HTTP_PORT: '0', ...env }, /worker running/);
}

/** The URL of a worker process's /metrics, /healthz, /readyz server, from its "worker running" log line. */
export function workerHttpUrl(worker: RunningProcess): string {
  for (const line of worker.output().split('\n')) {
    if (!line.includes('"worker running"')) continue;
    const url = (JSON.parse(line) as { http?: unknown }).http;
    if (typeof url === 'string') return url;
  }
  throw new Error(`no http URL in the worker's "worker running" line:\n${worker.output()}`);
}
