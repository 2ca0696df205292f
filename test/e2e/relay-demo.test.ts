/**
 * The relay's demo page in real headless Chromium against the real stack: two users sign in with
 * dev tokens; one types and sends, the other sees "typing" and then the message.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { launchBrowser } from '../helpers/browser.js';
import { ROOT, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { startApi, untilPushesArrive, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('demo');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('demo');
const url = `http://127.0.0.1:${stackEnv().API_PORT}`;
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
let browser: Browser;

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue);
  api = await createTestApi(config);
  const created = await api.app.request(`/v1/tenants/${tenant}/rooms/event/launch`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Launch party' }),
  });
  const { roomId } = (await created.json()) as { roomId: string };
  for (const [slug, name] of [
    ['alice', 'Alice'],
    ['bob', 'Bob'],
  ]) {
    const res = await api.app.request(`/v1/tenants/${tenant}/rooms/event/launch/members/${slug}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: name }),
    });
    expect(res.status).toBe(200);
  }
  await untilPushesArrive(api, config, roomId);
  browser = await launchBrowser();
}, 420_000);
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

/** Opens the demo in its own browser context and signs in as the user. */
async function signIn(slug: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 900, height: 600 } })).newPage();
  await page.goto(`${url}/demo/`);
  await page.fill('#token', await userToken(config, tenant, slug));
  await page.click('#signin-button');
  await page.waitForSelector('#status:text("live")');
  await page.waitForSelector('#rooms li:has-text("Launch party")');
  return page;
}

it('two users in Chromium: one types and sends, the other sees "typing" and then the message', async () => {
  const [alice, bob] = [await signIn('alice'), await signIn('bob')];
  await alice.click('#text');
  await alice.keyboard.type('Hello Bob', { delay: 30 });
  await bob.waitForSelector('#typing:text("Alice is typing…")', { timeout: 30_000 });
  await mkdir(`${ROOT}test-artifacts`, { recursive: true });
  await bob.screenshot({ path: `${ROOT}test-artifacts/relay-demo-typing.png` });

  await alice.keyboard.press('Enter');
  await bob.waitForSelector('#messages li:has-text("Hello Bob")', { timeout: 30_000 });
  // The typing line empties once Alice's "stopped typing" arrives.
  await bob.waitForSelector('#typing:empty', { state: 'attached', timeout: 30_000 });
  const line = bob.locator('#messages li:has-text("Hello Bob")');
  expect([await line.locator('.sender').textContent(), await line.locator('.body').textContent()]).toEqual([
    'Alice',
    'Hello Bob',
  ]);
  // Alice's own pending echo became the real message (no duplicate).
  await alice.waitForSelector('#messages li:not(.pending):has-text("Hello Bob")');
  expect(await alice.locator('#messages li:has-text("Hello Bob")').count()).toBe(1);

  await bob.screenshot({ path: `${ROOT}test-artifacts/relay-demo-bob.png` });
  await alice.screenshot({ path: `${ROOT}test-artifacts/relay-demo-alice.png` });
}, 180_000);
