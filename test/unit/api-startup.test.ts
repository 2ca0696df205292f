/**
 * The real API entry point (dist/api/main.js) refuses to start on a configuration that would leave
 * the codec open or let one kind of JWT pass for the other: exit code 2 and a message naming the
 * variable, before it listens or connects to anything.
 */
import { describe, expect, it } from '@jest/globals';
import { runNode } from '../helpers/child.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

// API_PORT 0: were it to start after all, it would not take a port another test uses.
const runApi = (env: Record<string, string>) =>
  runNode(['dist/api/main.js'], { env: { PATH: process.env.PATH ?? '', API_PORT: '0', LOG_LEVEL: 'info', ...env } });

describe('dist/api/main.js', () => {
  it.each([
    ['no codec credential at all', {}, /CODEC_AUTH is not set, nor CODEC_ACCESS_TOKEN or CODEC_JWKS_URL/],
    ['CODEC_AUTH=jwt without its JWKS', { CODEC_AUTH: 'jwt' }, /CODEC_JWKS_URL is required when CODEC_AUTH=jwt/],
    [
      'CODEC_AUTH=token without its token',
      { CODEC_AUTH: 'token' },
      /CODEC_ACCESS_TOKEN is required when CODEC_AUTH=token/,
    ],
    [
      'the same audience for user and service JWTs',
      { CODEC_AUTH: 'none', USER_JWT_AUDIENCE: 'matrix-orchestrator' },
      /USER_JWT_AUDIENCE must differ from SERVICE_JWT_AUDIENCE/,
    ],
  ])(
    'exits 2 naming the variable: %s',
    async (_what, env, message) => {
      const { code, output } = await runApi({ ...MINIMAL_ENV, ...env });
      expect({ code, output }).toEqual({ code: 2, output: expect.stringMatching(message) });
      expect(output).not.toMatch(/api listening/);
    },
    30_000,
  );
});
