/**
 * Checking a webhook delivery's signature on the platform's side (decision 0049). Every delivery
 * is a POST whose `X-OM-Signature` header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
 * under the subscription's secret; `X-OM-Delivery-Id` is its stable id (a repeat has the same one).
 * Verify the raw body as received, before parsing it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type WebhookVerification =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'malformed' | 'too-old' | 'mismatch' };

/**
 * Whether `header` signs `rawBody` with `secret`, at a timestamp within `toleranceSeconds` (default
 * 300) of `nowSeconds` (default the clock). Several `v1=` entries (a secret being rotated) are each tried.
 */
export function verifyWebhookSignature(
  secret: string,
  rawBody: string,
  header: string | null | undefined,
  opts: { toleranceSeconds?: number; nowSeconds?: number } = {},
): WebhookVerification {
  if (!header || header.length > 4096) return { ok: false, reason: 'malformed' };
  let t: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === null || signatures.length === 0) return { ok: false, reason: 'malformed' };
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? 300)) return { ok: false, reason: 'too-old' };
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const match = signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
  return match ? { ok: true, timestamp: t } : { ok: false, reason: 'mismatch' };
}
