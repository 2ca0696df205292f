/**
 * Encryption of everything Temporal stores for us: a PayloadCodec (AES-256-GCM, key id in each
 * payload's metadata so keys can rotate) used by every client and worker, plus failure messages
 * and stack traces moved into encoded attributes. Tokens never travel through Temporal at all;
 * this keeps names, slugs and memos of our users out of the history store too.
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { EncryptionKey } from './config.js';
import { quoteBounded } from '../vocabulary/describe.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const text = new TextEncoder();
const untext = new TextDecoder();

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: ReadonlyMap<string, Buffer>;

  constructor(
    keys: readonly EncryptionKey[],
    private readonly activeKeyId: string,
  ) {
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.byId.get(this.activeKeyId)!;
    return payloads.map((p) => {
      const plain = proto.temporal.api.common.v1.Payload.encode(p).finish();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
      return {
        metadata: { encoding: text.encode(ENCRYPTED_ENCODING), [KEY_ID]: text.encode(this.activeKeyId) },
        data: Buffer.concat([iv, cipher.getAuthTag(), ct]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (!p.metadata?.encoding || untext.decode(p.metadata.encoding) !== ENCRYPTED_ENCODING) return p;
      const keyId = p.metadata[KEY_ID] ? untext.decode(p.metadata[KEY_ID]) : '';
      const key = this.byId.get(keyId);
      if (!key)
        throw new Error(
          `payload encrypted with key ${quoteBounded(keyId)}, which PAYLOAD_ENCRYPTION_KEYS does not list`,
        );
      const data = Buffer.from(p.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
      return proto.temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** The data converter every Temporal client and worker of this service uses. */
export function dataConverter(payloads: { keys: readonly EncryptionKey[]; activeKeyId: string }): DataConverter {
  return {
    payloadCodecs: [new EncryptionCodec(payloads.keys, payloads.activeKeyId)],
    failureConverterPath: fileURLToPath(new URL('./failure-converter.cjs', import.meta.url)),
  };
}
