/**
 * The fan-out benchmark's sockets, in a process of their own (forked by fanout.ts) so their CPU is
 * not the API's nor the sender's. Minimal per frame: the arrival time is taken first, then a
 * substring search for the message marker — no JSON parsing. Driven over IPC:
 *   → {type: 'connect', url, tokens, concurrency}   ← {type: 'connected', sockets, failed, ms}
 *   → {type: 'expect', tag}                         ← {type: 'expecting'} (counts `<tag>-<i>` from now on)
 *   → {type: 'report'}                              ← {type: 'report', arrivals, duplicates, lost, cpuUs}
 *   → {type: 'close'}                               ← {type: 'closed'}
 */
import { WebSocket } from 'ws';
import { ArrivalBook, markerIndex, wallMs, type Arrival } from './relay-stats.js';

type Command =
  | { type: 'connect'; url: string; tokens: string[]; concurrency: number }
  | { type: 'expect'; tag: string }
  | { type: 'report' }
  | { type: 'close' };

const sockets: WebSocket[] = [];
/** Sockets the server closed after they went live (a slow consumer is cut off with 4408). */
const lost: number[] = [];
let tag = '';
let book = new ArrivalBook(0);
/** Client CPU (µs) between the first and the last arrival of each message. */
const cpuAtFirst: number[] = [];
const cpuUs: number[] = [];
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function onFrame(s: number, data: Buffer): void {
  const at = wallMs();
  if (!tag) return;
  // Event frames only; `hello`, `live` and answers are ignored cheaply.
  const i = markerIndex(data.toString('latin1'), tag);
  if (i < 0) return;
  if (book.arrivals[i] === undefined) cpuAtFirst[i] = cpuNow();
  if (book.record(i, s, at)) cpuUs[i] = cpuNow() - cpuAtFirst[i]!;
}

function open(url: string, token: string, s: number): Promise<void> {
  const ws = new WebSocket(url, ['om-relay.v1'], {
    headers: { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
    skipUTF8Validation: true,
  });
  sockets[s] = ws;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket ${s} not live after 120 s`)), 120_000);
    let live = false;
    ws.on('message', (data: Buffer) => {
      if (!live && data.includes('"type":"live"')) {
        live = true;
        clearTimeout(timer);
        resolve();
        return;
      }
      onFrame(s, data);
    });
    ws.once('error', (err) => reject(err));
    ws.once('close', (code) => {
      if (live) lost.push(code);
      reject(new Error(`socket ${s} closed: ${code}`));
    });
  });
}

async function connect(c: Extract<Command, { type: 'connect' }>): Promise<void> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstError = '';
  const lane = async (): Promise<void> => {
    for (let s = next++; s < c.tokens.length; s = next++) {
      await open(c.url, c.tokens[s]!, s).catch((err: unknown) => {
        failed++;
        firstError ||= String(err);
      });
    }
  };
  await Promise.all(Array.from({ length: c.concurrency }, lane));
  book = new ArrivalBook(c.tokens.length);
  process.send!({
    type: 'connected',
    sockets: c.tokens.length - failed,
    failed,
    firstError,
    ms: performance.now() - started,
  });
}

process.on('message', (c: Command) => {
  if (c.type === 'connect') void connect(c);
  else if (c.type === 'expect') {
    tag = c.tag;
    book = new ArrivalBook(sockets.length);
    cpuAtFirst.length = 0;
    cpuUs.length = 0;
    process.send!({ type: 'expecting' });
  } else if (c.type === 'report') {
    const arrivals: (Arrival | null)[] = Array.from(book.arrivals, (a) => a ?? null);
    process.send!({
      type: 'report',
      arrivals,
      duplicates: book.duplicates,
      lost,
      cpuUs: Array.from(cpuUs, (u) => u ?? null),
    });
  } else {
    for (const ws of sockets) ws.terminate();
    process.send!({ type: 'closed' }, () => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
