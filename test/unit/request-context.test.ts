/**
 * The last lines behind every handler (api/request-context.ts): a socket frame whose handling throws
 * becomes that socket's M_UNKNOWN error frame, logged with the frame's request id; the process guard
 * logs bounded errors with the request id they escaped from, and counts them.
 */
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';
import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  boundedError,
  currentRequestId,
  escapedErrorCount,
  recordEscapedError,
  requestContext,
  runFrame,
} from '../../api/request-context.js';
import { createFrameHandler } from '../../api/relay/client-frames.js';
import type { RelayActions } from '../../api/relay/actions.js';
import { createHttpMetrics } from '../../api/metrics.js';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('runFrame (the hub runs each socket frame through it)', () => {
  it('turns anything the handling throws into an M_UNKNOWN error frame without internals, logged with its request id', async () => {
    const { logger, lines } = capturingLogger();
    const sent: string[] = [];
    let seen: string | undefined;
    expect(() =>
      runFrame(
        logger,
        (t) => sent.push(t),
        () => {
          seen = currentRequestId();
          JSON.stringify(JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)));
        },
      ),
    ).not.toThrow();
    await flush();
    expect(seen).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent).toHaveLength(1);
    const frame = JSON.parse(sent[0]!) as Record<string, unknown>;
    expect(frame).toEqual({ v: 1, type: 'error', errcode: 'M_UNKNOWN', error: `internal error (request ${seen})` });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ requestId: seen, error: { type: 'RangeError' } });
  });

  it('does not throw even when the reply itself fails (the socket is gone)', () => {
    const { logger } = capturingLogger();
    expect(() =>
      runFrame(
        logger,
        () => {
          throw new Error('socket closed');
        },
        () => {
          throw new Error('boom');
        },
      ),
    ).not.toThrow();
  });

  it("answers the issue's 6,000-level ping through the real frame handler with an error frame naming the bound", () => {
    const { logger } = capturingLogger();
    const sent: string[] = [];
    const handler = createFrameHandler({
      user: {
        tenant: 'acme',
        userSlug: 'alice',
        userId: '@om_acme_alice:hs',
        canActAs: true,
        expiresAt: Date.now() / 1000 + 60,
      },
      limits: loadConfig(MINIMAL_ENV).relay,
      actions: {} as RelayActions,
      logger,
      send: (t) => sent.push(t),
      joinedNow: () => false,
      closed: new AbortController().signal,
    });
    runFrame(
      logger,
      (t) => sent.push(t),
      () => handler(`{"type":"ping","v":${'['.repeat(6_000)}${']'.repeat(6_000)}}`),
    );
    expect(sent.map((t) => JSON.parse(t) as unknown)).toEqual([
      { v: 1, type: 'error', errcode: 'M_BAD_JSON', error: 'frame is nested deeper than 16 levels' },
    ]);
  });
});

describe('the process guard', () => {
  it('logs an escaped error bounded, with the request id it escaped from, and counts it on /metrics', async () => {
    const { logger, lines } = capturingLogger();
    const metrics = createHttpMetrics();
    const before = escapedErrorCount();
    await requestContext.run({ requestId: 'req-42' }, async () => {
      await Promise.resolve();
      recordEscapedError(logger, 'unhandledRejection', new Error(`bad value ${'x'.repeat(100_000)}`));
    });
    await flush();
    expect(escapedErrorCount()).toBe(before + 1);
    expect(lines[0]).toMatchObject({ requestId: 'req-42', kind: 'unhandledRejection', error: { type: 'Error' } });
    expect(JSON.stringify(lines[0]).length).toBeLessThan(6_000);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`^api_escaped_errors_total ${before + 1}$`, 'm'));
  });

  it('describes any thrown value without walking it', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(boundedError(cyclic)).toEqual({ type: 'object', message: 'a thrown object' });
    expect(boundedError('y'.repeat(1_000)).message.length).toBeLessThan(600);
    expect(boundedError(new RangeError('Maximum call stack size exceeded'))).toMatchObject({
      type: 'RangeError',
      message: 'Maximum call stack size exceeded',
    });
  });
});
