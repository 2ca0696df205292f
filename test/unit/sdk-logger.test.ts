import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { REDACT_PATHS } from '../../lib/log.js';
import { sdkLogger } from '../../worker/sdk-logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  return { lines, logger: sdkLogger(log) };
}

describe('the Temporal SDK logger', () => {
  it('writes one JSON line per message, with the SDK metadata as fields', () => {
    const { lines, logger } = capture('info');
    logger.info('user provisioned', {
      sdkComponent: 'workflow',
      workflowId: 'user:acme:ada',
      userId: '@om_acme_ada:x',
    });
    logger.log('WARN', 'Activity failed', { activityType: 'ensureMatrixUser', attempt: 2 });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'user provisioned',
        workflowId: 'user:acme:ada',
        sdkComponent: 'workflow',
      }),
      expect.objectContaining({ level: 40, msg: 'Activity failed', activityType: 'ensureMatrixUser', attempt: 2 }),
    ]);
  });

  it('filters by the configured level and redacts secrets', () => {
    const { lines, logger } = capture('warn');
    logger.debug('noise');
    logger.trace('more noise');
    logger.error('login failed', { accessToken: 'syt_secret', workflowId: 'w' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'login failed', accessToken: '[redacted]', workflowId: 'w' });
    expect(JSON.stringify(lines)).not.toContain('syt_secret');
  });
});
