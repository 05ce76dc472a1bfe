// The citizen portal on a 360-px phone: registration with OTPs, filing a complaint with a photo
// (refusals at the fields, a network failure that keeps the draft), following it, rating it in
// Hindi after an employee resolved it, and the in-app notifications.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, phoneContext, screenshot, servePlatform, watchErrors, type ServedPlatform } from './browser.js';
import { login, post, requestInfo } from '../helpers.js';

type Json = Record<string, unknown>;
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

const MOBILE = '9876500001';
const DESCRIPTION = 'The street light near the gurdwara gate has been dark for a week';

const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();
const noSideScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

/** An employee of Amritsar who may assign and resolve (made through the API, as admin). */
async function employee(): Promise<{ auth: Record<string, string>; uuid: string }> {
  const password = 'Field@2026x';
  const created = await post(
    served.platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: {
        userName: 'citizen-test-lme',
        name: 'Field Worker',
        password,
        type: 'EMPLOYEE',
        tenantId: 'pb.amritsar',
        mobileNumber: '9812300000',
        roles: ['EMPLOYEE', 'GRO', 'PGR_LME'].map((code) => ({ code, tenantId: 'pb.amritsar' })),
      },
    },
    served.admin,
  );
  if (created.status !== 200) throw new Error(JSON.stringify(created.body));
  const { body } = await login(served.platform, 'citizen-test-lme', password, 'pb.amritsar');
  return {
    auth: { authorization: `Bearer ${String(body['access_token'])}` },
    uuid: String(((created.body['user'] as Json[])[0] as Json)['uuid']),
  };
}

async function act(auth: Record<string, string>, serviceRequestId: string, workflow: Json) {
  const answer = await post(
    served.platform,
    '/pgr-services/v2/request/_update',
    { RequestInfo: requestInfo, service: { tenantId: 'pb.amritsar', serviceRequestId }, workflow },
    auth,
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

describe('the citizen portal', () => {
  it('registers a citizen, files a complaint with a photo, follows it, rates it in Hindi and lists the notifications', async () => {
    const context = await phoneContext(browser, served.url);
    const page = await context.newPage();
    const errors = watchErrors(page);
    const uploads: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/filestore/v1/files') && r.method() === 'POST') uploads.push(r.url());
    });

    // Registration: name and number, the registration code, then the sign-in code.
    await page.goto('/citizen/');
    await expect.poll(() => page.url()).toContain('/citizen/login');
    await screenshot(page, 'citizen-login');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => page.getByText('Enter your name').count()).toBe(1);
    await page.getByLabel('Your name').fill('Asha Rani');
    await page.getByLabel('Mobile number').fill(MOBILE);
    await screenshot(page, 'citizen-register');
    await page.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain(MOBILE);
    const registrationCode = served.otp(MOBILE);
    await page.getByLabel('One-time code').fill(registrationCode === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Register' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/wrong|expired/);
    await page.getByLabel('One-time code').fill(registrationCode);
    await page.getByRole('button', { name: 'Register' }).click();
    await expect.poll(() => page.getByText('You are registered').count()).toBe(1);
    await expect.poll(() => served.otp(MOBILE)).not.toBe(registrationCode);
    await page.getByLabel('One-time code').fill(served.otp(MOBILE));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => heading(page)).toBe('Home');
    await expect.poll(() => page.getByText('Welcome, Asha Rani.').count()).toBe(1);
    await screenshot(page, 'citizen-home');
    const user = await post(
      served.platform,
      '/user/_search',
      { RequestInfo: {}, mobileNumber: MOBILE, userType: 'CITIZEN', tenantId: 'pb' },
      served.admin,
    );
    expect((user.body['user'] as Json[])[0]).toMatchObject({ name: 'Asha Rani', locale: 'en_IN' });

    // My complaints, empty.
    await page.getByRole('main').getByRole('link', { name: 'My complaints' }).click();
    await expect.poll(() => page.getByText('You have not filed any complaints yet.').count()).toBe(1);
    await screenshot(page, 'citizen-my-complaints-empty');

    // Filing: the form's own checks first.
    await page.getByRole('main').getByRole('link', { name: 'File a complaint' }).click();
    await expect.poll(() => heading(page)).toBe('File a complaint');
    await expect.poll(() => page.getByLabel('Complaint type').locator('option').count()).toBeGreaterThan(10);
    await page.getByRole('button', { name: 'Submit complaint' }).click();
    await expect.poll(() => page.getByText('Please choose a complaint type.').count()).toBe(1);
    await expect.poll(() => page.getByText('Please choose the locality.').count()).toBe(1);
    expect(await page.getByLabel('Complaint type').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Complaint type').selectOption({ label: 'Street light not working' });
    // The demo's one city with localities is chosen already.
    expect(await page.getByLabel('City').inputValue()).toBe('pb.amritsar');
    await page.getByLabel('Locality').selectOption({ label: 'Ajit Nagar' });

    // Photos: a non-image and a too-large file are refused before any upload.
    await page
      .getByLabel('Photo of the problem (optional)')
      .setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
    await expect.poll(() => page.getByText('This file is not a photo.').count()).toBe(1);
    await page
      .getByLabel('Photo of the problem (optional)')
      .setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(5 * 1024 * 1024 + 1) });
    await expect.poll(() => page.getByText('This photo is larger than 5 MB.').count()).toBe(1);
    await screenshot(page, 'citizen-file-complaint-refused-photo');
    expect(uploads).toEqual([]);
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3a7' } })
      .png()
      .toBuffer();
    await page.getByLabel('Photo of the problem (optional)').setInputFiles({ name: 'light.png', mimeType: 'image/png', buffer: png });
    await expect
      .poll(() => page.getByRole('img', { name: 'The photo you chose' }).evaluate((img) => (img as HTMLImageElement).naturalWidth))
      .toBe(40);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.getByLabel('What is the problem?').fill(DESCRIPTION);

    // The server's refusal lands at the field it names (a locality code the city does not have).
    await page.route('**/pgr-services/v2/request/_create', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as { service: { address: { locality: { code: string } } } };
      body.service.address.locality.code = 'NOWHERE';
      await route.continue({ postData: JSON.stringify(body) });
    });
    await page.getByRole('button', { name: 'Submit complaint' }).click();
    await expect.poll(() => page.getByLabel('Locality').getAttribute('aria-invalid')).toBe('true');
    expect(
      await page
        .locator('.field', { has: page.getByLabel('Locality') })
        .getByRole('alert')
        .textContent(),
    ).toContain('NOWHERE');
    await page.unrouteAll();

    // A network failure says so and keeps what was typed.
    await page.route('**/pgr-services/v2/request/_create', (route) => route.abort('internetdisconnected'));
    await page.getByRole('button', { name: 'Submit complaint' }).click();
    await expect.poll(() => page.getByText('Could not reach the server').count()).toBe(1);
    expect(await page.getByLabel('What is the problem?').inputValue()).toBe(DESCRIPTION);
    await screenshot(page, 'citizen-file-complaint-network');
    await page.unrouteAll();

    const sent = page.waitForRequest((r) => r.url().includes('/pgr-services/v2/request/_create'));
    await page.getByRole('button', { name: 'Submit complaint' }).click();
    const body = JSON.parse((await sent).postData() ?? '{}') as {
      service: Json;
      workflow: { action: string; verificationDocuments: Json[] };
    };
    expect(body.workflow.action).toBe('APPLY');
    expect(body.workflow.verificationDocuments).toEqual([{ documentType: 'PHOTO', fileStoreId: expect.any(String) }]);
    expect(body.service).toMatchObject({
      tenantId: 'pb.amritsar',
      serviceCode: 'StreetLightNotWorking',
      description: DESCRIPTION,
      address: { locality: { code: 'SUN04' } },
    });
    // The photo travelled once, though the complaint was sent three times.
    expect(uploads).toHaveLength(1);
    await expect.poll(() => heading(page)).toBe('Your complaint has been filed');
    const number = (await page.locator('.cz-number').textContent()) ?? '';
    expect(number).not.toBe('');
    expect(await noSideScroll(page)).toBeLessThanOrEqual(360);
    await screenshot(page, 'citizen-complaint-filed');

    // My complaints: type, number, status, date.
    await page.getByRole('link', { name: 'My complaints' }).last().click();
    const item = page.getByRole('listitem').filter({ hasText: number });
    await expect.poll(() => item.textContent()).toContain('Street light not working');
    expect(await item.textContent()).toContain('Waiting to be assigned');
    expect(await item.locator('time').count()).toBe(1);
    expect(await noSideScroll(page)).toBeLessThanOrEqual(360);
    await screenshot(page, 'citizen-my-complaints');

    // The detail: status, locality, description, photo and history.
    await item.getByRole('link', { name: 'Street light not working' }).click();
    await expect.poll(() => heading(page)).toBe('Complaint details');
    await expect.poll(() => page.getByText('Ajit Nagar').count()).toBe(1);
    expect(await page.getByText(DESCRIPTION).count()).toBe(1);
    await expect
      .poll(() => page.getByRole('img', { name: 'Photo 1 of the complaint' }).evaluate((img) => (img as HTMLImageElement).naturalWidth))
      .toBeGreaterThan(0);
    await expect.poll(() => page.getByRole('list', { name: 'What has happened so far' }).textContent()).toContain('File complaint');
    expect(await page.getByRole('button', { name: 'Send rating' }).count()).toBe(0);
    expect(await noSideScroll(page)).toBeLessThanOrEqual(360);
    await screenshot(page, 'citizen-complaint-detail');

    // An employee assigns and resolves it; the citizen, in Hindi, sees it resolved and rates it.
    const worker = await employee();
    await act(worker.auth, number, { action: 'ASSIGN', assignes: [worker.uuid] });
    await act(worker.auth, number, { action: 'RESOLVE', comments: 'Bulb replaced' });
    await page.getByLabel('Language').selectOption('hi_IN');
    await page.reload();
    await expect.poll(() => heading(page)).toBe('शिकायत का विवरण');
    await expect.poll(() => page.locator('.cz-facts .status').textContent()).toBe('समाधान हो गया');
    await expect.poll(() => page.getByText('Bulb replaced').count()).toBe(1);
    await page.getByRole('button', { name: 'रेटिंग भेजें' }).click();
    await expect.poll(() => page.getByText('कृपया 1 से 5 तक रेटिंग चुनें।').count()).toBe(1);
    const stars = page.getByRole('group', { name: 'आपकी रेटिंग' });
    expect(await stars.getByRole('radio').count()).toBe(5);
    await stars.getByRole('radio', { name: '5 में से 4' }).check();
    await page.getByLabel('टिप्पणी (वैकल्पिक)').fill('Quick work');
    await screenshot(page, 'citizen-complaint-rate-hi');
    await page.getByRole('button', { name: 'रेटिंग भेजें' }).click();
    await expect.poll(() => page.locator('.cz-facts .status').textContent()).toBe('समाधान के बाद बंद');
    expect(await page.getByRole('button', { name: 'रेटिंग भेजें' }).count()).toBe(0);
    const closed = await post(
      served.platform,
      `/pgr-services/v2/request/_search?tenantId=pb.amritsar&serviceRequestId=${number}`,
      { RequestInfo: requestInfo },
      worker.auth,
    );
    expect(((closed.body['ServiceWrappers'] as Json[])[0] as { service: Json }).service).toMatchObject({
      applicationStatus: 'CLOSEDAFTERRESOLUTION',
      rating: 4,
    });
    await screenshot(page, 'citizen-complaint-closed-hi');

    // Notifications: the messages of each step, unread first, linked to the complaint; then read.
    await page.getByRole('navigation').getByRole('link', { name: 'सूचनाएँ' }).click();
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByRole('status').first().waitFor();
          return page.getByRole('list', { name: 'सूचनाएँ' }).getByRole('listitem').count();
          // The messages leave through the outbox, delivered in the background.
        },
        { timeout: 30_000 },
      )
      .toBeGreaterThanOrEqual(3);
    expect(await page.getByText('नई').count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'शिकायत देखें' }).count()).toBeGreaterThanOrEqual(3);
    expect(await noSideScroll(page)).toBeLessThanOrEqual(360);
    await screenshot(page, 'citizen-notifications-hi');
    await page.getByRole('button', { name: 'सभी को पढ़ा हुआ मानें' }).click();
    await expect.poll(() => page.getByText('0 अपठित').count()).toBe(1);
    expect(await page.locator('.nt-unread').count()).toBe(0);
    await page.getByRole('link', { name: 'शिकायत देखें' }).first().click();
    await expect.poll(() => heading(page)).toBe('शिकायत का विवरण');

    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
