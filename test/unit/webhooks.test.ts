/**
 * Webhooks' pure parts (decision 0049): the signature the activity puts on a delivery and the
 * verifier the platform runs (client/webhook-signature.ts); which Matrix events become deliveries
 * and what their payloads hold; the back-off schedule and what it means for an hour's outage.
 */
import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { verifyWebhookSignature } from '../../client/webhook-signature.js';
import { signWebhook } from '../../lib/webhook-signature.js';
import { boundedPayload, webhookCandidate, webhookDeliveryId } from '../../adapters/store/webhook-events.js';
import { reconcileFindings } from '../../activities/webhooks.js';
import { WEBHOOK_BACKOFF, WEBHOOK_BODY_MAX_CHARS, WEBHOOK_PAYLOAD_MAX_BYTES, webhookBackoffMs } from '../../vocabulary/webhooks.js';

const SECRET = 'whsec-0123456789abcdef';
const BODY = JSON.stringify({ id: 'wh_1', type: 'message.posted', body: 'héllo ✓' });
const BOT = '@openmeet-bot:hs';

describe('webhook signature', () => {
  it('is t=<unix>,v1=<hex HMAC-SHA256 of "t.body"> and the verifier accepts it', () => {
    const header = signWebhook(SECRET, BODY, 1_760_000_000.7);
    const expected = createHmac('sha256', SECRET).update(`1760000000.${BODY}`).digest('hex');
    expect(header).toBe(`t=1760000000,v1=${expected}`);
    expect(verifyWebhookSignature(SECRET, BODY, header, { nowSeconds: 1_760_000_010 })).toEqual({
      ok: true,
      timestamp: 1_760_000_000,
    });
  });

  it('refuses another body, another secret, a moved timestamp, and a stale or malformed header', () => {
    const now = 1_760_000_000;
    const header = signWebhook(SECRET, BODY, now);
    const v = (secret: string, body: string, h: string | undefined, at = now) =>
      verifyWebhookSignature(secret, body, h, { nowSeconds: at });
    expect(v(SECRET, `${BODY} `, header)).toEqual({ ok: false, reason: 'mismatch' });
    expect(v('another-secret-of-length', BODY, header)).toEqual({ ok: false, reason: 'mismatch' });
    expect(v(SECRET, BODY, header.replace(`t=${now}`, `t=${now + 1}`))).toEqual({ ok: false, reason: 'mismatch' });
    expect(v(SECRET, BODY, header, now + 301)).toEqual({ ok: false, reason: 'too-old' });
    expect(v(SECRET, BODY, header, now - 301)).toEqual({ ok: false, reason: 'too-old' });
    expect(v(SECRET, BODY, undefined)).toEqual({ ok: false, reason: 'malformed' });
    expect(v(SECRET, BODY, `t=${now}`)).toEqual({ ok: false, reason: 'malformed' });
    expect(v(SECRET, BODY, `v1=${'0'.repeat(64)}`)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts any one of several v1 signatures (a secret being rotated)', () => {
    const now = 1_760_000_000;
    const old = signWebhook('the-old-secret-value', BODY, now).split(',')[1]!;
    const header = `${signWebhook(SECRET, BODY, now)},${old}`;
    expect(verifyWebhookSignature('the-old-secret-value', BODY, header, { nowSeconds: now }).ok).toBe(true);
    expect(verifyWebhookSignature(SECRET, BODY, header, { nowSeconds: now }).ok).toBe(true);
  });
});

describe('which Matrix events become deliveries', () => {
  const room = '!r:hs';
  const ev = (type: string, sender: string, content: Record<string, unknown>, stateKey?: string) => ({
    room_id: room,
    type,
    event_id: `$${type}-${sender}-${JSON.stringify(content).length}`,
    sender,
    origin_server_ts: 1_700_000_000_000,
    content,
    ...(stateKey !== undefined ? { state_key: stateKey } : {}),
  });

  it('a message by a user is message.posted with its text, cut at the bound; the bot’s own is not', () => {
    const posted = webhookCandidate(ev('m.room.message', '@a:hs', { msgtype: 'm.text', body: 'hi' }), BOT);
    expect(posted).toMatchObject({ type: 'message.posted', users: { sender: '@a:hs' } });
    expect(posted!.data).toMatchObject({ body: 'hi', msgtype: 'm.text', truncated: false, encrypted: false });
    const long = webhookCandidate(ev('m.room.message', '@a:hs', { msgtype: 'm.text', body: 'x'.repeat(WEBHOOK_BODY_MAX_CHARS + 5) }), BOT);
    expect((long!.data.body as string).length).toBe(WEBHOOK_BODY_MAX_CHARS);
    expect(long!.data.truncated).toBe(true);
    expect(webhookCandidate(ev('m.room.message', BOT, { msgtype: 'm.notice', body: 'reminder' }), BOT)).toBeNull();
    const enc = webhookCandidate(ev('m.room.encrypted', '@a:hs', { ciphertext: 'zzz' }), BOT);
    expect(enc!.data).toMatchObject({ encrypted: true, body: null, msgtype: null });
  });

  it('a leave, a kick or a ban not by the bot is member.left; a knock is member.knocked; joins and the bot’s kicks are not', () => {
    expect(webhookCandidate(ev('m.room.member', '@a:hs', { membership: 'leave' }, '@a:hs'), BOT)).toMatchObject({
      type: 'member.left',
      data: { kicked: false, banned: false },
    });
    expect(webhookCandidate(ev('m.room.member', '@mod:hs', { membership: 'leave', reason: 'spam' }, '@a:hs'), BOT)).toMatchObject({
      type: 'member.left',
      users: { user: '@a:hs', by: '@mod:hs' },
      data: { kicked: true, reason: 'spam' },
    });
    expect(webhookCandidate(ev('m.room.member', '@mod:hs', { membership: 'ban' }, '@a:hs'), BOT)!.data.banned).toBe(true);
    expect(webhookCandidate(ev('m.room.member', '@k:hs', { membership: 'knock', reason: 'let me in' }, '@k:hs'), BOT)).toMatchObject({
      type: 'member.knocked',
      data: { reason: 'let me in' },
    });
    expect(webhookCandidate(ev('m.room.member', '@a:hs', { membership: 'join' }, '@a:hs'), BOT)).toBeNull();
    expect(webhookCandidate(ev('m.room.member', BOT, { membership: 'leave' }, '@a:hs'), BOT)).toBeNull();
    expect(webhookCandidate(ev('m.room.topic', '@a:hs', { topic: 't' }, ''), BOT)).toBeNull();
  });

  it('keeps a payload under its byte bound even when the cut text escapes to several times its length', () => {
    const escaped = webhookCandidate(ev('m.room.message', '@a:hs', { msgtype: 'm.text', body: '\u0001'.repeat(10_000) }), BOT)!;
    const raw = { id: 'wh_x', type: escaped.type, ...escaped.data };
    expect(Buffer.byteLength(JSON.stringify(raw))).toBeGreaterThan(WEBHOOK_PAYLOAD_MAX_BYTES);
    const bounded = boundedPayload(raw);
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThanOrEqual(WEBHOOK_PAYLOAD_MAX_BYTES);
    expect(bounded).toMatchObject({ body: null, truncated: true, eventId: escaped.eventId });
    const small = { id: 'wh_y', body: 'hi', truncated: false };
    expect(boundedPayload(small)).toBe(small);
  });

  it('gives each event and type one stable, header-safe delivery id', () => {
    const a = webhookDeliveryId('message.posted', '$e1');
    expect(a).toMatch(/^wh_[0-9a-f]{40}$/);
    expect(webhookDeliveryId('message.posted', '$e1')).toBe(a);
    expect(webhookDeliveryId('member.left', '$e1')).not.toBe(a);
    expect(webhookDeliveryId('message.posted', '$e2')).not.toBe(a);
  });

  it("turns a reconcile run's fixes into drift.found, and only its failed rooms found gone into room.missing", async () => {
    const checked: string[] = [];
    const findings = await reconcileFindings(
      {
        fixes: [{ room: 'event/meetup', actions: ['joined @a:hs'] }],
        failures: [
          { room: 'group/hikers', error: 'Workflow Update failed' },
          { room: 'event/other', error: 'the homeserver is unavailable' },
          { room: 'event/unsure', error: 'Workflow Update failed' },
        ],
      },
      async (kind, slug) => {
        checked.push(`${kind}/${slug}`);
        if (slug === 'unsure') throw new Error('homeserver down');
        return slug === 'hikers';
      },
    );
    expect(checked).toEqual(['group/hikers', 'event/other', 'event/unsure']);
    expect(findings).toEqual([
      { kind: 'event', slug: 'meetup', type: 'drift.found', detail: { actions: ['joined @a:hs'] } },
      { kind: 'group', slug: 'hikers', type: 'room.missing', detail: { error: 'Workflow Update failed' } },
    ]);
  });
});

describe('the back-off schedule', () => {
  it('doubles from 5 s and holds at 10 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 50].map((n) => webhookBackoffMs(n))).toEqual([
      5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000,
    ]);
  });

  it('keeps trying through an hour of outage, and tries again within 10 minutes of the receiver coming back', () => {
    // Attempt times from the first failure, for an outage from 0 to 3600 s.
    const times = [0];
    while (times.at(-1)! < 3600_000) times.push(times.at(-1)! + webhookBackoffMs(times.length));
    // 5+10+20+40+80+160+320 s = 635 s, then every 600 s: the first attempt after the hour is at 3635 s.
    expect(times.at(-1)).toBe(3635_000);
    expect(times.length).toBe(13);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBe(WEBHOOK_BACKOFF.maxMs);
  });
});
