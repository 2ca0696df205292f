/**
 * Events back to the platform (decision 0049): the event types a tenant subscribes to, the delivery
 * workflow's input, signal and query, the back-off schedule and the limits. Pure: the API, the
 * store, the activities and the workflow share it.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const WEBHOOK_EVENT_TYPES = [
  'message.posted',
  'member.left',
  'member.knocked',
  'room.missing',
  'drift.found',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export const isWebhookEventType = (t: string): t is WebhookEventType =>
  (WEBHOOK_EVENT_TYPES as readonly string[]).includes(t);

/** Pending deliveries per tenant; past it new events are not queued and `dropped` counts them. */
export const WEBHOOK_MAX_PENDING = 10_000;
/** A message's text in a `message.posted` payload is cut here (`truncated: true`); the room keeps it whole. */
export const WEBHOOK_BODY_MAX_CHARS = 4_000;
/** A payload is at most this large (the bounds above keep every payload far below it). */
export const WEBHOOK_PAYLOAD_MAX_BYTES = 16 * 1024;
/** The subscription URL's length. */
export const WEBHOOK_URL_MAX_LENGTH = 2_048;
/** The secret's length bounds. */
export const WEBHOOK_SECRET_MIN_LENGTH = 16;
export const WEBHOOK_SECRET_MAX_LENGTH = 256;
/** One attempt's HTTP timeout. */
export const WEBHOOK_ATTEMPT_TIMEOUT_MS = 10_000;
/** A delivery unacknowledged for this long is marked `failed` and the room's next one goes. */
export const WEBHOOK_GIVE_UP_MS = 72 * 3600_000;
/** Signature timestamps further than this from the receiver's clock are refused by the verifier. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The back-off between attempts of one delivery: doubling from the first delay to the cap. */
export interface WebhookBackoff {
  firstMs: number;
  maxMs: number;
}
export const WEBHOOK_BACKOFF: WebhookBackoff = { firstMs: 5_000, maxMs: 10 * 60_000 };

/** The wait after the `failures`-th failed attempt (1-based): 5 s, 10 s, 20 s … capped at 10 minutes. */
export function webhookBackoffMs(failures: number, b: WebhookBackoff = WEBHOOK_BACKOFF): number {
  const n = Math.max(1, Math.floor(failures));
  // 2^30 is far past any cap; the exponent is bounded so the product stays finite.
  return Math.min(b.maxMs, b.firstMs * 2 ** Math.min(n - 1, 30));
}

/** The delivery workflow of one order key (a Matrix room, or `tenant:` for tenant-wide events). */
export interface WebhookRoomInput {
  tenant: string;
  roomKey: string;
  /** Tests shorten the schedule; deployments use WEBHOOK_BACKOFF. */
  backoff?: WebhookBackoff;
  /** Carried over continue-as-new: deliveries made, and failed attempts in a row at the head. */
  delivered?: number;
  failures?: number;
}

export const webhookWorkflowId = (tenant: string, roomKey: string): string => `webhook:${tenant}:${roomKey}`;

/** What an attempt at the room's head delivery came to. */
export type WebhookAttempt =
  | { outcome: 'none' }
  | { outcome: 'delivered'; id: string }
  | { outcome: 'retry'; id: string; error: string }
  | { outcome: 'failed'; id: string; error: string }
  | { outcome: 'stopped'; reason: string };

export interface WebhookRoomState {
  tenant: string;
  roomKey: string;
  delivered: number;
  /** The head delivery failing, and how often in a row. */
  failing: { id: string; attempts: number; error: string; nextAttemptAt: string } | null;
}

/** The sweeper's nudge: the room has deliveries the workflow may not have read yet. */
export const webhookWakeSignal = defineSignal('webhookWake');
export const webhookStateQuery = defineQuery<WebhookRoomState>('webhookState');
