import { describe, expect, it } from '@jest/globals';
import { defaultPayloadConverter } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { EncryptionCodec } from '../../lib/codec.js';

const p1 = { id: 'p1', key: randomBytes(32) };
const p2 = { id: 'p2', key: randomBytes(32) };

describe('EncryptionCodec', () => {
  it('encrypts payloads so their content is unreadable, and decrypts them back', async () => {
    const codec = new EncryptionCodec([p1], 'p1');
    const plain = defaultPayloadConverter.toPayload({ displayName: 'Alice Liddell', slug: 'alice' })!;
    const [enc] = await codec.encode([plain]);
    expect(Buffer.from(enc!.data!).toString('latin1')).not.toContain('Alice');
    expect(Buffer.from(enc!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(enc!.metadata!['encryption-key-id']!).toString()).toBe('p1');
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual({ displayName: 'Alice Liddell', slug: 'alice' });
  });

  it('passes payloads that are not encrypted through (histories from before encryption)', async () => {
    const plain = defaultPayloadConverter.toPayload('hello')!;
    expect(await new EncryptionCodec([p1], 'p1').decode([plain])).toEqual([plain]);
  });

  it('decrypts with any listed key after rotation, and names a missing one', async () => {
    const [old] = await new EncryptionCodec([p1], 'p1').encode([defaultPayloadConverter.toPayload(42)!]);
    const [back] = await new EncryptionCodec([p1, p2], 'p2').decode([old!]);
    expect(defaultPayloadConverter.fromPayload(back!)).toBe(42);
    await expect(new EncryptionCodec([p2], 'p2').decode([old!])).rejects.toThrow(/key "p1"/);
  });
});
