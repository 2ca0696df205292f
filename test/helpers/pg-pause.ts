/**
 * Pauses the stack's PostgreSQL with SIGSTOP: the postmaster first (so it forks nothing new), then
 * every child (backends, checkpointer, walwriter...). Connections stay open and nothing answers,
 * as with a stalled disk, a frozen VM or a partition. Always `resume()` in a finally/afterAll.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type pg from 'pg';

export interface PausedPostgres {
  /** The processes stopped, postmaster first. */
  readonly pids: readonly number[];
  /** SIGCONT to every one of them; safe to call more than once. */
  resume(): void;
}

const signal = (pids: readonly number[], sig: NodeJS.Signals): void =>
  pids.forEach((pid) => {
    try {
      process.kill(pid, sig);
    } catch {
      // A process that ended meanwhile.
    }
  });

/** The kernel's state letter of a process ('T': stopped). */
export async function processState(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Finds the server behind `db` (a superuser connection: `SHOW data_directory`) and stops it. */
export async function pausePostgres(db: pg.Pool): Promise<PausedPostgres> {
  const dir = (await db.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
  const postmaster = Number((await readFile(`${dir}/postmaster.pid`, 'utf8')).split('\n')[0]);
  const { stdout } = await promisify(execFile)('pgrep', ['-P', String(postmaster)]);
  const pids = [postmaster, ...stdout.split('\n').filter(Boolean).map(Number)];
  if (pids.length < 2) throw new Error(`postmaster ${postmaster} has no children: not the server we expected`);
  signal(pids, 'SIGSTOP');
  return { pids, resume: () => signal([...pids].reverse(), 'SIGCONT') };
}
