/**
 * The test stack's environment (scripts/test.sh sources .stack/test/stack.env before jest, and
 * .stack/test/appservice.env too for its appservice pass: MATRIX_IDENTITY_MODE=appservice against
 * synapse-as, no admin credentials), plus per-test conveniences: unique tenants and task queues so
 * files can run in any order. Every worker and API a test starts, in process or as a process, takes
 * its configuration from this environment, so the identity mode of the pass reaches them all.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../lib/config.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function stackEnv(): Record<string, string> {
  if (!process.env.DATABASE_URL || !process.env.MATRIX_HOMESERVER_URL) {
    throw new Error('the test stack is not up: run the suite with `npm test` (it sources .stack/test/stack.env)');
  }
  return { ...(process.env as Record<string, string>) };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...stackEnv(), ...overrides });
}

/** A tenant id no other test uses. */
export function uniqueTenant(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${randomBytes(4).toString('hex')}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}
