import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { desktopContext, launchBrowser, phoneContext, screenshot, servePlatform, watchErrors, type ServedPlatform } from './browser.js';
import { ADMIN_PASSWORD, login, post, requestInfo } from '../helpers.js';

// Complaints filed and resolved through the API at chosen times (the platform's clock is moved),
// then an official reads the dashboards in the employee app and filters them by complaint type.

type Json = Record<string, unknown>;

const HOUR = 3_600_000;
const PASSWORD = 'Field@2026x';
/** Two days ago on the hour: inside the dashboards' default period (the last 30 days). */
const BASE = Math.floor((Date.now() - 48 * HOUR) / HOUR) * HOUR;
let time = BASE;
const clock = { now: () => time };

let served: ServedPlatform;
let browser: Browser;

async function person(
  userName: string,
  type: 'EMPLOYEE' | 'CITIZEN',
  roles: readonly string[],
  mobileNumber: string,
): Promise<{ uuid: string; auth(): Promise<Record<string, string>> }> {
  const tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar';
  const created = await post(
    served.platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: {
        userName,
        name: `Person ${userName}`,
        password: PASSWORD,
        type,
        tenantId,
        mobileNumber,
        roles: roles.map((code) => ({ code, tenantId })),
      },
    },
    served.admin,
  );
  if (created.status !== 200) throw new Error(`creating ${userName}: ${JSON.stringify(created.body)}`);
  return {
    uuid: String((created.body['user'] as Json[])[0]!['uuid']),
    // A fresh sign-in each time: the clock moves by more than a token lives.
    async auth() {
      const answer = await login(served.platform, userName, PASSWORD, tenantId, type);
      if (answer.status !== 200) throw new Error(`login of ${userName}: ${JSON.stringify(answer.body)}`);
      return { authorization: `Bearer ${String(answer.body['access_token'])}` };
    },
  };
}

beforeAll(async () => {
  served = await servePlatform({ clock });
  browser = await launchBrowser();

  const citizen = await person('9871000001', 'CITIZEN', ['CITIZEN'], '9871000001');
  const gro = await person('dash_web_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9871000002');
  const lme = await person('dash_web_lme', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9871000003');
  const file = async (serviceCode: string, locality: string) => {
    const res = await post(
      served.platform,
      '/pgr-services/v2/request/_create',
      {
        RequestInfo: requestInfo,
        service: { tenantId: 'pb.amritsar', serviceCode, description: 'for the dashboards', address: { locality: { code: locality } } },
        workflow: { action: 'APPLY' },
      },
      await citizen.auth(),
    );
    if (res.status !== 200) throw new Error(`filing: ${JSON.stringify(res.body)}`);
    return String(((res.body['ServiceWrappers'] as Json[])[0]!['service'] as Json)['serviceRequestId']);
  };
  const act = async (who: typeof gro, serviceRequestId: string, workflow: Json) => {
    const res = await post(
      served.platform,
      '/pgr-services/v2/request/_update',
      { RequestInfo: requestInfo, service: { tenantId: 'pb.amritsar', serviceRequestId }, workflow },
      await who.auth(),
    );
    if (res.status !== 200) throw new Error(`${String(workflow['action'])}: ${JSON.stringify(res.body)}`);
  };

  // Three street-light complaints and one garbage complaint; one of each is resolved, after 10 and 30 hours.
  const light = await file('StreetLightNotWorking', 'SUN04');
  await file('StreetLightNotWorking', 'SUN04');
  await file('StreetLightNotWorking', 'SUN11');
  const garbage = await file('GarbageNeedsTobeCleared', 'SUN04');
  time = BASE + HOUR;
  await act(gro, light, { action: 'ASSIGN', assignes: [lme.uuid] });
  await act(gro, garbage, { action: 'ASSIGN', assignes: [lme.uuid] });
  time = BASE + 10 * HOUR;
  await act(lme, light, { action: 'RESOLVE' });
  time = BASE + 30 * HOUR;
  await act(lme, garbage, { action: 'RESOLVE' });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
});

/** The value shown beside a figure's label. */
const figure = (page: Page, label: string) => page.locator('dt', { hasText: label }).locator('xpath=following-sibling::dd').textContent();

async function signIn(page: Page): Promise<void> {
  await page.goto('/employee/');
  await expect.poll(() => page.url()).toContain('/employee/login');
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Home');
}

describe('the complaint dashboards', () => {
  it('show an official the figures, charts and tables of the complaints, on a 360-px phone, and follow the type filter', async () => {
    const context = await phoneContext(browser, served.url);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signIn(page);
    await page.getByRole('link', { name: 'Complaint dashboards' }).first().click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Complaint dashboards');
    await page.getByLabel('City').selectOption('pb.amritsar');

    await expect.poll(() => figure(page, 'Total complaints')).toBe('4');
    expect(await figure(page, 'Open')).toBe('2');
    expect(await figure(page, 'Resolved')).toBe('2');
    expect(await figure(page, 'Closed')).toBe('0');
    expect(await figure(page, 'Average resolution time')).toBe('20 h');
    expect(await figure(page, 'Median resolution time')).toBe('20 h');
    // Every chart is a labelled image with its figures in a table.
    await expect.poll(() => page.getByRole('img', { name: /^Chart: / }).count()).toBe(4);

    await page.getByText('Show as a table Complaints by type').click();
    const byType = page.getByRole('table', { name: 'Complaints by type' });
    await expect
      .poll(() => byType.getByRole('row').allTextContents())
      .toEqual(['Complaint typeComplaints', expect.stringMatching(/^Street.*3$/), expect.stringMatching(/^Garbage.*1$/)]);
    await page.getByText('Show as a table Complaints by status').click();
    const byStatus = page.getByRole('table', { name: 'Complaints by status' });
    await expect.poll(() => byStatus.getByRole('row').count()).toBe(3);
    expect(await byStatus.getByRole('row').allTextContents()).toEqual([
      'StatusComplaints',
      expect.stringMatching(/2$/),
      expect.stringMatching(/2$/),
    ]);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await screenshot(page, 'dashboards-phone');

    await page.getByLabel('Complaint type', { exact: true }).selectOption('StreetLightNotWorking');
    await expect.poll(() => figure(page, 'Total complaints')).toBe('3');
    expect(await figure(page, 'Open')).toBe('2');
    expect(await figure(page, 'Resolved')).toBe('1');
    expect(await figure(page, 'Average resolution time')).toBe('10 h');
    await expect.poll(() => byType.getByRole('row').count()).toBe(2);

    await page.getByLabel('Locality', { exact: true }).selectOption('SUN11');
    await expect.poll(() => figure(page, 'Total complaints')).toBe('1');
    expect(await figure(page, 'Average resolution time')).toBe('None resolved yet');
    await screenshot(page, 'dashboards-phone-filtered');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('say when the period is turned around, and draw the charts side by side on a desktop', async () => {
    const context = await desktopContext(browser, served.url);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signIn(page);
    await page.goto('/employee/dashboards');
    await page.getByLabel('City').selectOption('pb.amritsar');
    await page.getByLabel('Complaint type', { exact: true }).selectOption('');
    await page.getByLabel('Locality', { exact: true }).selectOption('');
    await expect.poll(() => figure(page, 'Total complaints')).toBe('4');
    await screenshot(page, 'dashboards-desktop');

    await page.getByLabel('From').fill('2030-01-02');
    await page.getByLabel('To').fill('2030-01-01');
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('start date must not be after the end date');
    expect(errors).toEqual([]);
    await context.close();
  });
});
