import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, phoneContext, desktopContext, screenshot, servePlatform, watchErrors, type ServedPlatform } from './browser.js';
import { ADMIN_PASSWORD } from '../helpers.js';

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

describe('the web shell', () => {
  it('serves the apps: index.html for app paths, immutable pre-compressed assets, a strict content policy', async () => {
    const page = await fetch(`${served.url}/citizen/complaints/anything`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<div id="root">');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${served.url}${script}`, { headers: { 'accept-encoding': 'br' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-encoding')).toBe('br');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    await asset.arrayBuffer();
    for (const missing of ['..%2Fpackage.json', 'nothing-here.js']) {
      const answer = await fetch(`${served.url}/assets/${missing}`);
      expect(answer.status).toBe(404);
      await answer.arrayBuffer();
    }
    const root = await fetch(`${served.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/citizen/');
  });

  it('signs a citizen in with an OTP on a 360-px phone, switches to Hindi, and keeps the language', async () => {
    const context = await phoneContext(browser, served.url);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto('/citizen/');
    await expect.poll(() => page.url()).toContain('/citizen/login');
    await page.getByLabel('Mobile number').fill('12345');
    await page.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('10-digit mobile number');
    await page.getByLabel('Mobile number').fill('9812345670');
    await screenshot(page, 'shell-citizen-login');
    await page.getByRole('button', { name: 'Send code' }).click();
    // The first sign-in of a new number registers the citizen on DIGIT's rules; see the complaints tests.
    await page.getByLabel('One-time code').fill('000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/wrong|expired/);

    await page.getByLabel('Language').selectOption('hi_IN');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('साइन इन');
    await page.reload();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('साइन इन');
    expect(await page.evaluate('document.documentElement.lang')).toBe('hi');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('signs an employee in with a password, saying what is missing or wrong', async () => {
    const context = await desktopContext(browser, served.url);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto('/employee/');
    await expect.poll(() => page.url()).toContain('/employee/login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByText('This field is required.').count()).toBe(2);
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').count()).toBeGreaterThan(0);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Home');
    await screenshot(page, 'shell-employee-home');

    expect(errors).toEqual([]);
    await context.close();
  });
});
