/**
 * Offboarding a user (issue #21 part 1, decision 0056) on the real stack, in both identity modes
 * (jest.appservice.config.js): erasure after the grace period — the homeserver says deactivated and
 * erased, a user who joins later does not see the messages, no table of ours holds the Matrix id
 * (every text column of every table, found through information_schema), and the record names no
 * one —; a cancel inside the grace period gives back a working account with the same Matrix id.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { MatrixHttpError } from '../../adapters/matrix/errors.js';
import { matrixRequest, type RequestAuth } from '../../adapters/matrix/http.js';
import { adminToken, asPlatformUser, botView } from '../helpers/matrix.js';
import { stackEnv } from '../helpers/env.js';
import { png } from '../helpers/png.js';
import { serviceFixture } from '../helpers/fixture.js';
import type { RunningProcess } from '../helpers/processes.js';
import { startApi } from '../helpers/relay.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { accountWithPassword } from '../helpers/prior-platform.js';
import { tenantCaller, type Answer } from '../helpers/tenant-call.js';

const GRACE_SECONDS = 12;
const fx = serviceFixture('offboard', { API_WAIT_MS: '60000', OFFBOARD_ERASE_GRACE_SECONDS: String(GRACE_SECONDS) }, 'off');
const { config, tenant } = fx;
const call = tenantCaller(fx);
const bot = botView(config);
const appservice = config.matrix.identityMode === 'appservice';
const idOf = (slug: string) => `@om_${tenant}_${slug}:${config.matrix.serverName}`;
const hs = config.matrix.homeserverUrl;

let apiProcess: RunningProcess | undefined;
let receiver: WebhookReceiver | undefined;
beforeAll(async () => {
  // The API process the homeserver pushes to: it writes the event log and the webhook deliveries the purge must find.
  apiProcess = await startApi(Number(stackEnv().API_PORT), fx.taskQueue);
  receiver = await WebhookReceiver.create();
}, 120_000);
afterAll(async () => {
  await receiver?.close();
  await apiProcess?.stop();
});

/** Polls the offboarding until `done(answer)`, at most `ms`. */
async function offboardingUntil(slug: string, done: (a: Answer) => boolean, ms = 90_000): Promise<Answer> {
  const until = Date.now() + ms;
  for (;;) {
    const a = await call('GET', `/users/${slug}/offboard`);
    if (done(a)) return a;
    if (Date.now() > until) throw new Error(`offboarding of ${slug} never got there: ${JSON.stringify(a)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Synapse pushes to the API process it just saw start after its back-off: under load that takes a while. */
async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 150_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Every text-like column of every table of ours (information_schema, not a list kept by hand) holding `needle`. */
async function tablesHolding(needle: string): Promise<string[]> {
  const cols = await fx.db.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
       AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea')`,
  );
  expect(cols.rows.length).toBeGreaterThan(40);
  const found: string[] = [];
  for (const { table_name: t, column_name: c, data_type: type } of cols.rows) {
    const value = type === 'bytea' ? `encode("${c}", 'escape')` : `"${c}"::text`;
    const r = await fx.db.query(`SELECT count(*)::int AS n FROM "${t}" WHERE strpos(${value}, $1) > 0`, [needle]);
    if ((r.rows[0] as { n: number }).n > 0) found.push(`${t}.${c}`);
  }
  return found;
}

/** The user's own view of a room's timeline, as `auth` (their token, or the appservice's assertion). */
async function messagesAs(auth: RequestAuth, roomId: string) {
  const page = await matrixRequest<{ chunk: { type: string; sender: string; content: Record<string, unknown> }[] }>(hs, {
    method: 'GET',
    path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`,
    ...auth,
    query: { ...(auth.query ?? {}), dir: 'b', limit: '200' },
  });
  return page.chunk.filter((e) => e.type === 'm.room.message');
}

/** Whether the homeserver refuses a login for the account as deactivated (what the appservice mode can ask). */
async function loginRefusedAsDeactivated(userId: string): Promise<boolean> {
  try {
    const r = await matrixRequest<{ access_token: string }>(hs, {
      method: 'POST',
      path: '/_matrix/client/v3/login',
      token: config.matrix.asToken,
      body: { type: 'm.login.application_service', identifier: { type: 'm.id.user', user: userId } },
    });
    await matrixRequest(hs, { method: 'POST', path: '/_matrix/client/v3/logout', token: r.access_token, body: {} });
    return false;
  } catch (err) {
    if (err instanceof MatrixHttpError && err.errcode === 'M_USER_DEACTIVATED') return true;
    throw err;
  }
}

/** The status of the account's public profile (404: gone, as erasure leaves it). */
async function profileStatus(userId: string): Promise<number> {
  try {
    await matrixRequest(hs, {
      method: 'GET',
      path: `/_matrix/client/v3/profile/${encodeURIComponent(userId)}`,
      token: config.matrix.asToken,
    });
    return 200;
  } catch (err) {
    if (err instanceof MatrixHttpError) return err.status;
    throw err;
  }
}

/** The status of a file's download from the content repository (an authenticated client: the appservice). */
async function mediaStatus(mxc: string): Promise<number> {
  const [server, mediaId] = mxc.slice('mxc://'.length).split('/');
  const res = await fetch(`${hs}/_matrix/client/v1/media/download/${server}/${mediaId}`, {
    headers: { authorization: `Bearer ${config.matrix.asToken}` },
  });
  await res.arrayBuffer();
  return res.status;
}

/** The Admin API's view of the account (admin mode's homeserver). */
async function adminView(userId: string): Promise<{ deactivated: boolean; erased: boolean; locked: boolean; displayname: string | null }> {
  return matrixRequest(hs, {
    method: 'GET',
    path: `/_synapse/admin/v2/users/${encodeURIComponent(userId)}`,
    token: await adminToken(config),
  });
}

const ROOMS = [
  { kind: 'event', slug: 'e1', role: 'participant' },
  { kind: 'event', slug: 'e2', role: 'participant' },
  { kind: 'group', slug: 'g1', role: 'member' },
] as const;

describe('offboarding with erasure', () => {
  const ERIN = idOf('erin');
  const displayName = `Erin ${randomBytes(4).toString('hex')}`;
  const bodies = ROOMS.map((r) => `erin's words in ${r.slug} ${randomBytes(6).toString('hex')}`);
  const roomIds: string[] = [];
  const uploads: string[] = [];
  let offboardingId = '';

  it('removes the user from every room through its workflow; reconciliation does not bring them back', async () => {
    expect((await call('PUT', '/webhook', { url: receiver!.url, secret: 's'.repeat(32) })).status).toBe(200);
    for (const [i, r] of ROOMS.entries()) {
      expect((await call('PUT', `/rooms/${r.kind}/${r.slug}/members/erin`, { role: r.role, displayName })).status).toBe(200);
      expect((await call('PUT', `/rooms/${r.kind}/${r.slug}/members/wes`, { role: r.role, displayName: 'Wes' })).status).toBe(200);
      const sent = await call('POST', `/rooms/${r.kind}/${r.slug}/messages`, { txnId: `m${i}`, body: bodies[i], userSlug: 'erin' });
      expect(sent).toMatchObject({ status: 200, body: { status: 'sent' } });
      roomIds.push((await call('GET', `/rooms/${r.kind}/${r.slug}`)).body.roomId as string);
    }
    // A picture too: its file (and the thumbnail made of it) is erin's upload, which the erasure deletes.
    const image = png(1200, 900);
    const uploaded = await fx.api.app.request(
      `/v1/tenants/${tenant}/rooms/event/e1/media?txnId=pic&filename=erin.png&userSlug=erin`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${fx.api.token}`, 'content-type': 'image/png', 'content-length': String(image.length) },
        body: image,
      },
    );
    expect(uploaded.status).toBe(200);
    const sentImage = (await uploaded.json()) as { contentUri: string; info: { thumbnail_url?: string } };
    uploads.push(sentImage.contentUri, sentImage.info.thumbnail_url!);
    expect(await Promise.all(uploads.map(mediaStatus))).toEqual([200, 200]);
    // The relay logged what erin wrote: the purge below has rows of theirs to delete.
    await until('the event log to hold the messages', async () => {
      const r = await fx.db.query('SELECT count(*)::int AS n FROM relay_events WHERE sender = $1 AND type = $2', [ERIN, 'm.room.message']);
      return (r.rows[0] as { n: number }).n === 4;
    });
    await until('webhook deliveries of their messages', async () => (await tablesHolding(bodies[2]!)).includes('webhook_deliveries.payload'));
    expect(await tablesHolding(ERIN)).toEqual(
      expect.arrayContaining(['matrix_users.user_id', 'relay_events.sender', 'relay_memberships.user_id', 'webhook_deliveries.payload']),
    );

    const started = await call('POST', '/users/erin/offboard', { erase: true, reason: 'deleted on the platform' });
    expect(started).toMatchObject({ status: 202, body: { workflowId: `offboard:${tenant}:erin`, erase: true } });
    offboardingId = started.body.offboardingId as string;
    const again = await call('POST', '/users/erin/offboard', { erase: true });
    expect(again.body.offboardingId).toBe(offboardingId);
    // Who asked is in the audit trail, once however often it is asked.
    const asked = (await call('GET', '/audit?user=erin')).body.entries as { operation: string; requestId: string }[];
    expect(asked.filter((a) => a.operation === 'user.offboard')).toEqual([expect.objectContaining({ requestId: expect.any(String) })]);

    const grace = await offboardingUntil('erin', (a) => a.body.phase === 'grace');
    expect(grace.body).toMatchObject({ scope: 'full', roomsRemoved: 3, roomsFailed: 0, status: 'RUNNING' });
    // Each removal is in the audit trail as the offboarding's.
    await until('the removals in the audit trail', async () => {
      const entries = (await call('GET', '/audit?user=erin')).body.entries as { operation: string; subject: string | null }[];
      return entries.filter((a) => a.operation === 'member.remove' && a.subject === 'service:offboard').length === 3;
    });
    for (const [i, r] of ROOMS.entries()) {
      expect(await bot.joined(roomIds[i]!)).not.toContain(ERIN);
      expect((await call('GET', `/rooms/${r.kind}/${r.slug}`)).body.members).toEqual({ wes: r.role });
    }
    expect(await call('POST', '/rooms/event/e1/reconcile')).toMatchObject({ status: 200 });
    expect(await bot.joined(roomIds[0]!)).not.toContain(ERIN);
    // Held back: the platform cannot provision them again meanwhile.
    expect(await call('POST', '/users', { slug: 'erin', displayName })).toMatchObject({
      status: 409,
      body: { errcode: 'OM_USER_OFFBOARDED' },
    });
    if (!appservice) expect(await adminView(ERIN)).toMatchObject({ deactivated: true, erased: false });
    // Appservice mode cannot undo a deactivation: it waits for the end of the grace period.
    else expect(await loginRefusedAsDeactivated(ERIN)).toBe(false);
  }, 300_000);

  it('erases after the grace period: deactivated and erased on the homeserver, nothing of ours left', async () => {
    const done = await offboardingUntil('erin', (a) => a.body.status !== 'RUNNING', (GRACE_SECONDS + 60) * 1000);
    expect(done.body).toMatchObject({ status: 'COMPLETED', phase: 'done', eraseDueAt: null });
    if (!appservice) {
      expect(await adminView(ERIN)).toMatchObject({ deactivated: true, erased: true, displayname: null });
      // Their uploads are gone from the content repository; appservice mode has no way to delete them.
      expect(await Promise.all(uploads.map(mediaStatus))).toEqual([404, 404]);
    } else {
      expect(await loginRefusedAsDeactivated(ERIN)).toBe(true);
      expect(await profileStatus(ERIN)).toBe(404);
    }
    expect(await tablesHolding(ERIN)).toEqual([]);
    expect(await tablesHolding(displayName)).toEqual([]);
    for (const b of bodies) expect(await tablesHolding(b)).toEqual([]);
    // The audit trail keeps the offboarding, under the user's pseudonym.
    expect((await call('GET', '/audit?user=erin')).body.entries).toEqual([]);
    const kept = await fx.db.query<{ user_slug: string; pseudonymized: boolean }>(
      "SELECT user_slug, pseudonymized FROM audit_log WHERE tenant = $1 AND operation = 'user.offboard'",
      [tenant],
    );
    expect(kept.rows.find((r) => r.pseudonymized)?.user_slug).toMatch(/^forgotten-/);
  }, 180_000);

  it('hides their messages from a user who joins later', async () => {
    for (const [i, r] of ROOMS.entries()) {
      expect((await call('PUT', `/rooms/${r.kind}/${r.slug}/members/nina`, { role: r.role, displayName: 'Nina' })).status).toBe(200);
      const seen = await messagesAs(await asPlatformUser(config, fx.db, tenant, 'nina'), roomIds[i]!);
      expect(seen.map((e) => e.content.body)).not.toContain(bodies[i]);
      // Their events are there, emptied (in e1 the picture too): the room's history is visible to a later
      // joiner, the erased content is not.
      const theirs = seen.filter((e) => e.sender === ERIN);
      expect(theirs.map((e) => e.content)).toEqual(r.slug === 'e1' ? [{}, {}] : [{}]);
      // Wes was there when erin wrote: he still sees it (erasure hides from later joiners only).
      const wes = await messagesAs(await asPlatformUser(config, fx.db, tenant, 'wes'), roomIds[i]!);
      expect(wes.map((e) => e.content.body)).toContain(bodies[i]);
    }
  }, 120_000);

  it('keeps a record of what was done and when, naming no one', async () => {
    const r = await fx.db.query('SELECT *, row_to_json(o)::text AS whole FROM offboardings o WHERE id = $1', [offboardingId]);
    const row = r.rows[0] as { state: string; erase: boolean; scope: string; steps: { step: string; at: string; count?: number }[]; whole: string };
    expect(row).toMatchObject({ state: 'done', erase: true, scope: 'full' });
    expect(row.steps.map((s) => s.step)).toEqual([
      ...(appservice ? ['locked', 'removed from rooms'] : ['locked', 'removed from rooms', 'deactivated']),
      'grace period',
      'erased on the homeserver',
      appservice ? 'uploads kept (appservice mode cannot delete them)' : 'uploads deleted',
      'purged',
    ]);
    expect(row.steps.find((s) => s.step === 'removed from rooms')?.count).toBe(3);
    if (!appservice) expect(row.steps.find((s) => s.step === 'uploads deleted')?.count).toBe(2);
    for (const personal of [ERIN, 'erin', displayName, 'deleted on the platform', ...bodies]) expect(row.whole).not.toContain(personal);
    // Still held back: an erased user is not provisioned again under that id.
    expect(await call('POST', '/users', { slug: 'erin', displayName })).toMatchObject({ status: 409, body: { errcode: 'OM_USER_OFFBOARDED' } });
  });
});

describe('offboarding without erasure', () => {
  it('locks, removes and deactivates at once, keeps our rows, and holds the user back', async () => {
    const DAN = idOf('dan');
    expect((await call('PUT', '/rooms/group/g4/members/dan', { role: 'member', displayName: 'Dan' })).status).toBe(200);
    expect(await call('POST', '/users/dan/offboard', { erase: false })).toMatchObject({ status: 202, body: { erase: false } });
    const done = await offboardingUntil('dan', (a) => a.body.status !== 'RUNNING');
    expect(done.body).toMatchObject({ status: 'COMPLETED', phase: 'done', roomsRemoved: 1, eraseDueAt: null });
    expect(await loginRefusedAsDeactivated(DAN)).toBe(true);
    if (!appservice) expect(await adminView(DAN)).toMatchObject({ deactivated: true, erased: false, locked: true });
    const row = await fx.db.query('SELECT user_id, token_ciphertext IS NULL AS no_token FROM matrix_users WHERE tenant = $1 AND slug = $2', [tenant, 'dan']);
    expect(row.rows).toEqual([{ user_id: DAN, no_token: true }]);
    expect(await call('PUT', '/rooms/group/g4/members/dan', { role: 'member' })).toMatchObject({
      status: 409,
      body: { errcode: 'OM_USER_OFFBOARDED' },
    });
    expect(await call('DELETE', '/users/dan/offboard')).toMatchObject({ status: 409, body: { errcode: 'OM_OFFBOARD_NOT_CANCELLABLE' } });
  }, 120_000);
});

describe('a cancelled offboarding', () => {
  const CAL = idOf('cal');

  it('restores a working account with the same Matrix id', async () => {
    expect((await call('PUT', '/rooms/group/g2/members/cal', { role: 'member', displayName: 'Cal' })).status).toBe(200);
    expect(await call('POST', '/users/cal/offboard', { erase: true })).toMatchObject({ status: 202 });
    await offboardingUntil('cal', (a) => a.body.phase === 'grace');
    if (!appservice) expect(await adminView(CAL)).toMatchObject({ deactivated: true, locked: true });

    const cancelled = await call('DELETE', '/users/cal/offboard');
    expect(cancelled).toMatchObject({ status: 200, body: { phase: 'cancelled', eraseDueAt: null } });
    const audit = (await call('GET', '/audit?user=cal')).body.entries as { operation: string }[];
    expect(audit.map((a) => a.operation)).toEqual(expect.arrayContaining(['user.offboard', 'user.offboard.cancel']));
    if (!appservice) expect(await adminView(CAL)).toMatchObject({ deactivated: false, locked: false, displayname: 'Cal' });
    expect(await loginRefusedAsDeactivated(CAL)).toBe(false);
    // The rooms are not rejoined by the service (decision 0056): the platform adds the user back.
    expect((await call('GET', '/rooms/group/g2')).body.members).toEqual({});
    const back = await call('PUT', '/rooms/group/g2/members/cal', { role: 'member', displayName: 'Cal' });
    expect(back).toMatchObject({ status: 200 });
    const sent = await call('POST', '/rooms/group/g2/messages', { txnId: 'back', body: 'I am back', userSlug: 'cal' });
    expect(sent).toMatchObject({ status: 200, body: { status: 'sent' } });
    const g2 = (await call('GET', '/rooms/group/g2')).body.roomId as string;
    const seen = await messagesAs(await asPlatformUser(config, fx.db, tenant, 'cal'), g2);
    expect(seen.find((e) => e.content.body === 'I am back')?.sender).toBe(CAL);

    const r = await fx.db.query('SELECT state FROM offboardings WHERE tenant = $1 ORDER BY requested_at DESC LIMIT 1', [tenant]);
    expect(r.rows[0]).toEqual({ state: 'cancelled' });
    expect(await call('DELETE', '/users/cal/offboard')).toMatchObject({
      status: 409,
      body: { errcode: 'OM_OFFBOARD_NOT_CANCELLABLE' },
    });
  }, 180_000);
});

describe('an adopted account', () => {
  // Accounts from before the service, with passwords: the first Synapse's admin makes them (not in appservice mode's).
  (appservice ? it.skip : it)('is only removed from the rooms: never locked, deactivated or erased; our rows still go', async () => {
    const pat = await accountWithPassword(config, `off${randomBytes(3).toString('hex')}_pat`, 'Pat');
    expect((await call('POST', '/users', { slug: 'pat', displayName: 'Pat', matrixUserId: pat.userId })).status).toBe(200);
    expect((await call('PUT', '/rooms/group/g3/members/pat', { role: 'member' })).status).toBe(200);
    const g3 = (await call('GET', '/rooms/group/g3')).body.roomId as string;
    expect(await bot.joined(g3)).toContain(pat.userId);

    expect(await call('POST', '/users/pat/offboard', { erase: true })).toMatchObject({ status: 202 });
    const grace = await offboardingUntil('pat', (a) => a.body.phase === 'grace');
    expect(grace.body).toMatchObject({ scope: 'rooms', roomsRemoved: 1 });
    expect(await bot.joined(g3)).not.toContain(pat.userId);
    const done = await offboardingUntil('pat', (a) => a.body.status !== 'RUNNING', (GRACE_SECONDS + 60) * 1000);
    expect(done.body).toMatchObject({ phase: 'done', status: 'COMPLETED' });
    expect(await adminView(pat.userId)).toMatchObject({ deactivated: false, erased: false, locked: false, displayname: 'Pat' });
    // Their own login still works: the service never touched the account.
    expect(await matrixRequest(hs, { method: 'GET', path: '/_matrix/client/v3/account/whoami', token: pat.token })).toMatchObject({
      user_id: pat.userId,
    });
    expect(await tablesHolding(pat.userId)).toEqual([]);
  }, 180_000);
});

describe('offboarding requests', () => {
  it('are refused clearly: unknown user, missing or bad fields, bad slug, nothing to read', async () => {
    expect(await call('POST', '/users/nobody/offboard', { erase: false })).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
    expect(await call('POST', '/users/wes/offboard', {})).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON' } });
    expect(await call('POST', '/users/wes/offboard', { erase: 'yes' })).toMatchObject({ status: 400 });
    expect(await call('POST', '/users/wes/offboard', { erase: true, reason: 'x'.repeat(501) })).toMatchObject({ status: 400 });
    expect(await call('POST', '/users/bad%20slug/offboard', { erase: true })).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
    expect(await call('GET', '/users/wes/offboard')).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
    expect(await call('DELETE', '/users/wes/offboard')).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND' } });
  });
});
