import { createHmac } from 'node:crypto';

/** The header that carries a delivery's signature. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-om-signature';
/** The header that carries a delivery's stable id (the receiver's key to drop repeats). */
export const WEBHOOK_ID_HEADER = 'x-om-delivery-id';

/**
 * The signature header's value for `body` sent at `unixSeconds`: `t=<unix>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">`, as the big webhook providers sign. The platform checks it with
 * client/webhook-signature.ts `verifyWebhookSignature`.
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}
