/** Resolves with the promise's value if it settles within `ms`, else `{ done: false }`; rejections pass through. */
export async function waitAtMost<T>(p: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([p.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `waitAtMost` for a Temporal call (a workflow's or an update's result): when the time is up the
 * call is cancelled, not left long-polling the server for an answer nobody will read — one per
 * 202 otherwise, and retried by the client's interceptor after its connection is closed.
 */
export async function waitForResult<T>(
  temporal: { withAbortSignal<R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R> },
  result: () => Promise<T>,
  ms: number,
): Promise<{ done: true; value: T } | { done: false }> {
  const abort = new AbortController();
  const outcome = await waitAtMost(temporal.withAbortSignal(abort.signal, result), ms);
  if (!outcome.done) abort.abort();
  return outcome;
}
