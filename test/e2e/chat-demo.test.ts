/**
 * The chat demo page in real headless Chromium against the real stack (issue #19): two users, two
 * pages. An image one sends appears inline for the other (loaded through its signed URL), an edit
 * replaces the text, a reaction shows its count, a deletion removes the message, the unread badge of
 * the other room rises and clears when read, and search marks the match. Screenshots go to
 * test-artifacts/.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { launchBrowser } from '../helpers/browser.js';
import { eventually, ROOT, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { png } from '../helpers/png.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';
import { startApi, untilPushesArrive, userToken } from '../helpers/relay.js';

const taskQueue = uniqueTaskQueue('chat');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('chat');
const url = `http://127.0.0.1:${stackEnv().API_PORT}`;
const ART = `${ROOT}test-artifacts`;
let worker: RunningProcess;
let apiProcess: RunningProcess;
let api: TestApi;
let browser: Browser;

async function room(slug: string, name: string): Promise<string> {
  const created = await api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(created.status).toBe(200);
  for (const [user, displayName] of [
    ['alice', 'Alice'],
    ['bob', 'Bob'],
  ]) {
    const res = await api.app.request(`/v1/tenants/${tenant}/rooms/event/${slug}/members/${user}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ displayName }),
    });
    expect(res.status).toBe(200);
  }
  return ((await created.json()) as { roomId: string }).roomId;
}

beforeAll(async () => {
  worker = await startWorker(taskQueue);
  apiProcess = await startApi(Number(stackEnv().API_PORT), taskQueue);
  api = await createTestApi(config);
  const launch = await room('launch', 'Launch party');
  await room('after', 'After party');
  await untilPushesArrive(api, config, launch);
  browser = await launchBrowser();
  await mkdir(ART, { recursive: true });
}, 420_000);
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await apiProcess?.stop();
  await worker?.stop();
});

async function signIn(slug: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1000, height: 650 } })).newPage();
  await page.goto(`${url}/demo/`);
  await page.fill('#token', await userToken(config, tenant, slug));
  await page.click('#signin-button');
  await page.waitForSelector('#status:text("live")');
  await page.click('#rooms li:has-text("Launch party")');
  await page.waitForSelector('#rooms li.selected:has-text("Launch party")');
  return page;
}

const message = (page: Page, text: string) => page.locator(`#messages li:has(.body:text-is("${text}"))`);

it('two users: image inline, edit, reaction, deletion, unread badge, search', async () => {
  const [alice, bob] = [await signIn('alice'), await signIn('bob')];

  // An image: uploaded by Alice's page, shown inline on Bob's, its bytes served by a signed URL.
  await alice.setInputFiles('#file', { name: 'cat.png', mimeType: 'image/png', buffer: png(64, 48) });
  const img = bob.locator('#messages li img[alt="cat.png"]');
  await img.waitFor({ timeout: 60_000 });
  await eventually(
    async () =>
      (await img.evaluate((i) => (i as unknown as { complete: boolean; naturalWidth: number }).naturalWidth)) === 64,
    30_000,
    'the image to load through its signed URL',
  );
  expect(await img.getAttribute('src')).toMatch(/^\/v1\/media\/.+&sig=/);
  await bob.screenshot({ path: `${ART}/chat-demo-image.png` });

  // A message, then Alice edits it: Bob's page shows the new text once, marked edited.
  await alice.fill('#text', 'Hello Bob');
  await alice.press('#text', 'Enter');
  await message(bob, 'Hello Bob').waitFor({ timeout: 30_000 });
  await message(alice, 'Hello Bob').locator('button.edit').click();
  await alice.fill('#text', 'Hello Bob, edited');
  await alice.press('#text', 'Enter');
  await message(bob, 'Hello Bob, edited').locator('.edited').waitFor({ timeout: 30_000 });
  expect(await message(bob, 'Hello Bob').count()).toBe(0);

  // Bob reacts: Alice sees the count.
  await message(bob, 'Hello Bob, edited').locator('button.react').click();
  await message(alice, 'Hello Bob, edited').locator('.reactions button:text-is("👍 1")').waitFor({ timeout: 30_000 });
  await alice.screenshot({ path: `${ART}/chat-demo-edit-reaction.png` });

  // Alice deletes it: gone from Bob's page, shown as deleted.
  await message(alice, 'Hello Bob, edited').locator('button.delete').click();
  await bob
    .locator('#messages li.deleted .body:text-is("message deleted (deleted in the demo)")')
    .waitFor({ timeout: 30_000 });
  expect(await message(bob, 'Hello Bob, edited').count()).toBe(0);
  await bob.screenshot({ path: `${ART}/chat-demo-deleted.png` });

  // Bob had the room open throughout: what arrived there (an edit and a deletion too) is read.
  const open = bob.locator('#rooms li:has-text("Launch party") .badge');
  await eventually(async () => (await open.count()) === 0, 30_000, 'no badge on the room Bob has open');

  // Alice writes in the other room: Bob's badge there rises, and clears when he opens it.
  await alice.click('#rooms li:has-text("After party")');
  await alice.waitForSelector('#rooms li.selected:has-text("After party")');
  await alice.fill('#text', 'Psst, over here');
  await alice.press('#text', 'Enter');
  const badge = bob.locator('#rooms li:has-text("After party") .badge');
  await eventually(
    async () => (await badge.count()) > 0 && (await badge.textContent()) === '1',
    30_000,
    'a badge of 1',
  );
  await bob.screenshot({ path: `${ART}/chat-demo-unread.png` });
  await bob.click('#rooms li:has-text("After party")');
  await message(bob, 'Psst, over here').waitFor({ timeout: 30_000 });
  await badge.waitFor({ state: 'detached', timeout: 30_000 });

  // Search: the match found across Bob's rooms, the word marked.
  await bob.fill('#search', 'psst');
  await bob.press('#search', 'Enter');
  const hit = bob.locator('#results li:has-text("After party")');
  await hit.waitFor({ timeout: 30_000 });
  expect((await hit.locator('mark').textContent())?.toLowerCase()).toBe('psst');
  await bob.screenshot({ path: `${ART}/chat-demo-search.png` });
}, 300_000);
