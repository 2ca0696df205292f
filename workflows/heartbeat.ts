/**
 * Worker liveness for activities that can run long (room passes, re-logins, reconciliation): the
 * worker heartbeats every activity that has run for `EVERY_MS` (worker/heartbeat.ts), and these
 * activities declare `heartbeatTimeout`, so the server retries them elsewhere soon after their
 * worker dies (a SIGKILL, a lost machine) instead of waiting out their start-to-close timeout.
 * Short activities never send a heartbeat. Shared by the workflows and the worker.
 */
export const ACTIVITY_HEARTBEAT_EVERY_MS = 5_000;
export const ACTIVITY_HEARTBEAT_TIMEOUT = '20 seconds';
