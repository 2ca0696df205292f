import { describe, expect, it } from '@jest/globals';
import { Hono } from 'hono';
import pg from 'pg';
import { isDatabaseTimeout, isDatabaseUnavailable } from '../../adapters/store/db-errors.js';
import { toErrorResponse } from '../../api/errors.js';
import { socketError as frameError } from '../../api/relay/client-frames.js';

const sqlError = (code: string): pg.DatabaseError =>
  Object.assign(new pg.DatabaseError('server said no', 0, 'error'), { code });
const socketError = (code: string): Error =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect' });

describe('isDatabaseUnavailable / isDatabaseTimeout', () => {
  it.each([
    ['statement_timeout (57014)', sqlError('57014'), true],
    ['lock_timeout (55P03)', sqlError('55P03'), true],
    ['pg query_timeout', new Error('Query read timeout'), true],
    ['pool checkout timeout', new Error('timeout exceeded when trying to connect'), true],
    ['pool connect timeout', new Error('Connection terminated due to connection timeout'), true],
    ['client connect timeout', new Error('timeout expired'), true],
    ['idle-in-transaction timeout (25P03)', sqlError('25P03'), false],
    ['server shutting down (57P01)', sqlError('57P01'), false],
    ['connection failure (08006)', sqlError('08006'), false],
    ['too many connections (53300)', sqlError('53300'), false],
    ['connection lost', new Error('Connection terminated unexpectedly'), false],
    ['refused', socketError('ECONNREFUSED'), false],
    ['wrapped refusal', new Error('could not connect', { cause: socketError('ECONNREFUSED') }), false],
  ])('%s: unavailable; a timeout: %s', (_what, err, timeout) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(isDatabaseTimeout(err)).toBe(timeout);
  });

  it.each([
    ['unique violation (23505)', sqlError('23505')],
    ['syntax error (42601)', sqlError('42601')],
    ['a message merely containing a pg phrase', new Error('upstream: Query read timeout')],
    ['a socket code without a syscall (not from a socket)', Object.assign(new Error('x'), { code: 'ECONNRESET' })],
    ['a plain error', new Error('boom')],
    ['not an error', 'Query read timeout'],
  ])('%s: neither', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(isDatabaseTimeout(err)).toBe(false);
  });
});

describe('toErrorResponse', () => {
  const answer = async (err: unknown) => {
    const app = new Hono()
      .get('/', () => {
        throw err;
      })
      .onError((e, c) => toErrorResponse(c, e, () => undefined));
    const res = await app.request('/');
    return { status: res.status, body: await res.json() };
  };

  it('answers a database that did not answer in time, or cannot be reached, with 503 OM_UNAVAILABLE naming it', async () => {
    for (const err of [new Error('Query read timeout'), sqlError('57014'), socketError('ECONNREFUSED')]) {
      expect(await answer(err)).toEqual({
        status: 503,
        body: { errcode: 'OM_UNAVAILABLE', error: expect.stringMatching(/^the database /) },
      });
    }
  });

  it('still answers a query the server refused with 500 M_UNKNOWN, without internals', async () => {
    expect(await answer(sqlError('23505'))).toEqual({
      status: 500,
      body: { errcode: 'M_UNKNOWN', error: 'internal error' },
    });
  });
});

describe('socketError', () => {
  const logger = { error: () => undefined } as unknown as Parameters<typeof frameError>[1];

  it('tells a socket what HTTP would say: a database that did not answer is OM_UNAVAILABLE, not an internal error', () => {
    expect(frameError(new Error('Query read timeout'), logger)).toEqual({
      errcode: 'OM_UNAVAILABLE',
      error: expect.stringMatching(/^the database /),
    });
    expect(frameError(sqlError('23505'), logger)).toEqual({ errcode: 'M_UNKNOWN', error: 'internal error' });
  });
});
