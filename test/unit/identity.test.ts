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

describe('what each identity mode needs at start', () => {
  const { MATRIX_ADMIN_PASSWORD: _password, ...withoutAdmin } = MINIMAL_ENV;

  it('admin mode (the default) refuses to start without MATRIX_ADMIN_PASSWORD, naming the mode and the way out', () => {
    for (const env of [withoutAdmin, { ...withoutAdmin, MATRIX_IDENTITY_MODE: 'admin' }]) {
      expect(() => loadConfig(env)).toThrow(
        /MATRIX_ADMIN_PASSWORD is required but not set: MATRIX_IDENTITY_MODE=admin .*Admin API.*MATRIX_IDENTITY_MODE=appservice/,
      );
    }
  });

  it('appservice mode needs no admin credentials at all', () => {
    const c = loadConfig({ ...withoutAdmin, MATRIX_IDENTITY_MODE: 'appservice' });
    expect(c.matrix.adminPassword).toBeNull();
    expect(c.matrix.asToken).toBe('as');
  });

  it('appservice mode refuses ROOM_PURGE_ON_ARCHIVE, which only the Admin API can do', () => {
    expect(() =>
      loadConfig({ ...withoutAdmin, MATRIX_IDENTITY_MODE: 'appservice', ROOM_PURGE_ON_ARCHIVE: 'true' }),
    ).toThrow(/ROOM_PURGE_ON_ARCHIVE needs the Synapse Admin API, which MATRIX_IDENTITY_MODE=appservice does not use/);
    expect(loadConfig({ ...MINIMAL_ENV, ROOM_PURGE_ON_ARCHIVE: 'true' }).rooms.purgeOnArchive).toBe(true);
  });

  it('still requires the appservice token in either mode', () => {
    const { MATRIX_AS_TOKEN: _as, ...noAsToken } = withoutAdmin;
    expect(() => loadConfig({ ...noAsToken, MATRIX_IDENTITY_MODE: 'appservice' })).toThrow(
      /MATRIX_AS_TOKEN is required/,
    );
  });
});
