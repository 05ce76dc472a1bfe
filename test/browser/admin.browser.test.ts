import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { desktopContext, launchBrowser, screenshot, servePlatform, watchErrors, type ServedPlatform } from './browser.js';
import { ADMIN_PASSWORD, post } from '../helpers.js';

let served: ServedPlatform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];
/** Every call to the MDMS writes the pages made, to prove a refused form sent nothing. */
const mdmsWrites: string[] = [];

type Json = Record<string, unknown>;

beforeAll(async () => {
  served = await servePlatform();
  browser = await launchBrowser();
  context = await desktopContext(browser, served.url);
  page = await context.newPage();
  errors = watchErrors(page);
  // CSP violations (an eval, an inline style) surface as console errors: none may happen.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|unsafe-eval/i.test(message.text())) errors.push(message.text());
  });
  page.on('request', (request) => {
    if (/\/mdms-v2\/v2\/_(create|update)\//.test(request.url())) mdmsWrites.push(request.url());
  });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await served?.close();
});

async function streetlightRecord(): Promise<Json> {
  const { body } = await post(served.platform, '/mdms-v2/v2/_search', { RequestInfo: {}, MdmsCriteria: { tenantId: 'pb', schemaCode: 'RAINMAKER-PGR.ServiceDefs', uniqueIdentifiers: ['StreetLightNotWorking'] } });
  return ((body['mdms'] as Json[])[0]!['data'] as Json) ?? {};
}

describe('the admin console', () => {
  it('signs the admin in and browses the masters and the complaint types', async () => {
    await page.goto('/employee/admin/mdms');
    await expect.poll(() => page.url()).toContain('/employee/login');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Master data');
    await expect.poll(() => page.getByRole('link', { name: 'RAINMAKER-PGR.ServiceDefs' }).count()).toBe(1);
    await page.getByLabel('Filter masters').fill('servicedefs');
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    await screenshot(page, 'admin-mdms-masters');

    await page.getByRole('link', { name: 'RAINMAKER-PGR.ServiceDefs' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Master records');
    await expect.poll(() => page.getByRole('link', { name: 'Edit record StreetLightNotWorking' }).count()).toBe(1);
    await screenshot(page, 'admin-mdms-records');
  });

  it('edits a complaint type: a bad value is refused at the field and nothing is sent; a good one is saved', async () => {
    await page.getByRole('link', { name: 'Edit record StreetLightNotWorking' }).click();
    const sla = page.getByLabel('Hours to resolve (SLA)');
    await expect.poll(() => sla.count()).toBe(1);
    await sla.fill('0');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'Must be at least 1.' }).count()).toBe(1);
    // The message is the field's description, for screen readers.
    const described = (await sla.getAttribute('aria-describedby')) ?? '';
    const errorIds = described.split(' ').filter((id) => id.endsWith('__error'));
    expect(errorIds.length).toBe(1);
    expect(await page.locator(`[id="${errorIds[0]}"]`).textContent()).toContain('Must be at least 1.');
    await screenshot(page, 'admin-mdms-editor-invalid');
    expect(mdmsWrites).toEqual([]);

    // A department that does not exist passes the schema but not the server's x-ref-schema check.
    await sla.fill('48');
    await page.getByLabel('Department').fill('DEPT_NOPE');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'DEPT_NOPE' }).count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByText('The record was not saved: see the marked fields.').count()).toBe(1);
    expect(mdmsWrites.length).toBe(1);
    expect((await streetlightRecord())['slaHours']).not.toBe(48);
    await screenshot(page, 'admin-mdms-editor-refused');

    await page.getByLabel('Department').fill('DEPT_1');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'The record was saved.' }).count()).toBe(1);
    expect((await streetlightRecord())['slaHours']).toBe(48);
    await screenshot(page, 'admin-mdms-editor-saved');
  });

  it('changes the English label of a complaint type, and the citizen portal reads the new text on its next load', async () => {
    await page.goto('/employee/admin/localization');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Labels and translations');
    await page.getByLabel('Module', { exact: true }).selectOption('rainmaker-pgr');
    await page.getByLabel('Search by code or text').fill('STREETLIGHTNOTWORKING');
    await expect.poll(() => page.getByRole('button', { name: 'Edit SERVICEDEFS.STREETLIGHTNOTWORKING' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Edit SERVICEDEFS.STREETLIGHTNOTWORKING' }).click();
    const text = page.getByLabel('Text', { exact: true });
    await text.fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'This field is required.' }).count()).toBe(1);
    await text.fill('Street lamp is dark');
    await screenshot(page, 'admin-localization-edit');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'SERVICEDEFS.STREETLIGHTNOTWORKING was saved' }).count()).toBe(1);
    await expect.poll(() => page.getByRole('cell', { name: 'Street lamp is dark' }).count()).toBe(1);
    await screenshot(page, 'admin-localization-saved');

    // What the portal asks for on load: the new text, the cached list having been dropped.
    const citizen = await browser.newContext({ baseURL: served.url });
    const portal = await citizen.newPage();
    const labels = portal.waitForResponse((r) => r.url().includes('/localization/messages/v1/_search') && r.url().includes('rainmaker-pgr'));
    await portal.goto('/citizen/');
    const answer = (await (await labels).json()) as { messages: { code: string; message: string }[] };
    expect(answer.messages.find((m) => m.code === 'SERVICEDEFS.STREETLIGHTNOTWORKING')?.message).toBe('Street lamp is dark');
    // The complaint form (another engineer's page) shows the types once it exists.
    await portal.goto('/citizen/complaints/new');
    if ((await portal.getByText('Street light not working').count()) + (await portal.getByText('Street lamp is dark').count()) > 0) {
      await expect.poll(() => portal.getByText('Street lamp is dark').count()).toBeGreaterThan(0);
      expect(await portal.getByText('Street light not working').count()).toBe(0);
    }
    await citizen.close();
  });

  it('creates an employee with roles, labelled from localization, and changes the roles', async () => {
    await page.goto('/employee/admin/users/new');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('New employee');
    await page.getByRole('button', { name: 'Create employee' }).click();
    await expect.poll(() => page.getByText('This field is required.').count()).toBe(4);
    await page.getByLabel('User name').fill('amritsar.clerk');
    await page.getByLabel('Full name').fill('Asha Clerk');
    await page.getByLabel('Mobile number').fill('9876501234');
    await page.getByLabel('Password').fill('Clerk#2024pass');
    await expect.poll(() => page.getByLabel('City').locator('option').count()).toBeGreaterThan(1);
    await page.getByLabel('City').selectOption('pb.amritsar');
    await page.getByRole('checkbox', { name: 'Grievance routing officer', exact: true }).check();
    await screenshot(page, 'admin-users-new');
    await page.getByRole('button', { name: 'Create employee' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Employee amritsar.clerk was created.' }).count()).toBe(1);
    expect(await page.getByRole('checkbox', { name: 'Grievance routing officer', exact: true }).isChecked()).toBe(true);
    await screenshot(page, 'admin-users-detail');

    const { body } = await post(served.platform, '/user/_search', { RequestInfo: {}, userName: 'amritsar.clerk', tenantId: 'pb.amritsar' }, served.admin);
    const created = (body['user'] as Json[])[0]!;
    expect(created['type']).toBe('EMPLOYEE');
    expect((created['roles'] as { code: string }[]).map((r) => r.code).sort()).toEqual(['EMPLOYEE', 'GRO']);

    await page.getByRole('checkbox', { name: 'Grievance routing officer', exact: true }).uncheck();
    await page.getByRole('checkbox', { name: 'Customer support representative', exact: true }).check();
    await page.getByRole('button', { name: 'Save roles' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'The roles were saved.' }).count()).toBe(1);
    const again = await post(served.platform, '/user/_search', { RequestInfo: {}, userName: 'amritsar.clerk', tenantId: 'pb.amritsar' }, served.admin);
    expect((((again.body['user'] as Json[])[0]!['roles']) as { code: string }[]).map((r) => r.code).sort()).toEqual(['CSR', 'EMPLOYEE']);

    await page.getByRole('link', { name: 'Find users' }).click();
    await page.getByLabel('User name').fill('amritsar.clerk');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'amritsar.clerk' }).count()).toBe(1);
    await screenshot(page, 'admin-users-search');
  });

  it('shows the PGR workflow as a diagram with a table of its transitions', async () => {
    await page.goto('/employee/admin/workflows/PGR');
    await expect.poll(() => page.getByRole('img', { name: /States of workflow PGR/ }).count()).toBe(1);
    const svg = page.getByRole('img', { name: /States of workflow PGR/ });
    expect(await svg.locator('g.node').count()).toBeGreaterThan(5);
    expect(await svg.locator('g.edge').count()).toBeGreaterThan(5);
    const assign = page.getByRole('row').filter({ hasText: 'Waiting to be assigned' }).filter({ has: page.getByRole('cell', { name: 'Assign', exact: true }) });
    await expect.poll(() => assign.count()).toBe(1);
    expect(await assign.textContent()).toContain('With the field team');
    await screenshot(page, 'admin-workflows-pgr');
    expect(errors).toEqual([]);
  });
});
