// The life of a complaint through the web apps only, as the people involved see it: the citizen on a
// phone, the grievance officer and the lineman at their desks, an official in the admin console.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { desktopContext, launchBrowser, phoneContext, screenshot, servePlatform, watchErrors, type ServedPlatform } from './browser.js';
import { ADMIN_PASSWORD } from '../helpers.js';

type Json = Record<string, unknown>;

const PASSWORD = 'Field@2026x';
const MOBILE = '9876512345';
const NEW_LABEL = 'Street lamp is dark';
let served: ServedPlatform;
let browser: Browser;

async function api(path: string, body: Json, auth: Record<string, string>): Promise<Json> {
  const response = await fetch(`${served.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ RequestInfo: {}, ...body }) });
  const json = (await response.json()) as Json;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** People are set up by the administrator's API; everything they do afterwards goes through the pages. */
async function person(userName: string, name: string, type: 'EMPLOYEE' | 'CITIZEN', roles: string[], mobileNumber: string) {
  const tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar';
  await api('/user/users/_createnovalidate', { user: { userName, name, password: PASSWORD, type, tenantId, mobileNumber, roles: roles.map((code) => ({ code, tenantId })) } }, served.admin);
}

async function employeeSignIn(page: Page, userName: string, password: string, tenantId: string) {
  await page.goto('/employee/');
  await expect.poll(() => page.url()).toContain('/employee/login');
  await page.getByLabel('User name').fill(userName);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('City').selectOption(tenantId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Home');
}

/** Opens the complaint from the employee's inbox (which lists only what their roles can act on). */
async function openFromInbox(page: Page, number: string) {
  await page.getByRole('navigation').getByRole('link', { name: 'Complaint inbox' }).click();
  const link = page.getByRole('row').getByRole('link', { name: number });
  await expect.poll(() => link.count(), { timeout: 15_000 }).toBe(1);
  await link.click();
  await expect.poll(() => page.getByRole('heading', { level: 2, name: number }).count()).toBe(1);
}

beforeAll(async () => {
  served = await servePlatform();
  browser = await launchBrowser();
  await person(MOBILE, 'Asha Rani', 'CITIZEN', ['CITIZEN'], MOBILE);
  await person('life_gro', 'Gurpreet Kaur', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9876512346');
  await person('life_lme', 'Lakhan Singh', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9876512347');
});
afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describe('the life of a complaint through the web apps', () => {
  it('is filed with a photo by a citizen, assigned and resolved from the inbox, rated in Hindi, and relabelled by an official', async () => {
    // The citizen signs in with the code sent by SMS and files a complaint with a photo.
    const citizen = await (await phoneContext(browser, served.url)).newPage();
    const citizenErrors = watchErrors(citizen);
    await citizen.goto('/citizen/');
    await citizen.getByLabel('Mobile number').fill(MOBILE);
    await citizen.getByRole('button', { name: 'Send code' }).click();
    // The code field appears once the server has sent the SMS.
    await citizen.getByLabel('One-time code').waitFor();
    await citizen.getByLabel('One-time code').fill(served.otp(MOBILE));
    await screenshot(citizen, 'life-1-citizen-otp');
    await citizen.getByRole('button', { name: 'Sign in' }).click();
    await citizen.getByRole('main').getByRole('link', { name: 'File a complaint' }).click();
    await expect.poll(() => citizen.getByLabel('Complaint type').locator('option').count()).toBeGreaterThan(10);
    await citizen.getByLabel('Complaint type').selectOption({ label: 'Street light not working' });
    await citizen.getByLabel('Locality').selectOption({ label: 'Ajit Nagar' });
    const photo = await sharp({ create: { width: 48, height: 36, channels: 3, background: '#f2c230' } }).png().toBuffer();
    await citizen.getByLabel('Photo of the problem (optional)').setInputFiles({ name: 'lamp.png', mimeType: 'image/png', buffer: photo });
    await citizen.getByLabel('What is the problem?').fill('The lamp at the park gate has been dark for a week');
    await screenshot(citizen, 'life-2-citizen-files');
    await citizen.getByRole('button', { name: 'Submit complaint' }).click();
    await expect.poll(() => citizen.getByRole('heading', { name: 'Your complaint has been filed' }).count()).toBe(1);
    const number = (await citizen.locator('.cz-number').textContent())!.trim();
    expect(number).toMatch(/^PB-PGR-/);
    await screenshot(citizen, 'life-3-citizen-filed');

    // The grievance officer finds it in the inbox and assigns it to the lineman.
    const gro = await (await desktopContext(browser, served.url)).newPage();
    const groErrors = watchErrors(gro);
    await employeeSignIn(gro, 'life_gro', PASSWORD, 'pb.amritsar');
    await openFromInbox(gro, number);
    await expect.poll(() => gro.getByRole('img', { name: 'Photo 1' }).first().evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(48);
    await gro.getByRole('button', { name: 'Assign', exact: true }).click();
    await expect.poll(() => gro.getByLabel('Assign to').locator('option').allTextContents()).toContain('Lakhan Singh');
    await gro.getByLabel('Assign to').selectOption({ label: 'Lakhan Singh' });
    await screenshot(gro, 'life-4-gro-assigns');
    await gro.getByRole('button', { name: 'Send: Assign' }).click();
    await expect.poll(() => gro.getByRole('status').filter({ hasText: 'Done: Assign.' }).count()).toBe(1);

    // The lineman finds it in their inbox and resolves it.
    const lme = await (await desktopContext(browser, served.url)).newPage();
    const lmeErrors = watchErrors(lme);
    await employeeSignIn(lme, 'life_lme', PASSWORD, 'pb.amritsar');
    await openFromInbox(lme, number);
    await lme.getByRole('button', { name: 'Resolve' }).click();
    await lme.getByLabel('Comment').fill('New lamp fitted');
    await screenshot(lme, 'life-5-lme-resolves');
    await lme.getByRole('button', { name: 'Send: Resolve' }).click();
    await expect.poll(() => lme.getByRole('status').filter({ hasText: 'Done: Resolve.' }).count()).toBe(1);

    // The citizen, now reading in Hindi, sees it resolved and rates it; it closes.
    await citizen.getByLabel('Language').selectOption('hi_IN');
    await citizen.goto('/citizen/complaints');
    const item = citizen.getByRole('listitem').filter({ hasText: number });
    await expect.poll(() => item.textContent()).toContain('समाधान हो गया');
    await item.getByRole('link').first().click();
    await expect.poll(() => citizen.locator('.cz-facts .status').textContent()).toBe('समाधान हो गया');
    await expect.poll(() => citizen.getByText('New lamp fitted').count()).toBe(1);
    await citizen.getByRole('group', { name: 'आपकी रेटिंग' }).getByRole('radio', { name: '5 में से 5' }).check();
    await screenshot(citizen, 'life-6-citizen-rates-hi');
    await citizen.getByRole('button', { name: 'रेटिंग भेजें' }).click();
    await expect.poll(() => citizen.locator('.cz-facts .status').textContent()).toBe('समाधान के बाद बंद');
    await screenshot(citizen, 'life-7-citizen-closed-hi');

    // An official renames the complaint type in English; the portal shows the new label.
    const official = await (await desktopContext(browser, served.url)).newPage();
    const officialErrors = watchErrors(official);
    await employeeSignIn(official, 'admin', ADMIN_PASSWORD, 'pb');
    await official.goto('/employee/admin/localization');
    await expect.poll(() => official.getByRole('heading', { level: 1 }).textContent()).toBe('Labels and translations');
    await official.getByLabel('Module', { exact: true }).selectOption('rainmaker-pgr');
    await official.getByLabel('Search by code or text').fill('SERVICEDEFS.STREETLIGHTNOTWORKING');
    await expect.poll(() => official.getByRole('button', { name: 'Edit SERVICEDEFS.STREETLIGHTNOTWORKING' }).count()).toBe(1);
    await official.getByRole('button', { name: 'Edit SERVICEDEFS.STREETLIGHTNOTWORKING' }).click();
    await official.getByLabel('Text', { exact: true }).fill(NEW_LABEL);
    await official.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => official.getByRole('status').filter({ hasText: 'SERVICEDEFS.STREETLIGHTNOTWORKING was saved' }).count()).toBe(1);
    await screenshot(official, 'life-8-official-relabels');

    await citizen.getByLabel('भाषा').selectOption('en_IN');
    await citizen.goto('/citizen/complaints');
    await expect.poll(() => citizen.getByRole('listitem').filter({ hasText: number }).textContent()).toContain(NEW_LABEL);
    await citizen.goto('/citizen/complaints/new');
    await expect.poll(() => citizen.getByLabel('Complaint type').locator('option').allTextContents()).toContain(NEW_LABEL);
    expect(await citizen.getByLabel('Complaint type').locator('option').allTextContents()).not.toContain('Street light not working');
    await screenshot(citizen, 'life-9-citizen-new-label');

    expect([...citizenErrors, ...groErrors, ...lmeErrors, ...officialErrors]).toEqual([]);
  });
});
