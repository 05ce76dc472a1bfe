import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { DEFAULT_THRESHOLD, TERMS, base64ToBytes, createEncoder, encodingFrom, type PersonForLinkage } from './clk.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { createLinkageIndex } from './linkage.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let auth: Record<string, string>;
beforeAll(async () => {
  platform = await testPlatform();
  auth = await adminAuth(platform);
  await platform.dedup.service.prepare('pb.amritsar');
});
afterAll(() => platform.drop());

const tenantId = 'pb.amritsar';
const gurpreet: PersonForLinkage = {
  givenName: 'Gurpreet',
  familyName: 'Kaur',
  dateOfBirth: '09/09/1993',
  gender: 'FEMALE',
  locality: 'SUN04',
  mobileNumber: '9876543210',
};
const ramesh: PersonForLinkage = {
  givenName: 'Ramesh',
  familyName: 'Sharma',
  dateOfBirth: '12/04/1970',
  gender: 'MALE',
  locality: 'SUN11',
};

const register = (people: Array<{ recordId: string; person: PersonForLinkage }>) =>
  platform.database.transaction((tx) => platform.dedup.service.register(tx, tenantId, people));
const errorCode = (body: Json) => body['Errors']?.[0]?.code as string | undefined;
const asIndividual = (p: PersonForLinkage) => ({
  tenantId,
  name: { givenName: p.givenName, familyName: p.familyName, otherNames: p.otherNames ?? null },
  dateOfBirth: p.dateOfBirth,
  gender: p.gender,
  mobileNumber: p.mobileNumber ?? null,
  address: [{ type: 'PERMANENT', locality: { code: p.locality } }],
});

describe('dedup through the registry API and HTTP', () => {
  it('register answers candidates above the threshold (also within one batch) and queues them', async () => {
    const first = await register([
      { recordId: 'r-1', person: gurpreet },
      { recordId: 'r-2', person: ramesh },
    ]);
    expect(first).toEqual([[], []]);
    const second = await register([
      { recordId: 'r-3', person: { ...gurpreet, givenName: 'Gurprit', mobileNumber: null } },
      { recordId: 'r-4', person: { ...ramesh, givenName: 'Rmesh' } },
      { recordId: 'r-5', person: { ...ramesh, givenName: 'Ramseh' } },
    ]);
    expect(second[0]!.map((c) => c.recordId)).toEqual(['r-1']);
    expect(second[1]!.map((c) => c.recordId)).toEqual(['r-2']);
    expect(second[2]!.map((c) => c.recordId).sort()).toEqual(['r-2', 'r-4']);
    for (const c of second.flat()) expect(c.score).toBeGreaterThanOrEqual(DEFAULT_THRESHOLD);

    const { status, body } = await post(
      platform,
      '/dedup/v1/review/_search',
      { RequestInfo: requestInfo, ReviewSearch: { tenantId, status: 'PENDING' } },
      auth,
    );
    expect(status).toBe(200);
    expect(body['TotalCount']).toBe(4);
    const pairs = (body['Reviews'] as Json[]).map((r) => `${r['recordId']}>${r['matchId']}`).sort();
    expect(pairs).toEqual(['r-3>r-1', 'r-4>r-2', 'r-5>r-2', 'r-5>r-4']);
    expect(body['ResponseInfo']).toMatchObject({ apiId: 'Rainmaker', msgId: requestInfo.msgId });
  });

  it('_check scores a DIGIT Individual without registering it', async () => {
    const { status, body } = await post(
      platform,
      '/dedup/v1/_check',
      { RequestInfo: requestInfo, Individual: asIndividual({ ...gurpreet, familyName: 'Kour' }) },
      auth,
    );
    expect(status).toBe(200);
    expect(body['program']).toBe('default');
    expect((body['Candidates'] as Json[]).map((c) => c['recordId']).sort()).toEqual(['r-1', 'r-3']);
    const search = await post(platform, '/dedup/v1/review/_search', { ReviewSearch: { tenantId } }, auth);
    expect(search.body['TotalCount']).toBe(4);
  });

  it('decides: DUPLICATE links, NOT_DUPLICATE closes, a second decision is 409, an unknown review 404', async () => {
    const { body } = await post(platform, '/dedup/v1/review/_search', { ReviewSearch: { tenantId, recordIds: ['r-3'] } }, auth);
    const review = (body['Reviews'] as Json[])[0]!;
    const dup = await post(
      platform,
      '/dedup/v1/review/_decide',
      { RequestInfo: requestInfo, Review: { tenantId, id: review['id'], status: 'DUPLICATE', comment: 'same mother' } },
      auth,
    );
    expect(dup.status).toBe(200);
    expect(dup.body['Review']).toMatchObject({ status: 'DUPLICATE', recordId: 'r-3', matchId: 'r-1', comment: 'same mother' });
    expect(typeof dup.body['linkId']).toBe('string');
    expect((dup.body['Review'] as Json)['decidedBy']).toEqual(expect.any(String));

    const again = await post(
      platform,
      '/dedup/v1/review/_decide',
      { Review: { tenantId, id: review['id'], status: 'NOT_DUPLICATE' } },
      auth,
    );
    expect(again.status).toBe(409);
    expect(isDigitError(again.body)).toBe(true);
    expect(errorCode(again.body)).toBe('REVIEW_ALREADY_DECIDED');

    const other = await post(
      platform,
      '/dedup/v1/review/_search',
      { ReviewSearch: { tenantId, recordIds: ['r-4'], status: 'PENDING' } },
      auth,
    );
    const notDup = await post(
      platform,
      '/dedup/v1/review/_decide',
      { Review: { tenantId, id: (other.body['Reviews'] as Json[])[0]!['id'], status: 'NOT_DUPLICATE' } },
      auth,
    );
    expect(notDup.status).toBe(200);
    expect(notDup.body['linkId']).toBeNull();

    const missing = await post(
      platform,
      '/dedup/v1/review/_decide',
      { Review: { tenantId, id: 'no-such-review', status: 'DUPLICATE' } },
      auth,
    );
    expect(missing.status).toBe(404);
    expect(errorCode(missing.body)).toBe('REVIEW_NOT_FOUND');

    const pending = await post(platform, '/dedup/v1/review/_search', { ReviewSearch: { tenantId, status: 'PENDING', limit: 1 } }, auth);
    expect(pending.body['TotalCount']).toBe(2);
    expect(pending.body['Reviews']).toHaveLength(1);
  });

  it('update does not re-queue decided pairs; forget drops a record from matching', async () => {
    const candidates = await platform.database.transaction((tx) =>
      platform.dedup.service.update(tx, tenantId, 'r-3', { ...gurpreet, givenName: 'Gurpreet' }),
    );
    expect(candidates.map((c) => c.recordId)).toEqual(['r-1']);
    const reviews = await post(platform, '/dedup/v1/review/_search', { ReviewSearch: { tenantId, recordIds: ['r-3'] } }, auth);
    expect(reviews.body['TotalCount']).toBe(1);

    await platform.database.transaction((tx) => platform.dedup.service.forget(tx, tenantId, 'r-1'));
    const check = await platform.dedup.service.check(tenantId, gurpreet, undefined, SYSTEM_SCOPE);
    expect(check.candidates.map((c) => c.recordId)).toEqual(['r-3']);
  });

  it('a rolled-back registration leaves nothing behind', async () => {
    await expect(
      platform.database.transaction(async (tx) => {
        await platform.dedup.service.register(tx, tenantId, [{ recordId: 'r-ghost', person: { ...ramesh, locality: 'SUN12' } }]);
        throw new Error('registry failed');
      }),
    ).rejects.toThrow('registry failed');
    const check = await platform.dedup.service.check(tenantId, { ...ramesh, locality: 'SUN12' }, undefined, SYSTEM_SCOPE);
    expect(check.candidates.map((c) => c.recordId)).not.toContain('r-ghost');
  });

  it('a field device downloads encodings and the key, and finds the duplicate offline', async () => {
    const key = await post(platform, '/dedup/v1/key/_get', { RequestInfo: requestInfo, tenantId }, auth);
    expect(key.status).toBe(200);
    expect(key.body).toMatchObject({ program: 'default', stateTenantId: 'pb', scheme: { id: 'plinth-clk-2', bits: 1024 } });
    expect(key.body['scheme']).toMatchObject({ segments: { name: [0, 16] }, bias: expect.any(Number) });
    expect(Object.keys((key.body['scheme'] as Json)['weights'] as Json).sort()).toEqual([...TERMS].sort());
    const encodings = await post(
      platform,
      '/dedup/v1/encodings/_search',
      { EncodingSearch: { tenantId, localities: ['SUN04', 'SUN11'], limit: 2 } },
      auth,
    );
    expect(encodings.status).toBe(200);
    expect(encodings.body['TotalCount']).toBe(4); // r-2, r-3, r-4, r-5; r-1 was forgotten
    const page2 = await post(
      platform,
      '/dedup/v1/encodings/_search',
      { EncodingSearch: { tenantId, localities: ['SUN04', 'SUN11'], offset: 2, limit: 2 } },
      auth,
    );
    const rows = [...(encodings.body['Encodings'] as Json[]), ...(page2.body['Encodings'] as Json[])];
    expect(rows.map((r) => r['recordId']).sort()).toEqual(['r-2', 'r-3', 'r-4', 'r-5']);
    // No names or numbers travel: only ids, codes, base64 bits and times. The keyed bits are
    // random-looking base64 and the times are epoch ms, either of which may spell "1993" by
    // chance: the text fields are searched, the bits are checked as bits.
    const texts = rows.flatMap((row) => Object.entries(row).filter(([k, v]) => typeof v === 'string' && k !== 'clk' && k !== 'blocks'));
    expect(texts.length).toBeGreaterThan(0);
    const text = JSON.stringify(texts);
    for (const secret of ['Gurpreet', 'Ramesh', 'Sharma', '9876543210', '1993']) expect(text).not.toContain(secret);
    for (const row of rows) {
      expect(row['clk']).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
      expect(base64ToBytes(row['clk'] as string)).toHaveLength(128);
    }

    const withDeleted = await post(
      platform,
      '/dedup/v1/encodings/_search',
      { EncodingSearch: { tenantId, localities: ['SUN04'], includeDeleted: true } },
      auth,
    );
    expect((withDeleted.body['Encodings'] as Json[]).find((r) => r['recordId'] === 'r-1')).toMatchObject({ isDeleted: true, clk: '' });

    // Offline: the same pure encoder and index as the server.
    const encoder = createEncoder(base64ToBytes(key.body['key'] as string));
    const index = createLinkageIndex();
    for (const r of rows) index.put(r['recordId'], encodingFrom(r['clk'], r['blocks']));
    const newcomer = { ...gurpreet, givenName: 'Gurpreeet' };
    expect(index.match(encoder.encode(newcomer), encoder.probeKeys(newcomer), key.body['threshold'] as number).map((m) => m.id)).toEqual([
      'r-3',
    ]);
  });

  it('refuses malformed bodies, unknown programs and tenants in DIGIT shape, and anonymous callers', async () => {
    const cases: Array<[string, unknown]> = [
      ['/dedup/v1/review/_search', { ReviewSearch: { tenantId, status: 'MAYBE' } }],
      ['/dedup/v1/review/_decide', { Review: { tenantId, id: 'x', status: 'PENDING' } }],
      ['/dedup/v1/_check', { Individual: { tenantId, dateOfBirth: { day: 1 } } }],
      ['/dedup/v1/encodings/_search', { EncodingSearch: { tenantId, localities: [] } }],
      ['/dedup/v1/key/_get', { tenantId, program: 'has space' }],
    ];
    for (const [url, body] of cases) {
      const response = await post(platform, url, body, auth);
      expect(response.status, url).toBe(400);
      expect(isDigitError(response.body), url).toBe(true);
    }
    const unknownProgram = await post(platform, '/dedup/v1/key/_get', { tenantId, program: 'nope' }, auth);
    expect(unknownProgram.status).toBe(400);
    expect(errorCode(unknownProgram.body)).toBe('UNKNOWN_PROGRAM');
    const unknownTenant = await post(
      platform,
      '/dedup/v1/_check',
      { Individual: { ...asIndividual(gurpreet), tenantId: 'pb.nowhere' } },
      auth,
    );
    expect(unknownTenant.status).toBeGreaterThanOrEqual(400);
    expect(unknownTenant.status).toBeLessThan(500);
    expect(isDigitError(unknownTenant.body)).toBe(true);
    const anonymous = await post(platform, '/dedup/v1/key/_get', { tenantId });
    expect(anonymous.status).toBe(401);
  });
});

describe('who may hold the program key', () => {
  async function employee(userName: string, roles: string[]): Promise<Record<string, string>> {
    const created = await post(
      platform,
      '/user/users/_createnovalidate',
      {
        RequestInfo: {},
        user: {
          userName,
          name: `Staff ${userName}`,
          password: 'Field@2026x',
          type: 'EMPLOYEE',
          tenantId,
          mobileNumber: '9812345670',
          roles: roles.map((code) => ({ code, tenantId })),
        },
      },
      auth,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const { body } = await login(platform, userName, 'Field@2026x', tenantId);
    return { authorization: `Bearer ${String(body['access_token'])}` };
  }

  it('gives the key and the encodings to field roles, not to every employee', async () => {
    const clerk = await employee('dedup.clerk', ['EMPLOYEE']);
    const registrar = await employee('dedup.registrar', ['EMPLOYEE', 'REGISTRAR']);
    const key = { RequestInfo: requestInfo, tenantId };
    expect((await post(platform, '/dedup/v1/key/_get', key, clerk)).status).toBe(403);
    expect((await post(platform, '/dedup/v1/key/_get', key, registrar)).status).toBe(200);
    const search = { RequestInfo: requestInfo, EncodingSearch: { tenantId, localities: ['SUN04'] } };
    expect((await post(platform, '/dedup/v1/encodings/_search', search, clerk)).status).toBe(403);
    expect((await post(platform, '/dedup/v1/encodings/_search', search, registrar)).status).toBe(200);
  });
});
