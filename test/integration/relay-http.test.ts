/**
 * The relay's HTTP side on the real stack: paginated history authorized by membership, user and
 * service JWTs on the message routes (and only there), and the demo page.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('http');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('hist');
let worker: RunningProcess;
let api: TestApi;
let alice: string;
const sent: string[] = [];

interface Page {
  roomId: string;
  events: { type: string; event_id: string; content: { body?: string } }[];
  next: string | null;
  errcode?: string;
  error?: string;
}

const history = async (
  token: string,
  query = '',
  t = tenant,
  slug = 'talk',
): Promise<{ status: number; body: Page }> => {
  const res = await api.get(`/v1/tenants/${t}/rooms/event/${slug}/messages${query}`, token);
  return { status: res.status, body: (await res.json()) as Page };
};
const messages = (p: Page): string[] => p.events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body!);

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  for (const [slug, u] of [
    ['talk', 'alice'],
    ['talk', 'bob'],
    ['private', 'bob'],
  ]) {
    await api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}/members/${u}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
  }
  alice = await userToken(config, tenant, 'alice');
  for (let i = 1; i <= 5; i++) {
    // As alice, with her own user JWT: the HTTP send acts as the token's user.
    const res = await api.post(
      `/v1/tenants/${tenant}/rooms/event/talk/messages`,
      { txnId: randomUUID(), body: `line ${i}` },
      alice,
    );
    expect(res.status).toBe(200);
    sent.push(`line ${i}`);
  }
}, 240_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

describe('GET /v1/tenants/{tenant}/rooms/{kind}/{slug}/messages', () => {
  it('pages back through the history, newest first, as the user sees it', async () => {
    const first = await history(alice, '?limit=3');
    expect(first.status).toBe(200);
    expect(messages(first.body)).toEqual(['line 5', 'line 4', 'line 3']);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await history(alice, `?limit=2&before=${encodeURIComponent(first.body.next!)}`);
    expect(messages(second.body)).toEqual(['line 2', 'line 1']);
  });

  it('with a service JWT, reads as the user it names', async () => {
    const page = await history(api.token, '?limit=1&userSlug=bob');
    expect([page.status, messages(page.body)]).toEqual([200, ['line 5']]);
    const unnamed = await history(api.token, '?limit=1');
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error).toMatch(/userSlug/);
  });

  it('is refused to non-members, to another tenant, to the wrong user, and to a missing or bad token', async () => {
    expect(await history(alice, '', tenant, 'private')).toMatchObject({
      status: 403,
      body: { errcode: 'M_FORBIDDEN', error: 'alice is not joined to event private' },
    });
    expect(await history(alice, '', uniqueTenant('else'))).toMatchObject({
      status: 403,
      body: { errcode: 'M_FORBIDDEN' },
    });
    expect(await history(alice, '?userSlug=bob')).toMatchObject({
      status: 403,
      body: { error: 'a user token acts only as its own user' },
    });
    expect(await history('')).toMatchObject({ status: 401, body: { errcode: 'M_MISSING_TOKEN' } });
    const expired = await userToken(config, tenant, 'alice', { expiresIn: -5 });
    expect(await history(expired)).toMatchObject({ status: 401, body: { errcode: 'M_UNKNOWN_TOKEN' } });
  });

  it('names bad parameters (400)', async () => {
    for (const q of ['?limit=0', '?limit=101', '?limit=ten']) {
      expect(await history(alice, q)).toMatchObject({
        status: 400,
        body: { errcode: 'M_INVALID_PARAM', error: 'limit must be a whole number from 1 to 100' },
      });
    }
    expect(await history(alice, '?before=%20%3C')).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    expect(await history(alice, '?before=zzz')).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    const badKind = await api.get(`/v1/tenants/${tenant}/rooms/party/talk/messages`, alice);
    expect(badKind.status).toBe(400);
  });
});

describe('tokens on the other routes', () => {
  it('a user JWT opens only the relay routes: every other /v1 route still wants the service JWT', async () => {
    const res = await api.post(`/v1/tenants/${tenant}/users`, { slug: 'mallory', displayName: 'M' }, alice);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ errcode: 'M_UNKNOWN_TOKEN' });
  });

  it('typing and receipts over HTTP are accepted (202) for members and refused otherwise', async () => {
    const typing = (slug: string, body: unknown) =>
      api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}/typing`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await typing('talk', { typing: false })).status).toBe(202);
    expect((await typing('private', { typing: true })).status).toBe(403);
    const bad = await typing('talk', { typing: 'maybe' });
    expect([bad.status, await bad.json()]).toEqual([
      400,
      { errcode: 'M_BAD_JSON', error: 'field "typing" must be true or false' },
    ]);
    const receipt = await api.post(`/v1/tenants/${tenant}/rooms/event/talk/receipts`, { eventId: 'nope' }, alice);
    expect(receipt.status).toBe(400);
  });
});

describe('the demo page', () => {
  it('is served at /demo/ (and / points there), locked to its own origin', async () => {
    const root = await api.app.request('/');
    expect([root.status, root.headers.get('location')]).toEqual([302, '/demo/']);
    const page = await api.app.request('/demo/', { headers: { host: '127.0.0.1:8080' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self' ws://127.0.0.1:8080");
    expect(await page.text()).toContain('om-relay.v1');
  });
});
