import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { main } from '../../cli/main.js';
import { ConfigError } from '../../kernel/config.js';
import { createPlatform } from '../../platform.js';
import { isCipherText } from './index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const BASE = '/egov-enc-service/crypto/v1';
const PASSWORD = 'Clerk@123';

let platform: TestPlatform;
let admin: Record<string, string>;
let citizen: Record<string, string>;
let clerk: Record<string, string>;
let service: Record<string, string>;
/** An internal-service role held on one city only: the keys are the state's, so it may not decrypt (#14 finding 2). */
let cityService: Record<string, string>;

let mobile = 9600000000;
async function person(roles: string[], type: 'CITIZEN' | 'EMPLOYEE', tenantId: string): Promise<Record<string, string>> {
  const number = String(mobile++);
  const userName = type === 'CITIZEN' ? number : `enc-${number}`;
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: {
        userName,
        name: `Person ${number}`,
        password: PASSWORD,
        type,
        tenantId,
        mobileNumber: number,
        roles: roles.map((code) => ({ code, tenantId })),
      },
    },
    admin,
  );
  if (created.status !== 200) throw new Error(`creating a ${type} failed: ${JSON.stringify(created.body)}`);
  const answer = await login(platform, userName, PASSWORD, tenantId, type);
  if (answer.status !== 200) throw new Error(`login failed: ${JSON.stringify(answer.body)}`);
  return { authorization: `Bearer ${String(answer.body['access_token'])}` };
}

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  citizen = await person(['CITIZEN'], 'CITIZEN', 'pb');
  clerk = await person(['EMPLOYEE'], 'EMPLOYEE', 'pb.amritsar');
  service = await person(['INTERNAL_MICROSERVICE_ROLE', 'EMPLOYEE'], 'EMPLOYEE', 'pb');
  cityService = await person(['INTERNAL_MICROSERVICE_ROLE', 'EMPLOYEE'], 'EMPLOYEE', 'pb.amritsar');
});
afterAll(() => platform.drop());

const encrypt = (encryptionRequests: unknown[], who = admin) =>
  post(platform, `${BASE}/_encrypt`, { RequestInfo: requestInfo, encryptionRequests }, who);
const decrypt = (body: unknown, who = admin) => post(platform, `${BASE}/_decrypt`, body, who);
const codes = (body: Json): string[] => (body['Errors'] as Json[] | undefined)?.map((e) => e['code'] as string) ?? [];
const decryptions = () => platform.audit.log.search({ tenantId: 'pb', actions: ['pii.decrypted'], offset: 0, limit: 100 });

describe(`${BASE}/_encrypt and _decrypt`, () => {
  it("keeps each value's structure, encrypting every leaf, and decrypts it back", async () => {
    const values = [
      'Gurpreet Kaur',
      9876543210,
      ['a', 'b', null],
      { name: { givenName: 'Gurpreet', familyName: 'Kaur' }, mobileNumber: '9876543210', age: 34, verified: true, note: null },
    ];
    const { status, body } = await encrypt(
      values.map((value, i) => ({ tenantId: i % 2 ? 'pb.amritsar' : 'pb', type: i % 2 ? 'Important' : 'Normal', value })),
    );
    expect(status).toBe(200);
    const out = body as unknown as [string, string, unknown[], Json];
    expect(out).toHaveLength(4);
    expect(isCipherText(out[0])).toBe(true);
    expect(isCipherText(out[1])).toBe(true);
    expect(out[2]).toHaveLength(3);
    expect(out[2][2]).toBeNull();
    expect(Object.keys(out[3]).sort()).toEqual(['age', 'mobileNumber', 'name', 'note', 'verified']);
    expect(Object.keys(out[3]['name'])).toEqual(['givenName', 'familyName']);
    expect(isCipherText(out[3]['name']['givenName'])).toBe(true);
    expect(isCipherText(out[3]['age'])).toBe(true);
    expect(JSON.stringify(out)).not.toMatch(/Gurpreet|Kaur|9876543210/);
    for (const leaf of [out[0], out[1], out[3]['mobileNumber']]) expect(String(leaf).startsWith('pb:data:')).toBe(true);

    const before = (await decryptions()).length;
    const back = await decrypt(out);
    expect(back.status).toBe(200);
    expect(back.body).toEqual([
      'Gurpreet Kaur',
      '9876543210',
      ['a', 'b', null],
      { name: { givenName: 'Gurpreet', familyName: 'Kaur' }, mobileNumber: '9876543210', age: '34', verified: 'true', note: null },
    ]);
    const entries = await decryptions();
    expect(entries).toHaveLength(before + 1);
    expect(entries[0]).toMatchObject({ action: 'pii.decrypted', outcome: 'success', subject: `${BASE}/_decrypt`, details: { values: 9 } });
    expect(JSON.stringify(entries[0])).not.toMatch(/Gurpreet|9876543210/);
  });

  it('decrypts a single ciphertext, and ignores the envelope that carried the token', async () => {
    const [sealed] = (await encrypt([{ tenantId: 'pb', value: 'one' }])).body as unknown as string[];
    // `post` sends a string body as it is: the JSON text of a string.
    expect((await decrypt(JSON.stringify(sealed))).body).toBe('one');
    const { authorization } = admin;
    const viaEnvelope = await post(platform, `${BASE}/_decrypt`, { RequestInfo: { authToken: authorization!.slice(7) }, mobile: sealed });
    expect(viaEnvelope.status).toBe(200);
    expect(viaEnvelope.body).toEqual({ mobile: 'one' });
  });

  it('lets an internal service decrypt, but not a citizen or a clerk', async () => {
    const [sealed] = (await encrypt([{ tenantId: 'pb', value: 'secret' }])).body as unknown as string[];
    expect((await decrypt([sealed], service)).body).toEqual(['secret']);
    for (const who of [citizen, clerk]) {
      const refused = await decrypt([sealed], who);
      expect(refused.status).toBe(403);
      expect(isDigitError(refused.body)).toBe(true);
      expect(JSON.stringify(refused.body)).not.toContain('secret');
    }
    expect((await encrypt([{ tenantId: 'pb', value: 'x' }], citizen)).status).toBe(403);
  });

  it("refuses an internal-service role held on a city: the keys are the whole state's (#14 finding 2)", async () => {
    const [sealed] = (await encrypt([{ tenantId: 'pb', value: 'Jalandhar person' }])).body as unknown as string[];
    const refused = await decrypt([sealed], cityService);
    expect(refused.status).toBe(403);
    expect(codes(refused.body)).toEqual(['DECRYPTION_NOT_ALLOWED']);
    expect(JSON.stringify(refused.body)).not.toContain('Jalandhar person');
  });

  it("refuses values under another state's keys, and audits the attempt", async () => {
    const mz = await platform.encryption.service.forTenant('mz');
    const refused = await decrypt({ name: mz.encrypt('Maria') });
    expect(refused.status).toBe(403);
    expect(codes(refused.body)).toEqual(['DECRYPTION_NOT_ALLOWED']);
    const [entry] = await platform.audit.log.search({ tenantId: 'mz', actions: ['pii.decrypted'], offset: 0, limit: 1 });
    expect(entry).toMatchObject({ outcome: 'failure', details: { values: 1 } });
  });

  it('answers 400 in DIGIT’s shape for malformed, unknown or altered ciphertexts, and bad requests', async () => {
    const [sealed] = (await encrypt([{ tenantId: 'pb', value: 'x' }])).body as unknown as string[];
    const altered = sealed!.slice(0, -6) + (sealed!.at(-6) === 'A' ? 'B' : 'A') + sealed!.slice(-5);
    const cases: Array<[unknown, string]> = [
      [['not a ciphertext'], 'MALFORMED_CIPHERTEXT'],
      [{ deep: { x: 'pb:data:1|%%%' } }, 'MALFORMED_CIPHERTEXT'],
      [['nosuchkey:data:1|' + sealed!.split('|')[1]], 'UNKNOWN_KEY'],
      [[altered], 'DECRYPTION_FAILED'],
    ];
    for (const [body, code] of cases) {
      const { status, body: answer } = await decrypt(body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(isDigitError(answer)).toBe(true);
      expect(codes(answer)).toEqual([code]);
    }
    const manyKeys = Array.from({ length: 65 }, (_, i) => `k${i}:data:1|${sealed!.split('|')[1]}`);
    expect(codes((await decrypt(manyKeys)).body)).toEqual(['TOO_MANY_KEYS']);
    let deep: unknown = sealed;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(codes((await decrypt(deep)).body)).toEqual(['VALUE_TOO_DEEP']);

    for (const bad of [
      {},
      { encryptionRequests: [] },
      { encryptionRequests: [{ tenantId: 'pb' }] },
      { encryptionRequests: [{ value: 'x' }] },
      { encryptionRequests: 'x' },
    ]) {
      const { status, body } = await post(platform, `${BASE}/_encrypt`, bad, admin);
      expect(status, JSON.stringify(bad)).toBe(400);
      expect(isDigitError(body)).toBe(true);
    }
    const invalidTenant = await encrypt([{ tenantId: 'PB!', value: 'x' }]);
    expect(invalidTenant.status).toBe(403); // no role on a tenant that cannot exist
  });
});

describe(`${BASE}/_sign and _verify`, () => {
  it('signs with the state key, naming it, and verifies; a changed value or signature does not verify', async () => {
    const signed = await post(
      platform,
      `${BASE}/_sign`,
      { RequestInfo: requestInfo, tenantId: 'pb.amritsar', value: '{"amount":100}' },
      admin,
    );
    expect(signed.status).toBe(200);
    expect(Object.keys(signed.body).sort()).toEqual(['signature', 'value']);
    expect(signed.body['value']).toBe('{"amount":100}');
    const signature = String(signed.body['signature']);
    expect(signature).toMatch(/^pb:sign:\d+\|/);
    const verify = (value: string, sig: string, who = clerk) =>
      post(platform, `${BASE}/_verify`, { RequestInfo: requestInfo, value, signature: sig }, who);
    expect((await verify('{"amount":100}', signature)).body).toEqual({ verified: true });
    expect((await verify('{"amount":101}', signature)).body).toEqual({ verified: false });
    expect(
      (
        await verify(
          '{"amount":100}',
          signature.replace(/.(?=.{4}$)/, (c) => (c === 'A' ? 'B' : 'A')),
        )
      ).body,
    ).toEqual({ verified: false });
    expect(codes((await verify('x', 'no signature')).body)).toEqual(['MALFORMED_SIGNATURE']);
    expect((await post(platform, `${BASE}/_sign`, { tenantId: 'pb', value: 'x' }, clerk)).status).toBe(403);
  });
});

describe(`${BASE}/_rotatekey`, () => {
  it('rotates for a SUPERUSER only; old ciphertexts and signatures keep working', async () => {
    const [old] = (await encrypt([{ tenantId: 'pb', value: 'before rotation' }])).body as unknown as string[];
    const oldSignature = String((await post(platform, `${BASE}/_sign`, { tenantId: 'pb', value: 'v' }, admin)).body['signature']);
    for (const who of [citizen, clerk, service])
      expect((await post(platform, `${BASE}/_rotatekey`, { tenantId: 'pb' }, who)).status).toBe(403);

    const city = await post(platform, `${BASE}/_rotatekey`, { tenantId: 'pb.amritsar' }, admin);
    expect(city.status).toBe(400);
    expect(codes(city.body)).toEqual(['INVALID_TENANT_ID']);

    const { status, body } = await post(platform, `${BASE}/_rotatekey`, { RequestInfo: requestInfo, tenantId: 'pb' }, admin);
    expect(status).toBe(200);
    expect(body).toEqual({ acknowledged: true });
    const [fresh] = (await encrypt([{ tenantId: 'pb', value: 'after rotation' }])).body as unknown as string[];
    expect(fresh!.split('|')[0]).not.toBe(old!.split('|')[0]);
    expect((await decrypt([old, fresh])).body).toEqual(['before rotation', 'after rotation']);
    const [rotation] = await platform.audit.log.search({ tenantId: 'pb', actions: ['key.rotated'], offset: 0, limit: 10 });
    expect(rotation).toMatchObject({ subject: fresh!.split('|')[0], outcome: 'success', details: { previousKeyId: old!.split('|')[0] } });
    expect((await post(platform, `${BASE}/_verify`, { value: 'v', signature: oldSignature }, admin)).body).toEqual({ verified: true });
  });
});

describe('plinth keys', () => {
  it('rotates from the command line, and re-encrypts on demand', async () => {
    const env = { ...process.env };
    process.env['DATA_DIR'] = platform.config.dataDir;
    process.env['LOG_LEVEL'] = 'silent';
    if (platform.config.databaseUrl) process.env['DATABASE_URL'] = platform.config.databaseUrl;
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
    // One SQLite connection's lock wait would block the other's in this one thread: keep the server's worker quiet meanwhile.
    await platform.dispatcher.stop();
    try {
      const before = ((await encrypt([{ tenantId: 'pb', value: 'x' }])).body as unknown as string[])[0]!.split('|')[0];
      expect(await main(['keys', 'rotate', 'pb'])).toBe(0);
      const keyId = /new data key (\S+);/.exec(printed.join('\n'))?.[1];
      expect(keyId).toBeDefined();
      expect(keyId).not.toBe(before);
      expect(
        (await platform.encryption.service.forTenant('pb')).decrypt((await platform.encryption.service.forTenant('pb')).encrypt('y')),
      ).toBe('y');
      expect(await main(['keys', 'reencrypt', 'pb'])).toBe(0);
      expect(printed.at(-1)).toMatch(/pb/);
      expect(await main(['keys', 'rotate', 'pb.amritsar'])).toBe(2);
      expect(await main(['keys', 'spin', 'pb'])).toBe(2);
    } finally {
      log.mockRestore();
      error.mockRestore();
      process.env = env;
      platform.dispatcher.start();
    }
  });
});

describe('the master key check', () => {
  it('stops a process started with another master key against the same database', async () => {
    const other = await createPlatform({ ...platform.config, role: 'api', masterKey: randomBytes(32).toString('base64') });
    try {
      const refusal = await other.start().catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ConfigError);
      expect(String((refusal as Error).message)).toMatch(/^PLINTH_MASTER_KEY: .*PLINTH_MASTER_KEY_FILE/);
    } finally {
      await other.stop();
    }
  });
});
