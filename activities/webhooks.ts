/**
 * The webhook delivery activity (decision 0049): one attempt at the oldest pending delivery of a
 * room, POSTed signed to the tenant's URL. Its answer decides: 2xx delivered; 410 stops the
 * subscription with the reason; anything else (or no answer) is a failed attempt the workflow
 * waits out before the next, until WEBHOOK_GIVE_UP_MS, when the delivery is marked failed.
 * Payloads never reach the logs or Temporal: the row is read here.
 */
import type { WebhookStore } from '../adapters/store/webhooks.js';
import { signWebhook, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER } from '../lib/webhook-signature.js';
import {
  WEBHOOK_ATTEMPT_TIMEOUT_MS,
  WEBHOOK_GIVE_UP_MS,
  type WebhookAttempt,
} from '../vocabulary/webhooks.js';

export interface WebhookActivityDeps {
  webhooks?: WebhookStore;
}

const ERROR_MAX = 300;

/** Why a request got no answer, without anything of the request (a URL may carry a credential). */
function networkError(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${WEBHOOK_ATTEMPT_TIMEOUT_MS} ms`;
  return `no answer: ${e.cause?.code ?? e.cause?.message ?? e.message ?? 'unknown error'}`.slice(0, ERROR_MAX);
}

async function post(url: string, secret: string, id: string, type: string, body: string) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_ATTEMPT_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'matrix-orchestrator-webhooks',
        [WEBHOOK_ID_HEADER]: id,
        'x-om-event-type': type,
        [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, body, Date.now() / 1000),
      },
    });
    // The answer's body is not read beyond closing it: only the status counts.
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, error: res.ok ? null : `HTTP ${res.status}` };
  } catch (err) {
    return { status: null, error: networkError(err) };
  }
}

type Finding = { kind: string; slug: string; type: 'drift.found' | 'room.missing'; detail: Record<string, unknown> };

/**
 * The reconcile run's findings as webhook events: drift fixed per room, and each room whose pass
 * failed that `isGone` finds gone from the homeserver (at most 50 rooms checked per run).
 */
export async function reconcileFindings(
  fixes: unknown,
  isGone: (kind: string, slug: string) => Promise<boolean>,
): Promise<Finding[]> {
  const f = (fixes ?? {}) as { fixes?: { room: string; actions: string[] }[]; failures?: { room: string; error: string }[] };
  const at = (room: string) => {
    const i = room.indexOf('/');
    return { kind: room.slice(0, i), slug: room.slice(i + 1) };
  };
  const findings: Finding[] = (f.fixes ?? []).map((x) => ({
    ...at(x.room),
    type: 'drift.found',
    detail: { actions: x.actions.slice(0, 100) },
  }));
  for (const x of (f.failures ?? []).slice(0, 50)) {
    const room = at(x.room);
    if (await isGone(room.kind, room.slug).catch(() => false))
      findings.push({ ...room, type: 'room.missing', detail: { error: String(x.error).slice(0, ERROR_MAX) } });
  }
  return findings;
}

export function createWebhookActivities(deps: WebhookActivityDeps) {
  return {
    async attemptWebhookDelivery(input: { tenant: string; roomKey: string }): Promise<WebhookAttempt> {
      const store = deps.webhooks;
      if (!store) throw new Error('webhook deliveries are not configured on this worker');
      const target = await store.target(input.tenant);
      if (!target) return { outcome: 'stopped', reason: 'the subscription is stopped or deleted' };
      const head = await store.head(input.tenant, input.roomKey);
      if (!head) return { outcome: 'none' };
      const { status, error } = await post(target.url, target.secret, head.id, head.type, JSON.stringify(head.payload));
      if (error === null) {
        await store.attempted(head.id, { state: 'delivered', status, error: null });
        return { outcome: 'delivered', id: head.id };
      }
      if (status === 410) {
        const reason = `the receiver answered 410 Gone to delivery ${head.id} at ${new Date().toISOString()}`;
        await store.attempted(head.id, { state: 'pending', status, error });
        await store.stop(input.tenant, reason);
        return { outcome: 'stopped', reason };
      }
      const givenUp = Date.now() - head.createdAt.getTime() > WEBHOOK_GIVE_UP_MS;
      await store.attempted(head.id, { state: givenUp ? 'failed' : 'pending', status, error });
      return givenUp ? { outcome: 'failed', id: head.id, error } : { outcome: 'retry', id: head.id, error };
    },
  };
}
