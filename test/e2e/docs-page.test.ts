/**
 * The API docs page in real headless Chromium: Swagger UI renders every operation of the spec,
 * loading nothing from anywhere but this server (it works offline) and breaking no CSP rule.
 * The app needs no services for this: its backends are stand-ins (test/helpers/unit-app.ts).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { apiOperations } from '../../api/spec/openapi.js';
import { launchBrowser } from '../helpers/browser.js';
import { serviceLessApp } from '../helpers/unit-app.js';

let server: ServerType;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  const { app } = serviceLessApp();
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

it('renders every operation of the spec from this server alone, without errors', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page: ${String(e)}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`)) problems.push(`elsewhere: ${r.url()}`);
  });
  await page.goto(`${origin}/docs`);
  await page.waitForSelector('.opblock', { timeout: 30_000 });
  expect(await page.locator('.opblock').count()).toBe(apiOperations().length);
  expect(await page.locator('.info .title').first().textContent()).toContain('matrix-orchestrator');
  expect(problems).toEqual([]);
});
