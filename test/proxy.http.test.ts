import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/kernel/config.js';
import { adminAuth, requestInfo, testPlatform, type TestPlatform } from './helpers.js';

/**
 * Issue #14, finding 12: behind a reverse proxy every client had the proxy's address, so one
 * client spent every citizen's login and OTP budget. With PLINTH_TRUST_PROXY the client address
 * is X-Forwarded-For's, from the trusted proxy only; anonymous calls of mixed routes are limited too.
 */

const PROXY = '10.1.2.3';
let platform: TestPlatform;
let admin: Record<string, string>;

beforeAll(async () => {
  platform = await testPlatform({ config: { trustProxy: ['10.0.0.0/8'], loginRateLimit: 3, anonymousRateLimit: 4 } });
  admin = await adminAuth(platform);
});
afterAll(() => platform.drop());

/** A wrong login (an unknown user, so no account lockout is involved) from `peer`, forwarded for `client`. */
async function login(peer: string, client?: string): Promise<number> {
  const response = await platform.app.inject({
    method: 'POST',
    url: '/user/oauth/token',
    remoteAddress: peer,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ZWdvdi11c2VyLWNsaWVudDo=',
      ...(client ? { 'x-forwarded-for': client } : {}),
    },
    payload: new URLSearchParams({ username: `nobody${Math.random()}`, password: 'Wrong@2026x', tenantId: 'pb', userType: 'EMPLOYEE', grant_type: 'password', scope: 'read' }).toString(),
  });
  return response.statusCode;
}

async function mdmsSearch(peer: string, client: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await platform.app.inject({
    method: 'POST',
    url: '/mdms-v2/v1/_search',
    remoteAddress: peer,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': client, ...headers },
    payload: JSON.stringify({ RequestInfo: requestInfo, MdmsCriteria: { tenantId: 'pb', moduleDetails: [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants' }] }] } }),
  });
  return response.statusCode;
}

describe('PLINTH_TRUST_PROXY', () => {
  it('gives two clients behind a trusted proxy budgets of their own', async () => {
    for (let i = 0; i < 3; i++) expect(await login(PROXY, '203.0.113.10')).not.toBe(429);
    expect(await login(PROXY, '203.0.113.10')).toBe(429);
    // Another client behind the same proxy still has its budget.
    expect(await login(PROXY, '203.0.113.11')).not.toBe(429);
    // The client address is the one the proxy saw, not what the client put in front of it.
    expect(await login(PROXY, '198.51.100.1, 203.0.113.10')).toBe(429);
  });

  it('ignores X-Forwarded-For from an address it does not trust', async () => {
    const peer = '192.0.2.50';
    for (let i = 0; i < 3; i++) expect(await login(peer, `203.0.113.${20 + i}`)).not.toBe(429);
    expect(await login(peer, '203.0.113.99')).toBe(429);
    expect(await login(peer)).toBe(429);
  });

  it('limits anonymous calls of a mixed route per client, and not calls with a token', async () => {
    for (let i = 0; i < 4; i++) expect(await mdmsSearch(PROXY, '203.0.113.30')).toBe(200);
    expect(await mdmsSearch(PROXY, '203.0.113.30')).toBe(429);
    expect(await mdmsSearch(PROXY, '203.0.113.31')).toBe(200);
    for (let i = 0; i < 6; i++) expect(await mdmsSearch(PROXY, '203.0.113.30', admin)).toBe(200);
  });

  it('fails the start on a value that is not addresses or CIDRs, and reads good ones', () => {
    for (const bad of ['yes', '10.0.0.0/33', '10.0.0.1/8/1', 'proxy.example.org', '10.0.0.1,,10.0.0.2', '::1/129']) {
      expect(() => loadConfig({ PLINTH_TRUST_PROXY: bad }), bad).toThrow(ConfigError);
    }
    expect(loadConfig({ PLINTH_TRUST_PROXY: ' 10.0.0.5 , 172.16.0.0/12,::1,fd00::/8 ' }).trustProxy).toEqual(['10.0.0.5', '172.16.0.0/12', '::1', 'fd00::/8']);
    expect(loadConfig({}).trustProxy).toEqual([]);
    expect(() => loadConfig({ PLINTH_ANONYMOUS_RATE_LIMIT: '0' })).toThrow(ConfigError);
  });
});
