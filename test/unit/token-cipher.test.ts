import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { TokenCipher, UndecryptableTokenError } from '../../lib/token-cipher.js';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

describe('TokenCipher (AES-256-GCM)', () => {
  it('round-trips a token and never stores it in plaintext', () => {
    const c = new TokenCipher([k1], 'k1');
    const token = 'syt_b21fYWNtZV9hbGljZQ_secretsecret_0abc';
    const sealed = c.seal(token, 'matrix-token:acme:alice');
    expect(sealed.keyId).toBe('k1');
    expect(sealed.ciphertext.includes(Buffer.from(token))).toBe(false);
    expect(sealed.ciphertext.toString('latin1')).not.toContain('syt_');
    expect(c.open(sealed, 'matrix-token:acme:alice')).toBe(token);
  });

  it('uses a fresh IV each time', () => {
    const c = new TokenCipher([k1], 'k1');
    expect(c.seal('t', 'a').ciphertext.equals(c.seal('t', 'a').ciphertext)).toBe(false);
  });

  it("refuses a value moved onto another user's row", () => {
    const c = new TokenCipher([k1], 'k1');
    const sealed = c.seal('token', 'matrix-token:acme:alice');
    expect(() => c.open(sealed, 'matrix-token:acme:bob')).toThrow(UndecryptableTokenError);
  });

  it('decrypts values sealed under an older key after rotation, and names a missing key', () => {
    const old = new TokenCipher([k1], 'k1').seal('token', 'aad');
    const rotated = new TokenCipher([k1, k2], 'k2');
    expect(rotated.open(old, 'aad')).toBe('token');
    expect(rotated.seal('x', 'aad').keyId).toBe('k2');
    expect(() => new TokenCipher([k2], 'k2').open(old, 'aad')).toThrow(/key "k1" is not configured/);
  });

  it('detects tampering', () => {
    const c = new TokenCipher([k1], 'k1');
    const sealed = c.seal('token', 'aad');
    sealed.ciphertext[sealed.ciphertext.length - 1]! ^= 1;
    expect(() => c.open(sealed, 'aad')).toThrow(/authentication failed/);
  });
});
