// The citizen portal's first load must stay light for cheap phones on slow networks: every script
// the browser fetches for the sign-in page, and for the file-a-complaint page, fresh (no cache),
// compressed as the server would send it, stays under 200 KB; and none carries a heavy library
// that belongs behind a lazy import (charts, JSON-schema forms, graph layout).
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, phoneContext, servePlatform, watchErrors, type ServedPlatform } from './browser.js';
import { login, post } from '../helpers.js';

const BUDGET = 200 * 1024;

/** Strings that survive minification in each heavy library the apps use elsewhere. */
const HEAVY = [
  { library: 'chart.js', marker: "can't acquire context from the given item" },
  { library: '@rjsf', marker: 'ui:widget' },
  { library: '@dagrejs/dagre', marker: 'Not possible to find intersection inside of the rectangle' },
];

let served: ServedPlatform;
let browser: Browser;

beforeAll(async () => {
  served = await servePlatform();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await served?.close();
});

/** Every JavaScript body the page receives (as decoded by the browser), by URL. */
function collectScripts(page: Page): Map<string, Promise<Buffer>> {
  const scripts = new Map<string, Promise<Buffer>>();
  page.on('response', (response) => {
    const type = response.headers()['content-type'] ?? '';
    if (response.request().resourceType() === 'script' || type.includes('javascript')) scripts.set(response.url(), response.body());
  });
  return scripts;
}

async function measure(scripts: Map<string, Promise<Buffer>>): Promise<{ gzipped: number; bodies: Map<string, string> }> {
  let gzipped = 0;
  const bodies = new Map<string, string>();
  for (const [url, body] of scripts) {
    const bytes = await body;
    gzipped += zlib.gzipSync(bytes, { level: 9 }).length;
    bodies.set(url, bytes.toString('utf8'));
  }
  return { gzipped, bodies };
}

function expectLight(name: string, { gzipped, bodies }: { gzipped: number; bodies: Map<string, string> }) {
  console.log(`${name}: ${bodies.size} scripts, ${gzipped} bytes gzipped (budget ${BUDGET})`);
  expect(bodies.size).toBeGreaterThan(0);
  for (const [url, text] of bodies)
    for (const { library, marker } of HEAVY) expect(text.includes(marker), `${library} is in ${url}`).toBe(false);
  expect(gzipped).toBeLessThan(BUDGET);
}

describe("the citizen portal's first load", () => {
  it('stays under 200 KB of compressed JavaScript on the sign-in page and the file-a-complaint page', async () => {
    // Sign-in page, fresh profile.
    let context: BrowserContext = await phoneContext(browser, served.url);
    let page = await context.newPage();
    let errors = watchErrors(page);
    let scripts = collectScripts(page);
    await page.goto('/citizen/');
    await expect.poll(() => page.getByRole('button', { name: 'Send code' }).count()).toBe(1);
    expectLight('sign-in', await measure(scripts));
    expect(errors).toEqual([]);
    await context.close();

    // File-a-complaint page, fresh profile that is already signed in (the session the shell keeps).
    const password = 'Citizen@2026x';
    const created = await post(
      served.platform,
      '/user/users/_createnovalidate',
      {
        RequestInfo: {},
        user: {
          userName: '9876500002',
          name: 'Budget Citizen',
          password,
          type: 'CITIZEN',
          tenantId: 'pb',
          mobileNumber: '9876500002',
          roles: [{ code: 'CITIZEN', tenantId: 'pb' }],
        },
      },
      served.admin,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const token = await login(served.platform, '9876500002', password, 'pb', 'CITIZEN');
    expect(token.status).toBe(200);
    const session = { accessToken: token.body['access_token'], expiresAt: Date.now() + 3_600_000, user: token.body['UserRequest'] };
    context = await phoneContext(browser, served.url);
    await context.addInitScript({ content: `localStorage.setItem('plinth.citizen.session', ${JSON.stringify(JSON.stringify(session))});` });
    page = await context.newPage();
    errors = watchErrors(page);
    scripts = collectScripts(page);
    await page.goto('/citizen/complaints/new');
    await expect.poll(() => page.getByLabel('Complaint type').locator('option').count()).toBeGreaterThan(10);
    const filePage = await measure(scripts);
    // The page's own lazy chunk was loaded and counted, not only the shell.
    expect(filePage.bodies.size).toBeGreaterThan(1);
    expectLight('file-a-complaint', filePage);
    expect(errors).toEqual([]);
    await context.close();
  });
});
