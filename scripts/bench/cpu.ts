/** CPU seconds per component of the stack, read from /proc: where the time of a timed side goes. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { coresUsed, parseProcStat } from './stats.js';
import type { Track } from './provisioning.js';

const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Busy CPU seconds of the whole machine (every process, ours or not), from /proc/stat. */
function machineSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / TICKS;
}

/** CPU seconds per named root process, each counting its descendants (the nearest named ancestor wins). */
function snapshot(roots: () => Record<string, number | undefined>): Record<string, number> {
  const byPid = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (s) byPid.set(Number(name), s);
    } catch {
      // gone meanwhile
    }
  }
  const rootOf = new Map<number, string>();
  for (const [k, pid] of Object.entries(roots())) if (pid) rootOf.set(pid, k);
  const out: Record<string, number> = Object.fromEntries([...rootOf.values()].map((k) => [k, 0]));
  for (const [pid, s] of byPid) {
    let p: number | undefined = pid;
    for (let hops = 0; p && hops < 64; hops++) {
      const k = rootOf.get(p);
      if (k) {
        out[k] = (out[k] ?? 0) + s.ticks / TICKS;
        break;
      }
      p = byPid.get(p)?.ppid;
    }
  }
  return out;
}

/** A Track that reports, per component and for the rest of the machine, the cores used while `fn` ran. */
export function cpuTracker(roots: () => Record<string, number | undefined>): Track {
  return async (fn) => {
    const before = snapshot(roots);
    const machineBefore = machineSeconds();
    const started = performance.now();
    const value = await fn();
    const wall = (performance.now() - started) / 1000;
    const after = snapshot(roots);
    const machine = machineSeconds() - machineBefore;
    const cores = coresUsed(before, after, wall);
    const ours = Object.values(cores).reduce((s, v) => s + v, 0);
    cores['rest of machine'] = Math.max(0, machine / wall - ours);
    return { value, cores };
  };
}
