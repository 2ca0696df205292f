/**
 * The users batch's validation (vocabulary/users-batch.ts) and the route's limits on the
 * service-less app: a full 1,000-user batch with long names gets past validation (a 500 from the
 * missing Temporal, beyond the app's 64 KiB body limit and within the JSON bounds); too many
 * users, repeated slugs and bad entries are 400s naming the offending entries by index.
 */
import { describe, expect, it } from '@jest/globals';
import { serviceToken } from '../helpers/api.js';
import { serviceLessApp } from '../helpers/unit-app.js';
import { USERS_BATCH_MAX, usersBatchProblem } from '../../vocabulary/users-batch.js';

const { app, config } = serviceLessApp();
const token = await serviceToken(config);
const scope = { prefix: 'om', serverName: 'matrix.example', tenant: 'acme' };

async function post(body: unknown, path = '/v1/tenants/acme/users:batch') {
  const res = await app.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { errcode?: string; error?: string } };
}

const users = (n: number, name = (i: number) => `User ${i}`) =>
  Array.from({ length: n }, (_, i) => ({ slug: `user-${i}`, displayName: name(i) }));

describe('usersBatchProblem', () => {
  it('accepts a full batch', () => {
    expect(usersBatchProblem(users(USERS_BATCH_MAX), scope)).toBeNull();
  });

  it('refuses a missing, empty, non-array or oversized users list', () => {
    expect(usersBatchProblem(undefined, scope)).toEqual({ errcode: 'M_BAD_JSON', message: 'missing field "users"' });
    expect(usersBatchProblem({}, scope)?.errcode).toBe('M_BAD_JSON');
    expect(usersBatchProblem([], scope)?.message).toBe('field "users" must not be empty');
    expect(usersBatchProblem(users(USERS_BATCH_MAX + 1), scope)?.message).toBe(
      'field "users" has 1001 entries, over the limit of 1000',
    );
  });

  it('names the first offending entries by index, and how many more there are', () => {
    const list: unknown[] = users(20);
    list[3] = { slug: 'bad slug', displayName: 'X' };
    list[7] = { slug: 'user-2', displayName: 'Again' };
    list[9] = { slug: 'ok-9', displayName: ' ' };
    list[10] = 'alice';
    list[11] = { slug: 'ok-11', displayName: 'x'.repeat(257) };
    list[12] = { slug: 'ok-12', displayName: 'a\u0000b' };
    list[13] = { slug: 'ok-13', displayName: 'A', role: 'host' };
    const p = usersBatchProblem(list, scope)!;
    expect(p.errcode).toBe('M_INVALID_PARAM');
    expect(p.message).toMatch(/^7 invalid entries: users\[3\]\.slug cannot be mapped/);
    expect(p.message).toContain('users[7].slug repeats users[2].slug "user-2"');
    expect(p.message).toContain('users[9].displayName must not be empty');
    expect(p.message).toContain('users[10] must be a JSON object');
    expect(p.message).toContain('users[11].displayName is longer than 256 characters');
    expect(p.message).toContain('(and 2 more)');
    expect(p.message).not.toContain('users[12]');
  });

  it('refuses a slug whose Matrix id would be too long', () => {
    const p = usersBatchProblem([{ slug: 'x'.repeat(100), displayName: 'X' }], { ...scope, serverName: 's'.repeat(200) });
    expect(p?.message).toMatch(/^1 invalid entry: users\[0\]\.slug is too long: its Matrix user id would be/);
  });
});

describe('POST /v1/tenants/{tenant}/users:batch on the service-less app', () => {
  it('takes 1,000 users with long display names, a body over the 64 KiB of other routes', async () => {
    const body = JSON.stringify({ users: users(USERS_BATCH_MAX, (i) => `${'N'.repeat(240)} ${i}`) });
    expect(body.length).toBeGreaterThan(200 * 1024);
    const answer = await post(body);
    // Past validation: the service-less app has no Temporal to start the workflow on.
    expect(answer).toEqual({ status: 500, body: expect.objectContaining({ error: 'internal error' }) });
  });

  it('refuses 1,001 users, repeated slugs and unknown fields with 400', async () => {
    const tooMany = await post({ users: users(USERS_BATCH_MAX + 1) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toContain('over the limit of 1000');
    const twice = await post({ users: [...users(3), { slug: 'user-1', displayName: 'Twice' }] });
    expect(twice.status).toBe(400);
    expect(twice.body).toEqual({
      errcode: 'M_INVALID_PARAM',
      error: '1 invalid entry: users[3].slug repeats users[1].slug "user-1"',
    });
    const unknown = await post({ users: users(1), dryRun: true });
    expect(unknown.body).toEqual({ errcode: 'M_BAD_JSON', error: 'unknown field: "dryRun"' });
  });

  it('refuses a body over its own limit with 413', async () => {
    const answer = await post(JSON.stringify({ users: users(1), pad: 'x'.repeat(1024 * 1024) }));
    expect(answer.status).toBe(413);
    expect(answer.body.errcode).toBe('M_TOO_LARGE');
  });

  it('answers 404 for a path that only looks like it', async () => {
    const answer = await post({ users: users(1) }, '/v1/tenants/acme/usersbatch');
    expect(answer.status).toBe(404);
    expect(answer.body.errcode).toBe('M_UNRECOGNIZED');
  });
});
