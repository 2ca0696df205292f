/**
 * An event room's timers on the real stack (decision 0053), with short times: the tenant's policy
 * puts a reminder a minute before the start and read-only at the end; the worker is killed after
 * the timers are planned and started again after the reminder's time has passed. The reminder
 * still arrives on Synapse, once; at the end the room's power levels on Synapse are read-only for
 * members (a participant's send refused by the homeserver) while a host still posts. Cancel and
 * unarchive go through the API to Synapse too.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { matrixRequest } from '../../adapters/matrix/http.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { botView, roomMessages } from '../helpers/matrix.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('timers');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('tm');
let worker: RunningProcess | undefined;
let api: TestApi;

const req = async (method: string, path: string, body?: unknown): Promise<Response> =>
  api.app.request(path, {
    method,
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const room = (slug: string) => `/v1/tenants/${tenant}/rooms/event/${slug}`;

async function ok(res: Promise<Response>): Promise<Record<string, unknown>> {
  const r = await res;
  const body = (await r.json()) as Record<string, unknown>;
  if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(body)}`);
  return body;
}

/** The room's power levels as Synapse has them. */
const levels = (roomId: string) =>
  matrixRequest<{ events_default?: number; events?: Record<string, number>; users?: Record<string, number> }>(
    config.matrix.homeserverUrl,
    { method: 'GET', path: `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`, token: config.matrix.asToken },
  );

const reminders = async (roomId: string) => (await roomMessages(config, roomId)).filter((m) => m.body.startsWith('Reminder:'));

/** Sends as the member through the API (their own Matrix account). */
const sendAs = (slug: string, userSlug: string, txnId: string) =>
  req('POST', `${room(slug)}/messages`, { txnId, body: `hello from ${userSlug}`, userSlug });

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

describe('event timers on the real stack', () => {
  it('a reminder planned before a worker restart arrives once after it; read-only applies on Synapse at the end', async () => {
    await ok(req('PUT', `/v1/tenants/${tenant}/event-timers`, { reminderMinutes: [1], readOnlyAfterMinutes: 0 }));
    const t0 = Date.now();
    const startsAt = t0 + 80_000; // the reminder is due 20 s from now
    const endsAt = t0 + 100_000;
    const made = await ok(
      req('PUT', room('standup'), {
        name: 'Stand-up',
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(endsAt).toISOString(),
        timeZone: 'Europe/Berlin',
      }),
    );
    const roomId = made.roomId as string;
    await ok(req('PUT', `${room('standup')}/members/alice`, { role: 'host' }));
    await ok(req('PUT', `${room('standup')}/members/bob`, { role: 'participant' }));
    const view = await ok(req('GET', room('standup')));
    expect((view.time as { timers: Record<string, { done: boolean }> }).timers).toMatchObject({
      'reminder:1': { done: false },
      readOnly: { done: false },
    });

    // The worker dies with the timers planned, and stays down past the reminder's time.
    await worker!.stop('SIGKILL');
    worker = undefined;
    await new Promise((r) => setTimeout(r, Math.max(0, startsAt - 60_000 + 3_000 - Date.now())));
    expect(await reminders(roomId)).toEqual([]);
    worker = await startWorker(taskQueue);

    const [reminder] = await eventually(async () => {
      const r = await reminders(roomId);
      return r.length > 0 && r;
    }, 60_000, 'the reminder on Synapse');
    expect(reminder!.body).toMatch(/^Reminder: Stand-up starts .+ \(Europe\/Berlin\)\.$/);
    expect(Date.now()).toBeLessThan(startsAt);

    // Before the end: the participant may post; at the end, only hosts and moderators may.
    expect((await sendAs('standup', 'bob', 'before-end')).status).toBe(200);
    const pl = await eventually(async () => {
      const l = await levels(roomId);
      return l.events_default === 50 && l;
    }, endsAt - Date.now() + 60_000, 'read-only power levels on Synapse');
    expect(pl.events?.['m.room.message']).toBe(50);
    expect(Date.now()).toBeGreaterThanOrEqual(endsAt);
    const refused = await sendAs('standup', 'bob', 'after-end');
    expect(refused.status).toBe(403);
    expect((await sendAs('standup', 'alice', 'host-after-end')).status).toBe(200);

    // Still exactly one reminder, however the timers were replayed.
    expect(await reminders(roomId)).toHaveLength(1);
  }, 300_000);

  it('cancel posts the notice and archives on Synapse; unarchive reopens the same room with its members', async () => {
    const soon = Date.now() + 3_600_000;
    const made = await ok(
      req('PUT', room('picnic'), {
        name: 'Picnic',
        startsAt: new Date(soon).toISOString(),
        endsAt: new Date(soon + 3_600_000).toISOString(),
        timeZone: 'UTC',
      }),
    );
    const roomId = made.roomId as string;
    await ok(req('PUT', `${room('picnic')}/members/carol`, { role: 'participant' }));
    const cancelled = await ok(req('POST', `${room('picnic')}/cancel`, { reason: 'Rain all day.' }));
    expect(cancelled.actions).toEqual(expect.arrayContaining(['archived']));
    const notices = (await roomMessages(config, roomId)).filter((m) => m.body.includes('cancelled'));
    expect(notices.map((n) => n.body)).toEqual(['Picnic has been cancelled. Rain all day.']);
    const bot = botView(config);
    expect((await bot.joined(roomId)).length).toBe(1);
    expect((await req('PUT', `${room('picnic')}/members/dave`, { role: 'participant' })).status).toBe(409);

    const reopened = await ok(req('POST', `${room('picnic')}/unarchive`));
    expect(reopened.roomId).toBe(roomId);
    expect((await bot.joined(roomId)).length).toBe(2);
    expect((await ok(req('PUT', `${room('picnic')}/members/dave`, { role: 'participant' }))).roomId).toBe(roomId);
  }, 180_000);

  it('refuses a partial or impossible time with a 400 naming the field', async () => {
    const partial = await req('PUT', room('bad'), { startsAt: '2030-05-01T18:00:00Z' });
    expect(partial.status).toBe(400);
    expect(await partial.json()).toMatchObject({ errcode: 'M_INVALID_PARAM', error: expect.stringMatching(/missing field "endsAt"/) });
    const backwards = await req('PUT', room('bad'), { startsAt: '2030-05-01T18:00:00Z', endsAt: '2030-05-01T17:00:00Z', timeZone: 'UTC' });
    expect(await backwards.json()).toMatchObject({ errcode: 'M_INVALID_PARAM', error: expect.stringMatching(/"endsAt" must not be before/) });
    const group = await req('PUT', `/v1/tenants/${tenant}/rooms/group/g`, { startsAt: '2030-05-01T18:00:00Z', endsAt: '2030-05-01T19:00:00Z', timeZone: 'UTC' });
    expect(group.status).toBe(400);
    const policy = await req('PUT', `/v1/tenants/${tenant}/event-timers`, { reminderMinutes: [60, 60] });
    expect(await policy.json()).toMatchObject({ errcode: 'M_INVALID_PARAM', error: expect.stringMatching(/twice/) });
  });
});
