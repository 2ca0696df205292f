import { describe, expect, it } from '@jest/globals';
import { bindingProblem, canActAs, type IdentityScope } from '../../vocabulary/identity.js';
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

describe('bindingProblem: which accounts a platform user may be bound to (adoption)', () => {
  const own = { botUserId: '@openmeet-bot:example.org', adminUserId: '@admin:example.org' };
  const derived = '@om_acme_alice:example.org';
  it.each([
    ['@alice:example.org', null],
    ['@alice:elsewhere.example', null],
    ['@Old.Name=1:example.org', null],
    ['@a:[::1]:8448', null],
    ['@a:192.168.0.1:8008', null],
    // This user's own derived id is no adoption, but not refused either.
    [derived, null],
    ['alice', /must be a Matrix user id/],
    ['@alice', /must be a Matrix user id/],
    ['@al ice:example.org', /must be a Matrix user id/],
    ['@:example.org', /must be a Matrix user id/],
    ['@a:exa mple.org', /must be a Matrix user id/],
    [`@${'a'.repeat(250)}:example.org`, /at most 255 bytes/],
    ['@openmeet-bot:example.org', /the service's own accounts/],
    ['@admin:example.org', /the service's own accounts/],
    ['@om_acme_bob:example.org', /service's own namespace \(@om_…:example\.org\)/],
    ['@om_other_alice:example.org', /service's own namespace/],
    // The namespace is this server's: the same localpart elsewhere is someone else's account.
    ['@om_acme_bob:elsewhere.example', null],
  ])('%s → %s', (userId, problem) => {
    const p = bindingProblem(admin, own, userId, derived);
    if (problem === null) expect(p).toBeNull();
    else expect(p).toMatch(problem);
  });

  it('refuses the same ids in appservice mode (the namespace does not depend on the mode)', () => {
    expect(bindingProblem(appservice, own, '@om_acme_bob:example.org', derived)).toMatch(/own namespace/);
    expect(bindingProblem(appservice, own, '@alice:example.org', derived)).toBeNull();
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
