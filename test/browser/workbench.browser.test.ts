import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { desktopContext, launchBrowser, phoneContext, screenshot, servePlatform, watchErrors, type ServedPlatform } from './browser.js';

type Json = Record<string, unknown>;

const PASSWORD = 'Field@2026x';
let served: ServedPlatform;
let browser: Browser;
let citizenAuth: Record<string, string>;
let lightId: string;
let roadId: string;
const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#36c' } }).jpeg().toBuffer();

async function api(path: string, body: Json, auth: Record<string, string> = {}): Promise<Json> {
  const response = await fetch(`${served.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ RequestInfo: {}, ...body }) });
  const json = (await response.json()) as Json;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function person(userName: string, name: string, type: 'EMPLOYEE' | 'CITIZEN', roles: string[], mobileNumber: string): Promise<Record<string, string>> {
  const tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar';
  await api('/user/users/_createnovalidate', { user: { userName, name, password: PASSWORD, type, tenantId, mobileNumber, roles: roles.map((code) => ({ code, tenantId })) } }, served.admin);
  const response = await fetch(`${served.url}/user/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: userName, password: PASSWORD, tenantId, userType: type, grant_type: 'password', scope: 'read' }),
  });
  const body = (await response.json()) as Json;
  return { authorization: `Bearer ${String(body['access_token'])}` };
}

async function file(serviceCode: string, locality: string, photo?: string): Promise<string> {
  const body = await api(
    '/pgr-services/v2/request/_create',
    {
      service: { tenantId: 'pb.amritsar', serviceCode, description: 'The light by the school is out', source: 'web', address: { locality: { code: locality } } },
      workflow: { action: 'APPLY', ...(photo ? { verificationDocuments: [{ documentType: 'PHOTO', fileStoreId: photo }] } : {}) },
    },
    citizenAuth,
  );
  return String(((body['ServiceWrappers'] as Json[])[0]!['service'] as Json)['serviceRequestId']);
}

async function upload(auth: Record<string, string>): Promise<string> {
  const form = new FormData();
  form.set('tenantId', 'pb.amritsar');
  form.set('module', 'PGR');
  form.set('file', new Blob([jpeg], { type: 'image/jpeg' }), 'light.jpg');
  const response = await fetch(`${served.url}/filestore/v1/files`, { method: 'POST', headers: auth, body: form });
  return ((await response.json()) as { files: { fileStoreId: string }[] }).files[0]!.fileStoreId;
}

async function signIn(page: Page, userName: string) {
  await expect.poll(() => page.url()).toContain('/employee/login');
  await page.getByLabel('User name').fill(userName);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('City').selectOption('pb.amritsar');
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const row = (page: Page, id: string) => page.getByRole('row').filter({ has: page.getByRole('link', { name: id }) });

beforeAll(async () => {
  served = await servePlatform();
  browser = await launchBrowser();
  citizenAuth = await person('9876501234', 'Asha Citizen', 'CITIZEN', ['CITIZEN'], '9876501234');
  await person('wb_gro', 'Gurpreet GRO', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9876501235');
  await person('wb_lme', 'Lakhan Lineman', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9876501236');
  lightId = await file('StreetLightNotWorking', 'SUN04', await upload(citizenAuth));
  roadId = await file('DamagedRoad', 'SUN11');
});
afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describe('the employee workbench', () => {
  it('takes a complaint from the GRO’s inbox to an LME, who resolves it with a comment and a photo', async () => {
    const context = await desktopContext(browser, served.url);
    const page = await context.newPage();
    const errors = watchErrors(page);

    // The GRO signs in and finds the complaint in the inbox, with its time left.
    await page.goto('/employee/');
    await signIn(page, 'wb_gro');
    await page.getByRole('link', { name: 'Complaint inbox' }).first().click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Complaint inbox');
    await expect.poll(() => row(page, lightId).count()).toBe(1);
    const cells = await row(page, lightId).getByRole('cell').allTextContents();
    expect(cells.slice(1)).toEqual(['Street light not working', 'Ajit Nagar', 'Waiting to be assigned', expect.stringMatching(/^13 days 23 hours left$/)]);
    await expect.poll(() => row(page, roadId).count()).toBe(1);
    await screenshot(page, 'workbench-inbox');

    // Filters: by type, then cleared.
    await page.getByLabel('Complaint type').selectOption('DamagedRoad');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => row(page, lightId).count()).toBe(0);
    expect(await row(page, roadId).count()).toBe(1);
    await page.getByLabel('Locality').selectOption('SUN04');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.getByText('Nothing to act on right now.').count()).toBe(1);
    await screenshot(page, 'workbench-inbox-filtered');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => row(page, lightId).count()).toBe(1);

    // The complaint: details, the citizen's photo, its history, and the GRO's actions.
    await page.getByRole('link', { name: lightId }).click();
    await expect.poll(() => page.getByRole('heading', { level: 2, name: lightId }).count()).toBe(1);
    await expect.poll(() => page.getByRole('img', { name: 'Photo 1' }).first().evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Resolve' }).count()).toBe(0);
    await screenshot(page, 'workbench-complaint-gro');

    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    // Checked before sending: the employee must be picked.
    await page.getByRole('button', { name: 'Send: Assign' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('Choose the employee');
    await expect.poll(() => page.getByLabel('Assign to').locator('option').allTextContents()).toContain('Lakhan Lineman');
    await page.getByLabel('Assign to').selectOption({ label: 'Lakhan Lineman' });
    await page.getByLabel('Comment').fill('Please replace the bulb');
    await screenshot(page, 'workbench-assign');
    await page.getByRole('button', { name: 'Send: Assign' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Done: Assign.' }).count()).toBe(1);
    await expect.poll(() => page.getByText('With the field team').count()).toBeGreaterThan(0);
    expect(await page.getByText('Assigned to Lakhan Lineman').count()).toBe(1);
    await screenshot(page, 'workbench-assigned');

    // Gone from the GRO's inbox.
    await page.getByRole('link', { name: 'Back to the inbox' }).click();
    await expect.poll(() => row(page, roadId).count()).toBe(1);
    expect(await row(page, lightId).count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();

    // The LME signs in and finds it in their inbox.
    const lmeContext = await desktopContext(browser, served.url);
    const lme = await lmeContext.newPage();
    const lmeErrors = watchErrors(lme);
    await lme.goto('/employee/complaints');
    await signIn(lme, 'wb_lme');
    await expect.poll(() => lme.url()).toMatch(/\/employee\/complaints$/);
    await expect.poll(() => row(lme, lightId).count()).toBe(1);
    expect(await row(lme, roadId).count()).toBe(0);
    await screenshot(lme, 'workbench-inbox-lme');
    await lme.getByRole('link', { name: lightId }).click();
    await lme.getByRole('button', { name: 'Resolve' }).click();
    await lme.getByLabel('Comment').fill('Replaced the bulb');
    await lme.getByLabel('Photo').setInputFiles({ name: 'fixed.jpg', mimeType: 'image/jpeg', buffer: jpeg });
    await screenshot(lme, 'workbench-resolve');
    await lme.getByRole('button', { name: 'Send: Resolve' }).click();
    await expect.poll(() => lme.getByRole('status').filter({ hasText: 'Done: Resolve.' }).count()).toBe(1);
    await expect.poll(() => lme.getByText('Comment: Replaced the bulb').count()).toBe(1);
    // The complaint now has both photos (the citizen's and the LME's), each shown again at its step of the history.
    await expect.poll(() => lme.getByRole('img').count()).toBe(4);
    await expect.poll(() => lme.getByRole('img', { name: 'Photo 2' }).first().evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    expect(await lme.getByText('There is nothing for you to do on this complaint now.').count()).toBe(1);
    await screenshot(lme, 'workbench-resolved');

    // The session ends on the server: the next call sends the LME to sign in, and back here.
    const session = JSON.parse((await lme.evaluate<string | null>("localStorage.getItem('plinth.employee.session')")) ?? '{}') as { accessToken: string };
    await api('/user/_logout', { access_token: session.accessToken });
    const here = new URL(lme.url()).pathname;
    await lme.reload();
    await expect.poll(() => lme.url()).toContain('/employee/login?next=');
    await expect.poll(() => lme.getByText('Your sign-in has ended', { exact: false }).count()).toBeGreaterThan(0);
    await screenshot(lme, 'workbench-session-expired');
    await lme.getByLabel('User name').fill('wb_lme');
    await lme.getByLabel('Password').fill(PASSWORD);
    await lme.getByLabel('City').selectOption('pb.amritsar');
    await lme.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => new URL(lme.url()).pathname).toBe(here);
    await expect.poll(() => lme.getByRole('heading', { level: 2, name: lightId }).count()).toBe(1);
    expect(lmeErrors).toEqual([]);
    await lmeContext.close();
  });

  it('shows the inbox as cards on a 360-px phone, without sideways scrolling', async () => {
    const context = await phoneContext(browser, served.url);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto('/employee/complaints');
    await signIn(page, 'wb_gro');
    await expect.poll(() => page.getByRole('link', { name: roadId }).count()).toBe(1);
    await expect.poll(() => page.getByText('Damaged road').count()).toBeGreaterThan(0);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await screenshot(page, 'workbench-inbox-phone');
    await page.getByRole('link', { name: roadId }).click();
    await page.getByRole('button', { name: 'Reject' }).click();
    // A rejection needs a reason.
    await page.getByRole('button', { name: 'Send: Reject' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('reason');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await screenshot(page, 'workbench-reject-phone');
    expect(errors).toEqual([]);
    await context.close();
  });
});
