import { describe, expect, it } from '@jest/globals';
import { Hono } from 'hono';
import { createKeyedRate } from '../../api/keyed-rate.js';
import { userRateLimit } from '../../api/rate-limit.js';
import type { RelayEnv } from '../../api/relay/user-auth.js';
import { createClientAddress } from '../../api/relay/client-address.js';
import { Counts, RelayLimits, TokenBucket } from '../../api/relay/limits.js';
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

describe('TokenBucket', () => {
  it('allows the burst at once, then refuses with the wait until the next token', () => {
    let now = 0;
    const bucket = new TokenBucket(5, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0]);
    expect(bucket.take()).toBe(200);
    now = 100;
    expect(bucket.take()).toBe(100);
    now = 200;
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(200);
  });

  it('refills at the sustained rate but never beyond the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    bucket.take();
    bucket.take();
    now = 60_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 100]);
  });
});

describe('Counts', () => {
  it('counts per key and forgets a key back at zero', () => {
    const c = new Counts();
    c.add('a');
    c.add('a');
    c.add('b');
    expect([c.get('a'), c.get('b'), c.size, c.atLeast(2)]).toEqual([2, 1, 2, 1]);
    c.remove('a');
    c.remove('b');
    expect([c.get('a'), c.get('b'), c.size, c.atLeast(1)]).toEqual([1, 0, 1, 1]);
    c.remove('a');
    expect(c.size).toBe(0);
  });
});

const relayConfig = (patch: Record<string, string> = {}) => loadConfig({ ...MINIMAL_ENV, ...patch }).relay;

describe('RelayLimits', () => {
  it('admits up to RELAY_MAX_SOCKETS_PER_USER sockets per user, then refuses naming the limit, and again after a close', () => {
    const limits = new RelayLimits(relayConfig({ RELAY_MAX_SOCKETS_PER_USER: '2' }));
    for (let i = 0; i < 2; i++) {
      expect(limits.admit('@a', '10.0.0.1')).toBeNull();
      limits.open('@a', '10.0.0.1');
    }
    expect(limits.admit('@a', '10.0.0.2')).toMatchObject({
      limit: 'sockets_per_user',
      error: expect.stringMatching(/at most 2 per user/),
      retryAfterMs: expect.any(Number),
    });
    expect(limits.admit('@b', '10.0.0.1')).toBeNull();
    limits.close('@a', '10.0.0.1');
    expect(limits.admit('@a', '10.0.0.1')).toBeNull();
    expect(limits.refusalCounts.get('sockets_per_user')).toBe(1);
  });

  it('refuses a socket beyond RELAY_MAX_SOCKETS_PER_ADDRESS from one address, and never when it is 0', () => {
    const limits = new RelayLimits(relayConfig({ RELAY_MAX_SOCKETS_PER_ADDRESS: '3' }));
    for (const u of ['@a', '@b', '@c']) limits.open(u, '10.0.0.1');
    expect(limits.admit('@d', '10.0.0.1')).toMatchObject({ limit: 'sockets_per_address' });
    expect(limits.admit('@d', '10.0.0.2')).toBeNull();
    const off = new RelayLimits(relayConfig({ RELAY_MAX_SOCKETS_PER_ADDRESS: '0' }));
    for (let i = 0; i < 500; i++) off.open(`@u${i}`, '10.0.0.1');
    expect(off.admit('@x', '10.0.0.1')).toBeNull();
  });

  it('refuses handshakes beyond the rate per address first, then beyond the instance rate, with the wait', async () => {
    const limits = new RelayLimits(
      relayConfig({ RELAY_ADDRESS_HANDSHAKES_PER_SECOND: '2', RELAY_HANDSHAKES_PER_SECOND: '5' }),
    );
    const outcomes = [];
    for (const address of ['a', 'a', 'a', 'b', 'b', 'c', 'c', 'd']) outcomes.push(await limits.handshake(address));
    expect(outcomes.map((o) => o?.limit ?? 'ok')).toEqual([
      'ok',
      'ok',
      'handshakes_per_address',
      'ok',
      'ok',
      'ok',
      'handshakes',
      'handshakes',
    ]);
    expect(outcomes[2]!.retryAfterMs).toBeGreaterThan(0);
    expect(outcomes[2]!.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(limits.refusalCounts.get('handshakes')).toBe(2);
    expect(limits.refusalCounts.get('handshakes_per_address')).toBe(1);
  });
});

describe('createKeyedRate (rate-limiter-flexible)', () => {
  it('allows the burst per key, refuses the next with the wait, and allows again once the window has passed', async () => {
    const rate = createKeyedRate(20, 2);
    expect([await rate.take('u'), await rate.take('u'), await rate.take('v')]).toEqual([0, 0, 0]);
    const wait = await rate.take('u');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(100);
    await new Promise((r) => setTimeout(r, wait + 5));
    expect(await rate.take('u')).toBe(0);
  });

  it('userRateLimit answers a user JWT over the rate 429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After; the service JWT passes', async () => {
    let refused = 0;
    const app = new Hono<RelayEnv>()
      .use(async (c, next) => {
        const who = c.req.header('x-who')!;
        c.set(
          'actor',
          who === 'service'
            ? { kind: 'service', principal: { tenants: ['*'] } as never }
            : { kind: 'user', user: { tenant: 't', userSlug: who, userId: `@${who}`, canActAs: true, expiresAt: 0 } },
        );
        await next();
      })
      .put(
        '/x',
        userRateLimit({ httpRatePerSecond: 1, httpRateBurst: 2 }, () => void refused++),
        (c) => c.json({}, 202),
      );
    const put = (who: string) => app.request('/x', { method: 'PUT', headers: { 'x-who': who } });
    expect([(await put('alice')).status, (await put('alice')).status, (await put('bob')).status]).toEqual([
      202, 202, 202,
    ]);
    const limited = await put('alice');
    expect(limited.status).toBe(429);
    const body = (await limited.json()) as { retry_after_ms: number };
    expect(body).toEqual({
      errcode: 'M_LIMIT_EXCEEDED',
      error: 'too many requests: at most 1 per second per user (burst 2)',
      retry_after_ms: expect.any(Number),
    });
    expect(body.retry_after_ms).toBeGreaterThan(0);
    expect(body.retry_after_ms).toBeLessThanOrEqual(2_000);
    expect(limited.headers.get('retry-after')).toBe(String(Math.ceil(body.retry_after_ms / 1000)));
    for (let i = 0; i < 5; i++) expect((await put('service')).status).toBe(202);
    expect(refused).toBe(1);
  });
});

describe('client address', () => {
  it('is the TCP peer (IPv4-mapped addresses unwrapped), X-Forwarded-For ignored without trusted proxies', () => {
    const of = createClientAddress([]);
    expect(of('::ffff:192.0.2.7', '198.51.100.1')).toBe('192.0.2.7');
    expect(of('127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('counts an IPv6 client as its /64, however the address is written', () => {
    const of = createClientAddress([]);
    expect(of('2001:db8::1', undefined)).toBe('2001:db8:0:0::/64');
    expect(of('2001:0DB8:0000:0000:ffff::2', undefined)).toBe('2001:db8:0:0::/64');
    expect(of('2001:db8:1:2:3:4:5:6', undefined)).toBe('2001:db8:1:2::/64');
    expect(of('::1', undefined)).toBe('0:0:0:0::/64');
    expect(of('fe80::1%eth0', undefined)).toBe('fe80:0:0:0::/64');
  });

  it('behind a trusted proxy, the rightmost address the trusted proxies did not add', () => {
    const of = createClientAddress(['10.0.0.0/8', '::1']);
    expect(of('10.1.2.3', '203.0.113.9')).toBe('203.0.113.9');
    // A client cannot choose its address by prepending to the header.
    expect(of('10.1.2.3', '1.1.1.1, 203.0.113.9, 10.9.9.9')).toBe('203.0.113.9');
    expect(of('::1', '198.51.100.4')).toBe('198.51.100.4');
    expect(of('::1', '2001:db8:aa:bb::7')).toBe('2001:db8:aa:bb::/64');
    expect(of('192.0.2.7', '203.0.113.9')).toBe('192.0.2.7');
    expect(of('10.1.2.3', 'garbage')).toBe('10.1.2.3');
  });
});
