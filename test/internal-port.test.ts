import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform } from '../src/platform.js';
import { adminAuth, post, testDatabase, testPlatform, type TestPlatform } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the internal listener for existing DIGIT modules', () => {
  let platform: TestPlatform;
  let clerk: Json;
  beforeAll(async () => {
    platform = await testPlatform({ config: { internalPort: 0, internalSecret: 'shared-secret' } });
    const created = await post(
      platform,
      '/user/users/_createnovalidate',
      { RequestInfo: {}, user: { userName: 'pgr.service', name: 'PGR service', type: 'EMPLOYEE', tenantId: 'pb.amritsar', roles: [{ code: 'MDMS_ADMIN', tenantId: 'pb.amritsar' }] } },
      await adminAuth(platform),
    );
    clerk = (created.body['user'] as Json[])[0]!;
  });
  afterAll(async () => {
    await platform.drop();
  });

  const create = (app: 'internal' | 'public', tenantId: string, userInfo: Json, headers: Record<string, string> = {}) =>
    (app === 'internal' ? platform.internalApp! : platform.app).inject({
      method: 'POST',
      url: '/mdms-v2/v2/_create/common-masters.Department',
      headers: { 'content-type': 'application/json', ...headers },
      payload: JSON.stringify({ RequestInfo: { userInfo }, Mdms: { tenantId, data: { code: `DEPT_I${Math.floor(Math.random() * 1e6)}`, name: 'Internal', active: true } } }),
    });

  it('trusts RequestInfo.userInfo with the shared secret, but takes the roles from our records', async () => {
    const claim = { uuid: clerk['uuid'], roles: [{ code: 'SUPERUSER', tenantId: 'pb' }] };
    expect((await create('internal', 'pb.amritsar', claim, { 'x-plinth-internal-secret': 'shared-secret' })).statusCode).toBe(202);
    // The claimed SUPERUSER on pb is not believed: the user's own city role does not reach pb.
    expect((await create('internal', 'pb', claim, { 'x-plinth-internal-secret': 'shared-secret' })).statusCode).toBe(403);
  });

  it('refuses without the secret, with a wrong one, for an unknown user, and on the public port', async () => {
    const claim = { uuid: clerk['uuid'] };
    expect((await create('internal', 'pb.amritsar', claim)).statusCode).toBe(401);
    expect((await create('internal', 'pb.amritsar', claim, { 'x-plinth-internal-secret': 'shared-secreT' })).statusCode).toBe(401);
    expect((await create('internal', 'pb.amritsar', claim, { 'x-plinth-internal-secret': '' })).statusCode).toBe(401);
    expect((await create('internal', 'pb.amritsar', { uuid: '00000000-0000-4000-8000-000000000000' }, { 'x-plinth-internal-secret': 'shared-secret' })).statusCode).toBe(401);
    expect((await create('public', 'pb.amritsar', claim, { 'x-plinth-internal-secret': 'shared-secret' })).statusCode).toBe(401);
  });
});

describe('starting the internal listener', () => {
  it('is refused without PLINTH_INTERNAL_SECRET, before anything is opened', async () => {
    // A configuration built in code (not through loadConfig) is refused too.
    const db = await testDatabase({ internalPort: 0, internalSecret: undefined });
    try {
      await expect(createPlatform(db.config)).rejects.toThrow(/PLINTH_INTERNAL_SECRET: must be set when INTERNAL_PORT is/);
    } finally {
      await db.drop();
    }
  });
});
