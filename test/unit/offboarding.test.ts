/**
 * Offboarding's pure parts (decision 0056): its settings, and the keyed hash that is the only name
 * the offboarding record has for a user.
 */
import { describe, expect, it } from '@jest/globals';
import { offboardingSubject } from '../../adapters/store/offboardings.js';
import { ConfigError, loadConfig, parseKeys } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

describe('offboarding settings', () => {
  it('default to a 30-day grace period and room removal only for adopted accounts', () => {
    expect(loadConfig(MINIMAL_ENV).offboarding).toEqual({ eraseGraceSeconds: 2_592_000, adoptedAccounts: 'rooms' });
    expect(loadConfig({ ...MINIMAL_ENV, OFFBOARD_ERASE_GRACE_SECONDS: '0', OFFBOARD_ADOPTED_ACCOUNTS: 'full' }).offboarding).toEqual({
      eraseGraceSeconds: 0,
      adoptedAccounts: 'full',
    });
  });

  it('refuse bad values by name', () => {
    expect(() => loadConfig({ ...MINIMAL_ENV, OFFBOARD_ADOPTED_ACCOUNTS: 'all' })).toThrow(/OFFBOARD_ADOPTED_ACCOUNTS.*rooms or full/);
    expect(() => loadConfig({ ...MINIMAL_ENV, OFFBOARD_ERASE_GRACE_SECONDS: '31536001' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...MINIMAL_ENV, OFFBOARD_ERASE_GRACE_SECONDS: '-1' })).toThrow(/OFFBOARD_ERASE_GRACE_SECONDS/);
  });
});

describe('the offboarding subject', () => {
  const [k1, k2] = parseKeys('TOKEN_ENCRYPTION_KEYS', `k1:${Buffer.alloc(32, 1).toString('base64')},k2:${Buffer.alloc(32, 2).toString('base64')}`);
  const id = '@om_acme_alice:example.org';

  it('is the same for the same tenant and account under one key, and names neither', () => {
    const s = offboardingSubject(k1!, 'acme', id);
    expect(s).toMatch(/^[0-9a-f]{64}$/);
    expect(offboardingSubject(k1!, 'acme', id)).toBe(s);
    expect(s).not.toContain('alice');
  });

  it('differs per account, per tenant and per key (a guessed id cannot be checked without the key)', () => {
    const s = offboardingSubject(k1!, 'acme', id);
    expect(offboardingSubject(k1!, 'acme', '@om_acme_bob:example.org')).not.toBe(s);
    expect(offboardingSubject(k1!, 'other', id)).not.toBe(s);
    expect(offboardingSubject(k2!, 'acme', id)).not.toBe(s);
  });
});
