import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

let platform: TestPlatform;
let admin: Record<string, string>;
let now = Date.now();

beforeAll(async () => {
  platform = await testPlatform({ clock: { now: () => now }, config: { publicUrl: 'https://services.pb.gov.in', shortenerAllowedUrls: ['https://example.org'] } });
  admin = await adminAuth(platform);
});
afterAll(async () => platform?.drop());

const idOf = (short: string) => short.slice(short.lastIndexOf('/') + 1);

describe('egov-url-shortening over HTTP', () => {
  it('shortens as plain text and redirects (302) on both paths', async () => {
    const long = 'https://services.pb.gov.in/citizen/otpLogin?mobileNo=98&redirectTo=/pgr';
    const response = await platform.app.inject({
      method: 'POST',
      url: '/egov-url-shortening/shortener',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: { RequestInfo: requestInfo, url: long },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toMatch(/^https:\/\/services\.pb\.gov\.in\/eus\/[0-9A-Za-z]{9}$/);
    for (const base of ['/eus', '/egov-url-shortening']) {
      const redirect = await platform.app.inject({ method: 'GET', url: `${base}/${idOf(response.body)}` });
      expect(redirect.statusCode).toBe(302);
      expect(redirect.headers['location']).toBe(long);
    }
    const again = await platform.app.inject({ method: 'POST', url: '/eus/shortener', headers: { ...admin, 'content-type': 'application/json' }, payload: { url: long } });
    expect(again.statusCode).toBe(200);
    expect(again.body).not.toBe(response.body);
  });

  it('answers 404 for unknown, malformed and expired ids', async () => {
    for (const id of ['ZZZZZZZZZ', 'x', 'a%20b', '..x']) {
      const response = await platform.app.inject({ method: 'GET', url: `/eus/${id}` });
      expect(response.statusCode, id).toBe(404);
      expect(isDigitError(response.json())).toBe(true);
    }
    const link = await platform.shortUrl.shorten('https://example.org/soon-gone', { validTill: now + 1000 });
    expect((await platform.app.inject({ method: 'GET', url: `/eus/${idOf(link)}` })).statusCode).toBe(302);
    now += 2000;
    expect((await platform.app.inject({ method: 'GET', url: `/eus/${idOf(link)}` })).statusCode).toBe(404);
  });

  it('refuses URLs that are not http(s) with 400 and stores nothing', async () => {
    for (const url of ['javascript:alert(document.cookie)', 'data:text/html,<script>', 'not a url', 'file:///etc/passwd']) {
      const response = await post(platform, '/egov-url-shortening/shortener', { RequestInfo: requestInfo, url }, admin);
      expect(response.status, url).toBe(400);
      expect(response.body['Errors']).toEqual([expect.objectContaining({ code: 'URL_SHORTENING_INVALID_URL' })]);
    }
    for (const body of [{}, { url: 42 }, { url: 'https://x.org', validTill: 'tomorrow' }, { url: 'https://x.org', validFrom: 10, validTill: 5 }]) {
      const response = await post(platform, '/eus/shortener', body, admin);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(isDigitError(response.body)).toBe(true);
    }
  });

  it('refuses links outside PLINTH_PUBLIC_URL and PLINTH_SHORTENER_ALLOWED_URLS for every caller (no open redirect)', async () => {
    const employee = await employeeAuth(platform, admin, 'shorturl-redirector', ['EMPLOYEE']);
    for (const auth of [employee, admin]) {
      for (const url of ['https://evil.example/login', 'https://services.pb.gov.in.evil.example/', 'http://services.pb.gov.in/citizen']) {
        const response = await post(platform, '/eus/shortener', { RequestInfo: requestInfo, url }, auth);
        expect(response.status, url).toBe(400);
        expect(response.body['Errors']).toEqual([expect.objectContaining({ code: 'URL_SHORTENING_INVALID_URL' })]);
      }
    }
  });

  it('requires a token to shorten (401) and an allowed role (403); the redirect is open', async () => {
    const anonymous = await post(platform, '/eus/shortener', { url: 'https://example.org' });
    expect(anonymous.status).toBe(401);
    const registrar = await employeeAuth(platform, admin, 'shorturl-registrar', ['REGISTRAR']);
    const refused = await post(platform, '/eus/shortener', { url: 'https://example.org' }, registrar);
    expect(refused.status).toBe(403);
    const employee = await employeeAuth(platform, admin, 'shorturl-employee', ['EMPLOYEE']);
    const allowed = await platform.app.inject({ method: 'POST', url: '/eus/shortener', headers: { ...employee, 'content-type': 'application/json' }, payload: { url: 'https://example.org/e' } });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect((await platform.app.inject({ method: 'GET', url: `/eus/${idOf(allowed.body)}` })).headers['location']).toBe('https://example.org/e');
  });
});
