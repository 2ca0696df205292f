/**
 * Runs `work` every `everyMs` until stopped, each run timed from the end of the last (never two at
 * once); a failed run is reported to `failed` and the next one comes anyway. `stop` waits for the
 * run under way. The worker's sweepers (outbox, webhooks) are this loop around their own sweep.
 */
export function periodic(
  everyMs: number,
  work: () => Promise<unknown>,
  failed: (err: unknown) => void,
): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = (): void => {
    running = work()
      .catch(failed)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  timer = setTimeout(tick, everyMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
