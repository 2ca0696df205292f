import { Hono } from 'hono';
import type { ApiEnv } from '../context.js';

/** `GET /healthz`: the process is alive and serving. */
export function healthRoutes() {
  return new Hono<ApiEnv>().get('/healthz', (c) => c.json({ status: 'ok' }));
}
