/**
 * Runs the functions handed to it one at a time, in the order they were handed over, whatever
 * each of them ends in: a failure is its caller's and never stops the ones queued behind it.
 */
export type OneAtATime = <T>(fn: () => Promise<T>) => Promise<T>;

export function oneAtATime(): OneAtATime {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** No queue: each function runs as soon as it is handed over. */
export const rightAway: OneAtATime = (fn) => fn();
