/**
 * `npm start` brings the whole system up on its own stack (here "smoke", ports offset by 20000, so
 * it runs beside the test stack), prints where everything is, and Ctrl-C leaves no process behind.
 */
import { afterAll, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { ROOT, sleep } from '../helpers/env.js';
import { stack } from '../helpers/stack.js';

const SMOKE = { STACK_NAME: 'smoke', STACK_PORT_OFFSET: '20000' };
const api = 'http://127.0.0.1:28080';
const ui = 'http://127.0.0.1:28233';
const synapse = 'http://127.0.0.1:28008';
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await stack(['down'], SMOKE).catch(() => undefined);
});

async function answers(url: string): Promise<number | null> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3000) })).status;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('npm start runs API, Temporal with its UI and Synapse, prints their URLs, and stops cleanly on Ctrl-C', async () => {
  // A clean environment, as in a fresh terminal: nothing of the test stack leaks in.
  const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', ...SMOKE };
  child = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 240_000;
  while (!out.includes('[start] ready')) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
    if (Date.now() > deadline) throw new Error(`npm start not ready:\n${out}`);
    await sleep(500);
  }
  expect(out).toContain(`API           ${api}`);
  expect(out).toContain(`Temporal UI   ${ui}`);
  expect(out).toContain(`Synapse       ${synapse}`);
  expect(await answers(`${api}/healthz`)).toBe(200);
  expect(await answers(ui)).toBe(200);
  expect(await answers(`${synapse}/_matrix/client/versions`)).toBe(200);

  const pids = await Promise.all(['temporal', 'synapse'].map(async (c) => Number(await readFile(`${ROOT}.stack/smoke/${c}.pid`, 'utf8'))));
  const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
  process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C sends: the whole foreground process group
  await exited;
  await sleep(500);
  for (const pid of pids) expect(alive(pid)).toBe(false);
  expect(await answers(`${api}/healthz`)).toBeNull();
  expect(await answers(ui)).toBeNull();
  expect(await answers(`${synapse}/_matrix/client/versions`)).toBeNull();
  const pgUp = await fetch('http://127.0.0.1:25442').then(() => true, (e: { cause?: { code?: string } }) => e.cause?.code !== 'ECONNREFUSED');
  expect(pgUp).toBe(false);
}, 300_000);
