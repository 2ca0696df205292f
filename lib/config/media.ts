/** Attachments: uploads through the API and signed download URLs (`MEDIA_*`, decision 0041). */
import { ConfigError, integer, optional, type Env } from './read.js';

export interface MediaConfig {
  /** HMAC key of the signed download URLs; null: media is off (the routes answer 503, events carry no URLs). */
  urlSecret: Uint8Array | null;
  /** How long a signed download URL is good for. */
  urlTtlSeconds: number;
  /** Largest upload accepted. */
  maxBytes: number;
  /** Media types an upload may have: exact (`image/png`) or a whole top-level type (`image/*`). */
  allowedTypes: readonly string[];
}

export const DEFAULT_MEDIA_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'video/mp4',
  'video/webm',
  'audio/mpeg',
  'audio/ogg',
  'audio/mp4',
  'audio/webm',
  'application/pdf',
  'text/plain',
];

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/;

function mediaTypes(env: Env): string[] {
  const raw = optional(env, 'MEDIA_ALLOWED_TYPES', DEFAULT_MEDIA_TYPES.join(','));
  const types = raw
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  for (const t of types)
    if (!MEDIA_TYPE.test(t))
      throw new ConfigError(
        'MEDIA_ALLOWED_TYPES',
        `lists "${t.slice(0, 80)}", which is not a media type like image/png or image/*`,
      );
  if (types.length === 0) throw new ConfigError('MEDIA_ALLOWED_TYPES', 'must list at least one media type');
  return types;
}

export function media(env: Env): MediaConfig {
  const secret = env.MEDIA_URL_SECRET?.trim() || '';
  if (secret && Buffer.byteLength(secret) < 32) throw new ConfigError('MEDIA_URL_SECRET', 'must be at least 32 bytes');
  return {
    urlSecret: secret ? new TextEncoder().encode(secret) : null,
    urlTtlSeconds: integer(env, 'MEDIA_URL_TTL_SECONDS', 600, 10, 86_400),
    maxBytes: integer(env, 'MEDIA_MAX_BYTES', 10_485_760, 1, 1_073_741_824),
    allowedTypes: mediaTypes(env),
  };
}

/** Whether an upload of this media type (lower case, no parameters) is allowed. */
export function mediaTypeAllowed(allowed: readonly string[], type: string): boolean {
  const top = type.split('/')[0];
  return allowed.some((a) => a === type || (a.endsWith('/*') && a.slice(0, -2) === top));
}
