/**
 * The appservice identity mode where it has to work: a homeserver as under delegated login, with
 * password login off and no admin user at all (the stack's synapse-as; only the appservice's
 * tokens get in). Runs in the appservice pass of scripts/test.sh only (jest.appservice.config.js).
 *
 * Shows that homeserver is what it claims, that the service provisions, sends and reads there with
 * no per-user token, what happens to a deactivated account (no Admin API: it cannot be reactivated),
 * and that a wrong appservice token fails for good, naming it, instead of starting a token renewal.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { MatrixHttpError } from '../../adapters/matrix/errors.js';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { ACCOUNT_CHECK_DEVICE } from '../../adapters/identity/appservice-accounts.js';
import { identityFor } from '../../adapters/identity/index.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { createDirectSends, sendThroughOutbox } from '../../api/relay/direct-send.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { ROOT, stackEnv, testConfig, uniqueTaskQueue } from '../helpers/env.js';
import { serviceFixture } from '../helpers/fixture.js';
import { accountOnServer } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { eventRoomWith, userToken } from '../helpers/relay.js';

const fx = serviceFixture('asmode', { API_WAIT_MS: '30000' }, 'asm');
const { config, tenant } = fx;
const hs = config.matrix.homeserverUrl;
const uid = (slug: string): string => `@om_${tenant}_${slug}:localhost`;
const e = encodeURIComponent;

/** The homeserver's answer to a request, error or not. */
async function answer(
  req: Parameters<typeof matrixRequest>[1],
): Promise<{ status: number; errcode?: string; error?: string }> {
  try {
    await matrixRequest(hs, req);
    return { status: 200 };
  } catch (err) {
    if (!(err instanceof MatrixHttpError)) throw err;
    return { status: err.status, errcode: err.errcode, error: err.error };
  }
}

async function provision(
  slug: string,
  displayName: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fx.api.post(`/v1/tenants/${tenant}/users`, { slug, displayName });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const asUser = (slug: string) => ({ token: config.matrix.asToken, query: { user_id: uid(slug) } });

describe('the homeserver of the appservice pass', () => {
  it('is this run: appservice identity mode, and no admin credentials anywhere in its configuration', () => {
    expect(config.matrix.identityMode).toBe('appservice');
    expect(config.matrix.adminPassword).toBeNull();
  });

  it('has password login off and no admin user: only the appservice gets in', async () => {
    const flows = await matrixRequest<{ flows: { type: string }[] }>(hs, {
      method: 'GET',
      path: '/_matrix/client/v3/login',
    });
    expect(flows.flows.map((f) => f.type)).toEqual(['m.login.application_service']);
    const password = await answer({
      method: 'POST',
      path: '/_matrix/client/v3/login',
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'admin' }, password: 'anything' },
    });
    expect(password).toMatchObject({ status: 400, error: expect.stringMatching(/password login has been disabled/i) });
    // No shared-secret registration either: no admin can be made the way the admin-mode stack makes one.
    const sharedSecret = await answer({
      method: 'POST',
      path: '/_synapse/admin/v1/register',
      body: { nonce: 'x', username: 'admin', password: 'p', mac: '00', admin: true },
    });
    expect(sharedSecret).toMatchObject({
      status: 400,
      error: expect.stringMatching(/shared secret registration is not enabled/i),
    });
    expect(await answer({ method: 'GET', path: `/_matrix/client/v3/profile/${e('@admin:localhost')}` })).toMatchObject({
      status: 404,
    });
    // The appservice itself is in: its bot answers to the as_token.
    const bot = await matrixRequest<{ user_id: string }>(hs, {
      method: 'GET',
      path: '/_matrix/client/v3/account/whoami',
      token: config.matrix.asToken,
    });
    expect(bot.user_id).toBe('@openmeet-bot:localhost');
  });
});

describe('the service on it', () => {
  let roomId: string;

  it('provisions users, sends as them and reads the history back as them, with no token stored', async () => {
    expect((await provision('alice', 'Alice')).status).toBe(200);
    roomId = await eventRoomWith(fx.api, tenant, 'meet', ['alice', 'bob']);
    const res = await fx.api.post(
      `/v1/tenants/${tenant}/rooms/event/meet/messages`,
      { txnId: randomUUID(), body: 'hello from alice' },
      await userToken(config, tenant, 'alice'),
    );
    expect(res.status).toBe(200);
    const { eventId } = (await res.json()) as { eventId: string };

    const page = await fx.api.get(
      `/v1/tenants/${tenant}/rooms/event/meet/messages`,
      await userToken(config, tenant, 'bob'),
    );
    expect(page.status).toBe(200);
    const { events } = (await page.json()) as {
      events: { event_id: string; sender: string; content: { body?: string } }[];
    };
    expect(events.find((ev) => ev.event_id === eventId)).toMatchObject({
      sender: uid('alice'),
      content: { body: 'hello from alice' },
    });
    // The homeserver agrees on who sent it, and on both display names.
    const onServer = await matrixRequest<{ sender: string }>(hs, {
      method: 'GET',
      path: `/_matrix/client/v3/rooms/${e(roomId)}/event/${e(eventId)}`,
      ...asUser('bob'),
    });
    expect(onServer.sender).toBe(uid('alice'));
    expect(await accountOnServer(config, uid('alice'))).toEqual({ displayName: 'Alice' });
    expect(await accountOnServer(config, uid('bob'))).toEqual({ displayName: 'bob' });
    const tokens = await fx.db.query(
      'SELECT count(*)::int AS n FROM matrix_users WHERE tenant = $1 AND token_ciphertext IS NOT NULL',
      [tenant],
    );
    expect(tokens.rows[0].n).toBe(0);
  });

  it("checks an existing account's state at provisioning without leaving a device behind", async () => {
    const again = await provision('alice', 'Alice L.');
    expect(again).toMatchObject({
      status: 200,
      body: { created: false, displayNameChanged: true, tokenIssued: false },
    });
    const devices = await matrixRequest<{ devices: { device_id: string }[] }>(hs, {
      method: 'GET',
      path: '/_matrix/client/v3/devices',
      ...asUser('alice'),
    });
    expect(devices.devices.map((d) => d.device_id)).not.toContain(ACCOUNT_CHECK_DEVICE);
    expect(await accountOnServer(config, uid('alice'))).toEqual({ displayName: 'Alice L.' });
  });

  it('refuses a deactivated account with 409 OM_USER_DEACTIVATED naming the cause, and leaves it deactivated', async () => {
    expect((await provision('carol', 'Carol')).status).toBe(200);
    // Deactivated on the homeserver (here by the appservice, as the user: no admin exists to do it).
    await matrixRequest(hs, {
      method: 'POST',
      path: '/_matrix/client/v3/account/deactivate',
      ...asUser('carol'),
      body: {},
    });

    const refused = await provision('carol', 'Carol');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ errcode: 'OM_USER_DEACTIVATED' });
    expect(refused.body.error).toMatch(
      new RegExp(`${uid('carol')} is deactivated on the homeserver.*cannot reactivate.*Admin API`),
    );
    // Still deactivated: the homeserver still refuses to log the account in.
    const login = await answer({
      method: 'POST',
      path: '/_matrix/client/v3/login',
      token: config.matrix.asToken,
      body: { type: 'm.login.application_service', identifier: { type: 'm.id.user', user: uid('carol') } },
    });
    expect(login).toMatchObject({ status: 403, errcode: 'M_USER_DEACTIVATED' });
  });

  it('looks up an account it must never create or reactivate (an adopted one) without changing it', async () => {
    const { identity } = identityFor(
      config,
      createUserStore(fx.db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId)),
    );
    expect(await identity.accountState(uid('alice'))).toBe('active');
    expect(await identity.accountState(uid('carol'))).toBe('deactivated');
    expect(await identity.accountState(uid('nobody'))).toBe('missing');
    // Looking is all it did: the account is still not registered.
    expect(
      await answer({ method: 'GET', path: '/_matrix/client/v3/account/whoami', ...asUser('nobody') }),
    ).toMatchObject({
      status: 403,
      error: expect.stringMatching(/has not registered this user/),
    });
  });

  it('the operator CLI inspects users through the appservice, with no Admin API and no token to check', async () => {
    const inspect = (slug: string) =>
      new Promise<{ code: number; out: Record<string, unknown> }>((resolve) =>
        execFile(
          process.execPath,
          [`${ROOT}dist/scripts/cli.js`, 'user', 'inspect', slug, '--tenant', tenant, '--json'],
          { cwd: ROOT, env: stackEnv(), timeout: 60_000 },
          (err, stdout) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out: JSON.parse(stdout || '{}') }),
        ),
      );
    const alice = await inspect('alice');
    expect(alice).toMatchObject({
      code: 0,
      out: {
        identityMode: 'appservice',
        stored: { userId: uid('alice'), token: { present: false } },
        homeserver: { seenThrough: 'appservice', displayName: 'Alice L.', deactivated: false, joinedRooms: 1 },
        tokenWorks: null,
        problems: [],
      },
    });
    const carol = await inspect('carol');
    expect(carol.out.problems).toEqual([`${uid('carol')} is deactivated on the homeserver`]);
  });

  describe('with a wrong appservice token', () => {
    const taskQueue = uniqueTaskQueue('asbad');
    let worker: RunningProcess;
    let api: TestApi;

    beforeAll(async () => {
      worker = await startWorker(taskQueue, { MATRIX_AS_TOKEN: 'not-the-registered-token' });
      // The API keeps the right token (its membership checks pass); the worker acts with the wrong one.
      api = await createTestApi(testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '30000' }));
    });
    afterAll(async () => {
      await api?.close();
      await worker?.stop();
    });

    const renewals = async (): Promise<string[]> => {
      const ids: string[] = [];
      for await (const wf of api.temporal.workflow.list({ query: `WorkflowId STARTS_WITH "user-auth:${tenant}:"` }))
        ids.push(wf.workflowId);
      return ids;
    };

    it('provisioning fails at once, naming MATRIX_AS_TOKEN', async () => {
      const started = Date.now();
      const res = await api.post(`/v1/tenants/${tenant}/users`, { slug: 'dave', displayName: 'Dave' });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { errcode: string; error: string };
      expect(body.errcode).toBe('OM_UPSTREAM_FAILED');
      expect(body.error).toMatch(/registering @om_.*dave.*refused the appservice token \(MATRIX_AS_TOKEN/);
      expect(Date.now() - started).toBeLessThan(15_000); // not retried
    });

    it('a send as a provisioned user fails for good naming MATRIX_AS_TOKEN, and no token renewal starts', async () => {
      // The worker's retry path (decision 0036): a repeat of a send left pending goes to the workflow.
      const txnId = randomUUID();
      await api.db.query(
        `INSERT INTO message_outbox (tenant, user_slug, txn_id, room_id, kind, slug, msgtype, body)
         VALUES ($1, 'alice', $2, $3, 'event', 'meet', 'm.text', 'never sent')`,
        [tenant, txnId, roomId],
      );
      const res = await api.post(
        `/v1/tenants/${tenant}/rooms/event/meet/messages`,
        { txnId, body: 'never sent' },
        await userToken(config, tenant, 'alice'),
      );
      expect(res.status).toBe(502);
      const body = (await res.json()) as { errcode: string; error: string };
      expect(body).toMatchObject({ errcode: 'OM_UPSTREAM_FAILED' });
      expect(body.error).toMatch(/acting as @om_.*alice.*refused the appservice token \(MATRIX_AS_TOKEN/);
      expect(await renewals()).toEqual([]);
    });

    it("the API's own send with a wrong appservice token is refused for good, recorded failed, and not handed to the workflow", async () => {
      const wrong = testConfig({ MATRIX_AS_TOKEN: 'not-the-registered-token' });
      const txnId = randomUUID();
      const ticket = await sendThroughOutbox(
        createDirectSends(wrong, api.db),
        {
          tenant,
          userSlug: 'alice',
          kind: 'event',
          slug: 'meet',
          roomId,
          clientTxnId: txnId,
          msgtype: 'm.text',
          body: 'never sent',
        },
        () => Promise.reject(new Error('a refusal must not be retried through the workflow')),
      );
      await expect(ticket.result()).rejects.toMatchObject({
        errcode: 'OM_UPSTREAM_FAILED',
        message: expect.stringMatching(/acting as @om_.*alice.*refused the appservice token \(MATRIX_AS_TOKEN/),
      });
      const row = await api.db.query(
        'SELECT status, errcode, body FROM message_outbox WHERE tenant = $1 AND txn_id = $2',
        [tenant, txnId],
      );
      expect(row.rows).toEqual([{ status: 'failed', errcode: 'OM_UPSTREAM_FAILED', body: null }]);
      expect(await renewals()).toEqual([]);
    });
  });
});
