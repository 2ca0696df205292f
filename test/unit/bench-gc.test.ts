/**
 * Memory readings after a full GC (scripts/bench/gc.ts): the inspector URL is found in a process's
 * output, and a collection through it really runs — a Node child that has just dropped ~50 MB shrinks its heap.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { inspectorGc, inspectorUrl } from '../../scripts/bench/gc.js';

describe('bench: reading memory after a full GC', () => {
  it('finds the inspector URL in what the process printed, and nothing where there is none', () => {
    const out = 'Debugger listening on ws://127.0.0.1:40719/5b1f8a4e-6f2c-4d43-9f0a-1f2e3d4c5b6a\nFor help, see: …\n';
    expect(inspectorUrl(out)).toBe('ws://127.0.0.1:40719/5b1f8a4e-6f2c-4d43-9f0a-1f2e3d4c5b6a');
    expect(inspectorUrl('api listening')).toBeNull();
    expect(inspectorUrl('Debugger listening on ws://0.0.0.0:9229/x')).toBeNull();
  });

  it('collects the garbage of a live process through its inspector', async () => {
    // The child holds ~50 MB until told to drop it; it reports heapUsed on every line it is sent.
    // Kept reachable until then, the garbage cannot be collected by V8 on its own before `before`.
    const script = `
      let junk = []; for (let i = 0; i < 200000; i++) junk.push({ i, s: 'x'.repeat(200) + i });
      process.stdin.on('data', (d) => {
        if (String(d).startsWith('drop')) junk = null;
        process.stdout.write(process.memoryUsage().heapUsed + '\\n');
      });`;
    const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      let err = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no inspector URL: ${err}`)), 15_000);
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const u = inspectorUrl(err);
          if (u) {
            clearTimeout(timer);
            resolve(u);
          }
        });
      });
      const heapUsed = (line: string): Promise<number> =>
        new Promise((resolve) => {
          child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
          child.stdin.write(`${line}\n`);
        });
      const before = await heapUsed('drop');
      await inspectorGc(url);
      const after = await heapUsed('?');
      expect(before).toBeGreaterThan(20_000_000);
      expect(after).toBeLessThan(before / 4);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});
