/**
 * A TCP proxy (node:net) between the worker and Synapse that misbehaves the way networks do. For
 * every chunk a client sends (roughly: every HTTP request, keep-alive connections included), a
 * seeded coin decides: pass it on, after the connection's latency; reset the connection before it
 * arrives; pass it on but cut the connection as the answer comes back (the homeserver did it, the
 * worker never hears so); or black-hole the connection (swallow everything, cut it seconds later).
 * It starts calm; `storm()` starts the faults, `calm()` stops them, `outage()` black-holes every new
 * chunk for a while.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface ChaosOptions {
  random: () => number;
  resetChance: number;
  dropAnswerChance: number;
  blackholeChance: number;
  maxLatencyMs: number;
}

export interface ChaosProxy {
  url: string;
  stats: { connections: number; chunks: number; resets: number; droppedAnswers: number; blackholes: number };
  storm: () => void;
  outage: (ms: number) => void;
  calm: () => void;
  close: () => Promise<void>;
}

export async function startChaosProxy(target: URL, opts: ChaosOptions): Promise<ChaosProxy> {
  const stats = { connections: 0, chunks: 0, resets: 0, droppedAnswers: 0, blackholes: 0 };
  const sockets = new Set<Socket>();
  let calm = true;
  let outageUntil = 0;

  const server = createServer((client) => {
    stats.connections++;
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(client).add(upstream);
    const latency = calm ? 0 : Math.floor(opts.random() * opts.maxLatencyMs);
    let dropNextAnswer = false;
    let holed = false;
    const cut = (): void => {
      client.resetAndDestroy();
      upstream.destroy();
    };
    const blackhole = (): void => {
      holed = true;
      stats.blackholes++;
      setTimeout(cut, 2000 + Math.floor(opts.random() * 4000)).unref();
    };
    client.on('data', (chunk) => {
      if (holed) return;
      stats.chunks++;
      if (!calm) {
        if (Date.now() < outageUntil) return blackhole();
        const r = opts.random();
        if (r < opts.blackholeChance) return blackhole();
        if (r < opts.blackholeChance + opts.resetChance) {
          stats.resets++;
          return cut();
        }
        if (r < opts.blackholeChance + opts.resetChance + opts.dropAnswerChance) dropNextAnswer = true;
      }
      // Same delay for every chunk of a connection: timers of equal length fire in order.
      setTimeout(() => upstream.write(chunk), latency);
    });
    upstream.on('data', (chunk) => {
      if (holed) return;
      if (dropNextAnswer && !calm) {
        stats.droppedAnswers++;
        return cut();
      }
      setTimeout(() => client.write(chunk), latency);
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('end', () => setTimeout(() => b.end(), latency));
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        setTimeout(() => b.destroy(), latency);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    storm: () => {
      calm = false;
    },
    outage: (ms) => {
      outageUntil = Date.now() + ms;
    },
    calm: () => {
      calm = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
