/**
 * The audit trail (issue #21 part 4, decision 0060) on the real stack: a member added through the
 * API with a service token of a given subject and an `X-Request-Id` shows in the audit of the room
 * and of the user, with subject, request id, operation and outcome; a change the homeserver
 * refuses shows as failed; a provisioning request is recorded, never its display name; entries past
 * their retention are deleted by the sweeper; a user forgotten (erasure) leaves no slug or Matrix id
 * behind except in the entries the erasure keeps; the route pages and refuses bad queries with 400s.
 *
 * Runs in both identity modes (jest.appservice.config.js): the joins are made as the user.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { serviceToken } from '../helpers/api.js';
import { eventually } from '../helpers/env.js';
import { serviceFixture } from '../helpers/fixture.js';
import { auditPseudonym, auditPseudonymKey, forgetUserInAudit, recordAudit } from '../../adapters/store/audit.js';
import { startAuditSweeper } from '../../worker/audit-sweeper.js';
import { createLogger } from '../../lib/log.js';

const fx = serviceFixture('audit', { API_WAIT_MS: '60000' });
const SUBJECT = 'openmeet-api-audit-test';
let token: string;

interface Entry {
  id: number;
  at: string;
  subject: string | null;
  requestId: string | null;
  operation: string;
  room: { kind: string; slug: string; roomId: string | null } | null;
  userSlug: string | null;
  detail: string | null;
  actions: string[];
  outcome: string;
  errorType: string | null;
  pseudonymized: boolean;
}

async function call(method: string, path: string, body?: unknown, requestId?: string) {
  const res = await fx.api.app.request(`/v1/tenants/${fx.tenant}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(requestId ? { 'x-request-id': requestId } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: (await res.json()) as Record<string, unknown> };
}

const audit = async (query: string): Promise<{ entries: Entry[]; next: number | null }> => {
  const r = await call('GET', `/audit?${query}`);
  expect(r.status).toBe(200);
  return r.body as unknown as { entries: Entry[]; next: number | null };
};

/** The entries of `query` once one with `requestId` is there (they are written just after the answer). */
const auditOnce = (query: string, requestId: string): Promise<Entry[]> =>
  eventually(async () => {
    const { entries } = await audit(query);
    return entries.some((e) => e.requestId === requestId) ? entries : null;
  }, 30_000, `the audit entry of request ${requestId}`);

let aliceId: string;

beforeAll(async () => {
  token = await serviceToken(fx.config, { tenants: [fx.tenant], sub: SUBJECT });
});

describe('the audit trail', () => {
  it('a member added through the API shows in the audit of the room and of the user: who asked, the request, the operation, the outcome', async () => {
    const created = await call('PUT', '/rooms/event/audited', { name: 'Audited' }, 'audit-create-1');
    expect(created.status).toBe(200);
    const add = await call('PUT', '/rooms/event/audited/members/alice', { role: 'host' }, 'audit-add-1');
    expect(add.status).toBe(200);
    expect(add.requestId).toBe('audit-add-1');
    aliceId = (add.body.actions as string[]).map((a) => /^joined (@\S+)/.exec(a)?.[1]).find(Boolean)!;
    expect(aliceId).toMatch(/^@/);

    const forRoom = await auditOnce('room=event/audited', 'audit-add-1');
    const added = forRoom.find((e) => e.requestId === 'audit-add-1')!;
    expect(added).toMatchObject({
      subject: SUBJECT,
      operation: 'member.add',
      room: { kind: 'event', slug: 'audited', roomId: created.body.roomId },
      userSlug: 'alice',
      detail: 'role host',
      outcome: 'done',
      errorType: null,
    });
    expect(added.actions).toEqual(expect.arrayContaining([`joined ${aliceId}`]));
    expect(Date.parse(added.at)).toBeGreaterThan(Date.now() - 120_000);
    const create = (await auditOnce('room=event/audited', 'audit-create-1')).find((e) => e.requestId === 'audit-create-1')!;
    expect(create).toMatchObject({ subject: SUBJECT, operation: 'room.ensure', outcome: 'done', detail: 'settings: name' });
    expect(create.actions.some((a) => a.startsWith('created '))).toBe(true);

    const forUser = await auditOnce('user=alice', 'audit-add-1');
    expect(forUser.map((e) => e.id)).toContain(added.id);
    // Her account was made for the member change: recorded as the service's own change.
    expect(forUser.find((e) => e.operation === 'user.provision')).toMatchObject({ subject: 'service:room', outcome: 'done' });
    // Both filters at once; a room of nobody's has nothing.
    expect((await audit('room=event/audited&user=alice')).entries.map((e) => e.id)).toContain(added.id);
    expect((await audit('room=event/nothing-here')).entries).toEqual([]);
  });

  it('a change the homeserver refuses shows as failed, with its error type', async () => {
    const missing = `!${randomUUID().slice(0, 12)}:${fx.config.matrix.serverName}`;
    const r = await call('PUT', '/rooms/group/refused', { adopt: { roomId: missing } }, 'audit-fail-1');
    expect(r.status).toBe(409);
    expect(r.body.errcode).toBe('OM_ROOM_NOT_ADOPTABLE');
    const [entry] = (await auditOnce('room=group/refused', 'audit-fail-1')).filter((e) => e.requestId === 'audit-fail-1');
    expect(entry).toMatchObject({
      subject: SUBJECT,
      operation: 'room.ensure',
      outcome: 'failed',
      errorType: 'RoomNotAdoptable',
      detail: `no settings; adopt ${missing}`,
      actions: [],
    });
  });

  it('provisioning a user is recorded with its request, never the display name', async () => {
    const r = await call('POST', '/users', { slug: 'bob', displayName: 'Bob Privatename' }, 'audit-user-1');
    expect(r.status).toBe(200);
    const [entry] = (await auditOnce('user=bob', 'audit-user-1')).filter((e) => e.requestId === 'audit-user-1');
    expect(entry).toMatchObject({ subject: SUBJECT, operation: 'user.provision', outcome: 'done', room: null });
    expect(entry!.actions).toContain(`created ${r.body.userId as string}`);
    const stored = await fx.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE tenant = $1 AND audit_log::text LIKE '%Privatename%'`, [fx.tenant]);
    expect(stored.rows[0].n).toBe(0);
  });

  it('a message sent and deleted for the platform are recorded with their outcome, never the text', async () => {
    const text = `secret words ${randomUUID()}`;
    const sent = await call('POST', '/rooms/event/audited/messages', { txnId: randomUUID(), body: text, userSlug: 'alice' }, 'audit-msg-1');
    expect(sent.status).toBe(200);
    const eventId = sent.body.eventId as string;
    const [entry] = (await auditOnce('room=event/audited', 'audit-msg-1')).filter((e) => e.requestId === 'audit-msg-1');
    expect(entry).toMatchObject({ subject: SUBJECT, operation: 'message.send', userSlug: 'alice', outcome: 'done', actions: [`sent ${eventId}`] });
    expect(entry!.detail).toMatch(/^m\.text, txnId /);
    const deleted = await call('DELETE', `/rooms/event/audited/messages/${encodeURIComponent(eventId)}`, { reason: 'private reason', userSlug: 'alice' }, 'audit-redact-1');
    expect(deleted.status).toBe(200);
    const [redaction] = (await auditOnce('user=alice', 'audit-redact-1')).filter((e) => e.requestId === 'audit-redact-1');
    expect(redaction).toMatchObject({ subject: SUBJECT, operation: 'message.redact', outcome: 'done', detail: `${eventId}, with a reason` });
    expect(redaction!.actions[0]).toContain(deleted.body.redactionId as string);
    // A deletion the homeserver refuses (no such event) is recorded as failed.
    const missing = await call('DELETE', '/rooms/event/audited/messages/%24nothing-here', { userSlug: 'alice' }, 'audit-redact-2');
    expect(missing.status).toBeGreaterThanOrEqual(400);
    const [refused] = (await auditOnce('user=alice', 'audit-redact-2')).filter((e) => e.requestId === 'audit-redact-2');
    expect(refused).toMatchObject({ operation: 'message.redact', outcome: 'failed', errorType: missing.body.errcode });
    // An attachment sent for the platform, too.
    const file = new TextEncoder().encode('secret words in a file');
    const txnId = randomUUID();
    const uploaded = await fx.api.app.request(
      `/v1/tenants/${fx.tenant}/rooms/event/audited/media?${new URLSearchParams({ txnId, filename: 'notes.txt', userSlug: 'alice' })}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'x-request-id': 'audit-media-1', 'content-type': 'text/plain', 'content-length': String(file.length) },
        body: file,
      },
    );
    expect(uploaded.status).toBe(200);
    const media = (await uploaded.json()) as { eventId: string };
    const [attachment] = (await auditOnce('room=event/audited', 'audit-media-1')).filter((e) => e.requestId === 'audit-media-1');
    expect(attachment).toMatchObject({ operation: 'message.send', outcome: 'done', detail: `attachment, txnId ${txnId}`, actions: [`sent ${media.eventId} (m.file)`] });
    const stored = await fx.db.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE tenant = $1 AND (audit_log::text LIKE '%secret words%' OR audit_log::text LIKE '%private reason%' OR audit_log::text LIKE '%notes.txt%')`,
      [fx.tenant],
    );
    expect(stored.rows[0].n).toBe(0);
  });

  it('a users batch records each user; a DM shows for both its users', async () => {
    const r = await call('POST', '/users:batch', { users: [{ slug: 'carol', displayName: 'Carol' }, { slug: 'dave', displayName: 'Dave' }] }, 'audit-batch-1');
    expect(r.status).toBe(200);
    for (const slug of ['carol', 'dave']) {
      const [entry] = (await auditOnce(`user=${slug}`, 'audit-batch-1')).filter((e) => e.requestId === 'audit-batch-1');
      expect(entry).toMatchObject({ subject: SUBJECT, operation: 'user.provision', outcome: 'done', detail: `in users batch ${r.body.batchId as string}` });
      expect(entry!.actions[0]).toMatch(/^created @/);
    }
    // A DM's changes show for both its users.
    const dm = await call('POST', '/dms', { users: ['carol', 'dave'] }, 'audit-dm-1');
    expect(dm.status).toBe(200);
    for (const slug of ['carol', 'dave']) {
      const [entry] = (await auditOnce(`user=${slug}`, 'audit-dm-1')).filter((e) => e.requestId === 'audit-dm-1');
      expect(entry).toMatchObject({ operation: 'room.ensure', outcome: 'done', room: { kind: 'dm', slug: 'carol~dave' } });
    }
  });

  it("a user's audit follows their renames: asked by the new slug or an old one, it has the entries under each", async () => {
    expect((await call('POST', '/users', { slug: 'erin', displayName: 'Erin' }, 'audit-erin-1')).status).toBe(200);
    const [provisioned] = (await auditOnce('user=erin', 'audit-erin-1')).filter((e) => e.requestId === 'audit-erin-1');
    expect((await call('POST', '/users/erin/rename', { newSlug: 'erin-b' })).status).toBe(200);
    expect((await call('POST', '/users/erin-b/rename', { newSlug: 'erin-c' })).status).toBe(200);
    expect((await call('POST', '/users', { slug: 'erin-c', displayName: 'Erin C' }, 'audit-erin-2')).status).toBe(200);
    const [later] = (await auditOnce('user=erin-c', 'audit-erin-2')).filter((e) => e.requestId === 'audit-erin-2');
    for (const slug of ['erin', 'erin-b', 'erin-c']) {
      const ids = (await audit(`user=${slug}`)).entries.map((e) => e.id);
      expect(ids).toEqual(expect.arrayContaining([provisioned!.id, later!.id]));
    }
    // Someone else's entries stay out.
    expect((await audit('user=erin-c')).entries.every((e) => e.userSlug === null || e.userSlug.startsWith('erin'))).toBe(true);
  });

  it('pages newest first, and refuses a bad query with a 400 naming what is wrong', async () => {
    const all = await audit('limit=500');
    expect(all.entries.length).toBeGreaterThanOrEqual(4);
    const ids = all.entries.map((e) => e.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    const first = await audit('limit=2');
    expect(first.entries.map((e) => e.id)).toEqual(ids.slice(0, 2));
    const second = await audit(`limit=2&cursor=${first.next!}`);
    expect(second.entries.map((e) => e.id)).toEqual(ids.slice(2, 4));
    const since = await audit(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(since.entries).toEqual([]);
    expect((await audit(`until=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&limit=500`)).entries.length).toBe(ids.length);

    for (const [query, words] of [
      ['room=audited', 'query "room" must be kind/slug'],
      ['room=event/', 'query "room"'],
      ['user=a%20b', 'query "user"'],
      ['since=yesterday', 'query "since" must be an ISO 8601 time'],
      ['cursor=-1', 'query "cursor"'],
      ['limit=0', 'query "limit" must be an integer from 1 to 500'],
    ] as const) {
      const r = await call('GET', `/audit?${query}`);
      expect({ query, status: r.status, errcode: r.body.errcode }).toEqual({ query, status: 400, errcode: 'M_INVALID_PARAM' });
      expect(r.body.error).toContain(words);
    }
    const other = await fx.api.app.request('/v1/tenants/someone-else/audit', { headers: { authorization: `Bearer ${token}` } });
    expect(other.status).toBe(403);
  });

  it('the sweeper deletes entries past the retention and keeps the rest', async () => {
    const stale = `stale-${randomUUID()}`;
    await recordAudit(fx.db, [
      { tenant: fx.tenant, origin: { subject: SUBJECT, requestId: stale }, operation: 'member.add', userSlug: 'old', outcome: 'done' },
    ]);
    await fx.db.query(`UPDATE audit_log SET at = now() - interval '400 days' WHERE request_id = $1`, [stale]);
    const before = (await audit('limit=500')).entries.length;
    const sweeper = startAuditSweeper({ db: fx.db, config: { audit: { retentionDays: 365 } }, log: createLogger('audit-test', 'silent'), everyMs: 3_600_000 });
    try {
      expect(await sweeper.sweep()).toBeGreaterThanOrEqual(1);
    } finally {
      await sweeper.stop();
    }
    const after = (await audit('limit=500')).entries;
    expect(after.some((e) => e.requestId === stale)).toBe(false);
    expect(after.length).toBe(before - 1);
    expect(after.some((e) => e.requestId === 'audit-add-1')).toBe(true);
  });

  it("forgetting a user replaces their slug and Matrix id everywhere but in the erasure's own entry", async () => {
    await recordAudit(fx.db, [
      { tenant: fx.tenant, origin: { subject: SUBJECT }, operation: 'user.offboard', userSlug: 'alice', detail: `offboarded ${aliceId}`, outcome: 'done' },
    ]);
    const key = auditPseudonymKey(fx.config.tokens.keys.find((k) => k.id === fx.config.tokens.activeKeyId)!);
    const changed = await forgetUserInAudit(fx.db, key, { tenant: fx.tenant, slug: 'alice', userId: aliceId, exceptOperations: ['user.offboard'] });
    expect(changed).toBeGreaterThanOrEqual(2);
    const left = await fx.db.query<{ operation: string }>(
      `SELECT operation FROM audit_log WHERE tenant = $1 AND (user_slug = 'alice' OR audit_log::text LIKE '%' || $2 || '%')`,
      [fx.tenant, aliceId],
    );
    expect(left.rows.map((r) => r.operation)).toEqual(['user.offboard']);
    expect((await audit('user=alice')).entries.map((e) => e.operation)).toEqual(['user.offboard']);
    const pseudonym = auditPseudonym(key, fx.tenant, 'alice');
    const theirs = (await audit(`user=${pseudonym}`)).entries;
    expect(theirs.map((e) => e.requestId)).toContain('audit-add-1');
    expect(theirs.every((e) => e.pseudonymized)).toBe(true);
    expect(theirs.find((e) => e.requestId === 'audit-add-1')!.actions).toContain(`joined ${pseudonym}`);
    // Again: nothing left to change.
    expect(await forgetUserInAudit(fx.db, key, { tenant: fx.tenant, slug: 'alice', userId: aliceId, exceptOperations: ['user.offboard'] })).toBe(0);
  });
});
