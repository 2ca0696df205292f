/**
 * Memory readings after a full garbage collection: what a process retains, not how much garbage it
 * happened to have when read. The API is started with its inspector on a loopback port (the bench
 * only); `HeapProfiler.collectGarbage` through it is V8's full, compacting collection. The
 * first-generation backend (a child of the bench) runs with `--expose-gc` and collects on request.
 */
import { WebSocket } from 'ws';

/** The inspector's WebSocket URL from a process's output (`Debugger listening on ws://…`). */
export function inspectorUrl(output: string): string | null {
  return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(output)?.[1] ?? null;
}

/** A full GC in the process behind `url`, through the Chrome DevTools protocol. */
export async function inspectorGc(url: string, timeoutMs = 30_000): Promise<void> {
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from the inspector at ${url}`)), timeoutMs);
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { id?: number; error?: { message: string } };
        if (m.id !== 1) return;
        clearTimeout(timer);
        if (m.error) reject(new Error(`HeapProfiler.collectGarbage: ${m.error.message}`));
        else resolve();
      });
    });
  } finally {
    ws.close();
  }
}
