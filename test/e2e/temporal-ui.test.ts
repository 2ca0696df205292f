/**
 * The operator's first move: open the Temporal UI of the local stack, search by tenant, and find
 * the workflows of a provisioning run — and only those —, each saying in a sentence what it is
 * for. Headless Chromium; screenshots kept in test-artifacts/.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { serve, type ServerType } from '@hono/node-server';
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { eventually, ROOT, stackEnv, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker, type RunningProcess } from '../helpers/processes.js';

const taskQueue = uniqueTaskQueue('ui');
const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, API_WAIT_MS: '60000' });
const tenant = uniqueTenant('ui');
const otherTenant = uniqueTenant('ui');
const UI = stackEnv().TEMPORAL_UI_URL;
let worker: RunningProcess;
let api: TestApi;
let server: ServerType | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!UI) throw new Error('TEMPORAL_UI_URL is not set: source the stack env (scripts/stack.sh writes it)');
  worker = await startWorker(taskQueue);
  api = await createTestApi(config);
  // The UI decodes our (encrypted) payloads through the API's /codec endpoint, at the API port it
  // was started with (scripts/stack.sh): serve the app there while the browser looks.
  server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: config.api.port }, () => resolve(s));
    s.once('error', reject);
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  await api?.close();
  await worker?.stop();
});

async function provision(t: string, slug: string): Promise<string> {
  const res = await api.post(`/v1/tenants/${t}/users`, { slug, displayName: slug[0]!.toUpperCase() + slug.slice(1) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { workflowId: string }).workflowId;
}

/** Loads the page until every id is listed (visibility trails the start by a moment). */
async function waitForListed(page: Page, url: string, ids: string[]): Promise<void> {
  await eventually(
    async () => {
      await page.goto(url, { waitUntil: 'load' });
      for (const id of ids) {
        const link = page.getByRole('link', { name: id, exact: true }).first();
        const listed = await link.waitFor({ state: 'visible', timeout: 10_000 }).then(
          () => true,
          () => false,
        );
        if (!listed) return false;
      }
      return true;
    },
    60_000,
    `the Temporal UI to list ${ids.join(', ')}`,
  );
}

/** Waits until some frame of the page shows `text` (the UI renders summaries and details in an iframe). */
async function showing(page: Page, text: string): Promise<void> {
  await eventually(
    async () => {
      for (const frame of page.frames())
        if ((await frame.innerText('body').catch(() => '')).includes(text)) return true;
      return false;
    },
    30_000,
    `the Temporal UI to show ${JSON.stringify(text)}`,
  );
}

it('finds the workflows of a provisioning run by tenant, and each says what it is for', async () => {
  const ids = [await provision(tenant, 'alice'), await provision(tenant, 'bob'), await provision(tenant, 'carol')];
  const foreign = await provision(otherTenant, 'alice');
  expect(ids).toEqual([`user:${tenant}:alice`, `user:${tenant}:bob`, `user:${tenant}:carol`]);

  const page = await browser!.newPage({ viewport: { width: 1600, height: 900 } });
  const search = `${UI}/namespaces/${config.temporal.namespace}/workflows?query=${encodeURIComponent(`Tenant="${tenant}"`)}`;
  await waitForListed(page, search, ids);
  // The search filters: another tenant's provisioning of a user with the same slug is not listed.
  expect(await page.getByRole('link', { name: foreign, exact: true }).count()).toBe(0);
  expect(await page.getByText(`${ids.length} Workflows`, { exact: true }).count()).toBe(1);
  await mkdir(`${ROOT}test-artifacts`, { recursive: true });
  await page.screenshot({ path: `${ROOT}test-artifacts/temporal-ui-${tenant}.png`, fullPage: true });

  // One of them, opened: its summary is a sentence (decoded through the codec endpoint).
  await page.getByRole('link', { name: ids[0]!, exact: true }).click();
  await page.getByRole('tab', { name: 'User Metadata' }).click();
  const summary = `Provision Matrix user @om_${tenant}_alice:localhost for ${tenant}/alice`;
  await showing(page, summary);
  await showing(page, `npm run cli -- user inspect alice --tenant ${tenant}`);
  await page.screenshot({ path: `${ROOT}test-artifacts/temporal-ui-${tenant}-alice.png`, fullPage: true });
  await page.close();
}, 180_000);
