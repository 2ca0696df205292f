/**
 * The import's progress on stderr and its summary on stdout. On a terminal the progress is one line
 * redrawn in place (`users 1000/1000 · entities 12/20 · 43 s`); otherwise (a log, a pipe) the same
 * line every few seconds and once at the end; with --json nothing (stdout is the summary's:
 * renderImport in render.ts).
 */

/** Seconds between progress lines when stderr is not a terminal. */
export const PROGRESS_LINE_SECONDS = 5;
const REDRAW_MS = 250;

export interface Progress {
  users(done: number, total: number): void;
  entities(done: number, total: number): void;
  /** Draws the last state and ends the line; stops the timer. */
  stop(): void;
}

export function createProgress(out: NodeJS.WriteStream, mode: 'tty' | 'lines' | 'off'): Progress {
  const started = Date.now();
  const at = { users: [0, 0], entities: [0, 0] };
  const line = (): string =>
    `users ${at.users[0]}/${at.users[1]} · entities ${at.entities[0]}/${at.entities[1]} · ${Math.round((Date.now() - started) / 1000)} s`;
  let last = '';
  const draw = (): void => {
    const text = line();
    if (mode === 'tty') out.write(`\r\x1b[2K${text}`);
    else if (text !== last) out.write(`${text}\n`);
    last = text;
  };
  const timer = mode === 'off' ? null : setInterval(draw, mode === 'tty' ? REDRAW_MS : PROGRESS_LINE_SECONDS * 1000);
  timer?.unref();
  return {
    users: (done, total) => void (at.users = [done, total]),
    entities: (done, total) => void (at.entities = [done, total]),
    stop: () => {
      if (!timer) return;
      clearInterval(timer);
      draw();
      if (mode === 'tty') out.write('\n');
    },
  };
}
