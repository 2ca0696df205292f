import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionKey } from './config.js';

/** A token encrypted at rest: AES-256-GCM, `iv(12) | tag(16) | ciphertext`, with the id of its key. */
export interface SealedToken {
  keyId: string;
  ciphertext: Buffer;
}

export class UndecryptableTokenError extends Error {
  constructor(reason: string) {
    super(`stored token cannot be decrypted: ${reason}`);
    this.name = 'UndecryptableTokenError';
  }
}

/**
 * Encrypts with the active key and decrypts with whichever listed key sealed the value, so keys can
 * rotate. The associated data binds a ciphertext to its row: a value copied onto another user's row
 * does not decrypt.
 */
export class TokenCipher {
  private readonly byId: ReadonlyMap<string, Buffer>;

  constructor(
    keys: readonly EncryptionKey[],
    private readonly activeKeyId: string,
  ) {
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    if (!this.byId.has(activeKeyId)) throw new Error(`active key "${activeKeyId}" is not among the configured keys`);
  }

  get activeKey(): string {
    return this.activeKeyId;
  }

  seal(plaintext: string, associatedData: string): SealedToken {
    const key = this.byId.get(this.activeKeyId)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.activeKeyId, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), ct]) };
  }

  open(sealed: SealedToken, associatedData: string): string {
    const key = this.byId.get(sealed.keyId);
    if (!key) throw new UndecryptableTokenError(`key "${sealed.keyId}" is not configured`);
    if (sealed.ciphertext.length < 29) throw new UndecryptableTokenError('value is truncated');
    const iv = sealed.ciphertext.subarray(0, 12);
    const tag = sealed.ciphertext.subarray(12, 28);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(sealed.ciphertext.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new UndecryptableTokenError(`authentication failed under key "${sealed.keyId}"`);
    }
  }
}
