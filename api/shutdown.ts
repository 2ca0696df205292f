import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export type CloseOutcome = 'drained' | 'forced';

export interface GracefulServer {
  /**
   * Stops accepting connections, lets in-flight requests finish (their responses carry
   * `Connection: close` so clients do not reuse the socket), closes idle keep-alive sockets, and
   * resolves once every connection is gone — or, after `graceMs`, cuts the rest and says so.
   */
  close(graceMs: number): Promise<CloseOutcome>;
}

/** Tracks a Node HTTP server's in-flight responses so it can shut down without resetting any. */
export function gracefulServer(server: Server): GracefulServer {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const keepAliveOff = (res: ServerResponse): void => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  // Before the app's own listener, so the header is set before any response can be written.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing) keepAliveOff(res);
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });

  return {
    close: (graceMs) =>
      new Promise<CloseOutcome>((resolve) => {
        closing = true;
        inFlight.forEach(keepAliveOff);
        let outcome: CloseOutcome = 'drained';
        const timer = setTimeout(() => {
          outcome = 'forced';
          server.closeAllConnections();
        }, graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve(outcome);
        });
        // close() waits for every socket; idle keep-alive ones would otherwise sit until they time out.
        server.closeIdleConnections();
      }),
  };
}
