import { describe, expect, it } from '@jest/globals';
import { canActAs, type IdentityScope } from '../../vocabulary/identity.js';
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

const admin: IdentityScope = { mode: 'admin', serverName: 'example.org', userPrefix: 'om' };
const appservice: IdentityScope = { ...admin, mode: 'appservice' };

describe('canActAs', () => {
  it.each([
    ['@om_t1_alice:example.org', true, true],
    ['@alice:example.org', true, false],
    ['@omx_alice:example.org', true, false],
    ['@om_t1_alice:other.org', false, false],
    ['@alice:example.org.evil', false, false],
    ['alice:example.org', false, false],
    ['@:example.org', false, false],
  ])('%s: admin mode %s, appservice mode %s', (userId, inAdmin, inAppservice) => {
    expect(canActAs(admin, userId)).toBe(inAdmin);
    expect(canActAs(appservice, userId)).toBe(inAppservice);
  });
});

describe('MATRIX_IDENTITY_MODE', () => {
  it('defaults to admin, accepts appservice, and names the variable and the words for anything else', () => {
    expect(loadConfig({ ...MINIMAL_ENV }).matrix.identityMode).toBe('admin');
    expect(loadConfig({ ...MINIMAL_ENV, MATRIX_IDENTITY_MODE: 'appservice' }).matrix.identityMode).toBe('appservice');
    expect(() => loadConfig({ ...MINIMAL_ENV, MATRIX_IDENTITY_MODE: 'oidc' })).toThrow(
      /MATRIX_IDENTITY_MODE.*must be one of admin, appservice, got "oidc"/,
    );
  });
});
