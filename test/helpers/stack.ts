import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ROOT } from './env.js';

const run = promisify(execFile);

/** Runs scripts/stack.sh for a stack (the test stack unless `env` names another). */
export async function stack(args: string[], env: Record<string, string> = {}): Promise<void> {
  await run('bash', ['scripts/stack.sh', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 180_000 });
}

/** The `export NAME='value'` lines of a stack's stack.env as an object. */
export async function readStackEnv(name: string): Promise<Record<string, string>> {
  const text = await readFile(`${ROOT}.stack/${name}/stack.env`, 'utf8');
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)='([^']*)'$/gm)) env[m[1]!] = m[2]!;
  return env;
}
