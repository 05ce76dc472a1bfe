import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, post as rawPost, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

let auth: Record<string, string> = {};
/** Every call as the bootstrap SUPERUSER; the auth tests themselves live in test/auth.http.test.ts. */
const post = (p: TestPlatform, url: string, body: unknown, headers: Record<string, string> = {}) =>
  rawPost(p, url, body, { ...auth, ...headers });

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
beforeAll(async () => {
  platform = await testPlatform();
  auth = await adminAuth(platform);
});
afterAll(async () => {
  await platform.drop();
});

const tradeType = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { code: { type: 'string' }, name: { type: 'string' } },
  required: ['code', 'name'],
  'x-unique': ['code'],
};
const tradeSubType = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z]+$' },
    code: { type: 'string' },
    tradeTypeCode: { type: 'string' },
    rate: { type: 'number', minimum: 0 },
  },
  required: ['name', 'code', 'tradeTypeCode'],
  'x-unique': ['name'],
  'x-ref-schema': [{ fieldPath: 'tradeTypeCode', schemaCode: 'TradeLicense.TradeType' }],
};

async function createSchema(code: string, definition: object, tenantId = 'pb') {
  return post(platform, '/mdms-v2/schema/v1/_create', { RequestInfo: requestInfo, SchemaDefinition: { tenantId, code, definition } });
}
async function createData(schemaCode: string, data: object, tenantId = 'pb') {
  return post(platform, `/mdms-v2/v2/_create/${schemaCode}`, {
    RequestInfo: requestInfo,
    Mdms: { tenantId, schemaCode, data, isActive: true },
  });
}
async function search(criteria: object) {
  return post(platform, '/mdms-v2/v2/_search', { RequestInfo: requestInfo, MdmsCriteria: criteria });
}
async function count(criteria: object): Promise<number> {
  const response = await post(platform, '/mdms-v2/v2/_count', { RequestInfo: requestInfo, MdmsCriteria: criteria });
  expect(response.status).toBe(200);
  return (response.body as Json)['totalCount'];
}

describe('MDMS v2 schema definitions', () => {
  it('creates a schema with 202 and DIGIT keys, then finds it', async () => {
    const created = await createSchema('TradeLicense.TradeType', tradeType);
    expect(created.status).toBe(202);
    const [schema] = (created.body as Json)['SchemaDefinitions'];
    expect(schema).toMatchObject({ tenantId: 'pb', code: 'TradeLicense.TradeType', isActive: true, definition: tradeType });
    expect(schema.auditDetails.createdTime).toBeTypeOf('number');
    expect((created.body as Json)['ResponseInfo']).toMatchObject({ apiId: 'Rainmaker', msgId: requestInfo.msgId, status: 'successful' });

    const found = await post(platform, '/mdms-v2/schema/v1/_search', {
      RequestInfo: requestInfo,
      SchemaDefCriteria: { tenantId: 'pb', codes: ['TradeLicense.TradeType'] },
    });
    expect(found.status).toBe(202);
    expect((found.body as Json)['SchemaDefinitions']).toHaveLength(1);
    expect((await createSchema('TradeLicense.TradeSubType', tradeSubType)).status).toBe(202);
  });

  it('refuses a duplicate code, an empty required list, and x-unique outside required', async () => {
    const duplicate = await createSchema('TradeLicense.TradeType', tradeType);
    expect(duplicate.status).toBe(400);
    expect((duplicate.body as Json)['Errors'][0].code).toBe('DUPLICATE_SCHEMA_CODE');

    const noRequired = await createSchema('X.NoRequired', { ...tradeType, required: [] });
    expect((noRequired.body as Json)['Errors'].map((e: Json) => e.code)).toContain('REQUIRED_ATTRIBUTE_LIST_ERR');

    const uniqueNotRequired = await createSchema('X.Bad', { ...tradeType, 'x-unique': ['other'] });
    expect(uniqueNotRequired.status).toBe(400);
    expect((uniqueNotRequired.body as Json)['Errors'][0]).toMatchObject({ code: 'UNIQUE_ATTRIBUTE_LIST_INVALID_ERR', params: ['other'] });

    const broken = await createSchema('X.Broken', { ...tradeType, properties: { code: { type: 'no-such-type' } } });
    expect((broken.body as Json)['Errors'][0].code).toBe('INVALID_SCHEMA_DEFINITION');
    expect(await count({ tenantId: 'pb', schemaCode: 'X.Bad' })).toBe(0);
  });

  it('answers 501 to schema _update, as DIGIT does', async () => {
    const response = await post(platform, '/mdms-v2/schema/v1/_update', { RequestInfo: requestInfo });
    expect(response.status).toBe(501);
    expect((response.body as Json)['Errors'][0].code).toBe('NOT_IMPLEMENTED');
  });
});

describe('MDMS v2 data', () => {
  it('creates records with the uniqueIdentifier built from x-unique', async () => {
    expect((await createData('TradeLicense.TradeType', { code: 'GOODS.MANUFACTURE', name: 'Manufacture of goods' })).status).toBe(202);
    const created = await createData('TradeLicense.TradeSubType', {
      name: 'Electronics',
      code: 'ELECTRONICS',
      tradeTypeCode: 'GOODS.MANUFACTURE',
    });
    expect(created.status).toBe(202);
    expect((created.body as Json)['mdms'][0]).toMatchObject({
      tenantId: 'pb',
      schemaCode: 'TradeLicense.TradeSubType',
      uniqueIdentifier: 'Electronics',
      isActive: true,
      data: { code: 'ELECTRONICS' },
    });
  });

  it('refuses invalid data naming the field, with DIGIT error codes, and writes nothing', async () => {
    const before = await count({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType' });
    const invalid = await createData('TradeLicense.TradeSubType', { name: 'Bad Name 1', tradeTypeCode: 'GOODS.MANUFACTURE' });
    expect(invalid.status).toBe(400);
    const errors = (invalid.body as Json)['Errors'] as Json[];
    expect(errors.map((e) => e.code).sort()).toEqual(['INVALID_REQUEST_PATTERN2', 'INVALID_REQUEST_REQUIRED1'].sort());
    expect(errors.map((e) => e.message).join(' ')).toContain('data.code is required');
    expect(errors.map((e) => e.message).join(' ')).toContain('data.name');

    const wrongType = await createData('TradeLicense.TradeSubType', {
      name: 'Gadgets',
      code: 'G',
      tradeTypeCode: 'GOODS.MANUFACTURE',
      rate: 'high',
    });
    expect((wrongType.body as Json)['Errors'][0].message).toBe('data.rate must be number');
    expect(await count({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType' })).toBe(before);
  });

  it('refuses a duplicate unique key and a broken reference', async () => {
    const duplicate = await createData('TradeLicense.TradeSubType', {
      name: 'Electronics',
      code: 'OTHER',
      tradeTypeCode: 'GOODS.MANUFACTURE',
    });
    expect(duplicate.status).toBe(400);
    expect((duplicate.body as Json)['Errors'][0].code).toBe('DUPLICATE_RECORD');

    const broken = await createData('TradeLicense.TradeSubType', { name: 'Toys', code: 'TOYS', tradeTypeCode: 'NO.SUCH' });
    expect(broken.status).toBe(400);
    expect((broken.body as Json)['Errors'][0]).toMatchObject({ code: 'REFERENCE_VALIDATION_ERR', params: ['tradeTypeCode', 'NO.SUCH'] });
    expect((broken.body as Json)['Errors'][0].message).toContain('data.tradeTypeCode');
  });

  it('refuses data for an unknown schema, an unknown tenant, and a schema code mismatch', async () => {
    expect(((await createData('No.Such', { code: 'x' })).body as Json)['Errors'][0].code).toBe('SCHEMA_DEFINITION_NOT_FOUND_ERR');
    // The caller's roles do not reach a tenant that does not exist: refused before validation.
    const unknownTenant = await createData('TradeLicense.TradeType', { code: 'x', name: 'x' }, 'zz.nowhere');
    expect(unknownTenant.status).toBe(403);
    const mismatch = await post(platform, '/mdms-v2/v2/_create/TradeLicense.TradeType', {
      Mdms: { tenantId: 'pb', schemaCode: 'Other.Code', data: { code: 'y', name: 'y' } },
    });
    expect((mismatch.body as Json)['Errors'][0].code).toBe('INVALID_SCHEMA_CODE');
  });

  it('searches with filters, ids, uniqueIdentifiers, paging, and counts', async () => {
    for (const name of ['Alpha', 'Beta', 'Gamma']) {
      await createData('TradeLicense.TradeSubType', {
        name,
        code: name.toUpperCase(),
        tradeTypeCode: 'GOODS.MANUFACTURE',
        nested: { level: name === 'Beta' ? 'high' : 'low' },
      });
    }
    const byFilter = await search({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', filters: { code: 'BETA' } });
    expect((byFilter.body as Json)['mdms'].map((m: Json) => m.uniqueIdentifier)).toEqual(['Beta']);
    const nested = await search({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', filters: { nested: { level: 'low' } } });
    expect((nested.body as Json)['mdms'].map((m: Json) => m.uniqueIdentifier).sort()).toEqual(['Alpha', 'Gamma']);
    const byKey = await search({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', uniqueIdentifiers: ['Alpha', 'Gamma'] });
    expect((byKey.body as Json)['mdms']).toHaveLength(2);
    const id = (byKey.body as Json)['mdms'][0].id;
    expect((await search({ tenantId: 'pb', ids: [id] })).body['mdms']).toHaveLength(1);

    // Newest first, DIGIT's order; offset/limit page through it.
    const page1 = (await search({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', limit: 2 })).body['mdms'] as Json[];
    const page2 = (await search({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', limit: 2, offset: 2 })).body['mdms'] as Json[];
    expect(page1.map((m) => m.uniqueIdentifier)).toEqual(['Gamma', 'Beta']);
    expect(page2.map((m) => m.uniqueIdentifier)).toEqual(['Alpha', 'Electronics']);
    expect(await count({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType' })).toBe(4);
    expect(await count({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', filters: { code: 'ALPHA' } })).toBe(1);
  });

  it('falls back from the city to the state, and a city record then wins', async () => {
    const atCity = await search({ tenantId: 'pb.amritsar', schemaCode: 'TradeLicense.TradeType' });
    expect((atCity.body as Json)['mdms'].map((m: Json) => m.tenantId)).toEqual(['pb']);
    expect((await createData('TradeLicense.TradeType', { code: 'CITY.ONLY', name: 'Amritsar only' }, 'pb.amritsar')).status).toBe(202);
    const after = await search({ tenantId: 'pb.amritsar', schemaCode: 'TradeLicense.TradeType' });
    expect((after.body as Json)['mdms'].map((m: Json) => m.data.code)).toEqual(['CITY.ONLY']);
    // A city record may reference a state record (tenant lineage).
    const sub = await createData(
      'TradeLicense.TradeSubType',
      { name: 'Local', code: 'LOCAL', tradeTypeCode: 'GOODS.MANUFACTURE' },
      'pb.amritsar',
    );
    expect(sub.status).toBe(202);
  });

  it('updates a record, refuses a unique key change, soft deletes with isActive false', async () => {
    const [record] = (await search({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', uniqueIdentifiers: ['Alpha'] })).body[
      'mdms'
    ] as Json[];
    const update = (Mdms: object) => post(platform, '/mdms-v2/v2/_update/TradeLicense.TradeSubType', { RequestInfo: requestInfo, Mdms });

    expect(((await update({ ...record, id: undefined })).body as Json)['Errors'][0].code).toBe('MASTER_DATA_ID_ABSENT_ERR');
    expect(((await update({ ...record, auditDetails: undefined })).body as Json)['Errors'][0].code).toBe('AUDIT_DETAILS_ABSENT_ERR');
    expect(((await update({ ...record, data: { ...record!.data, name: 'Renamed' } })).body as Json)['Errors'][0].code).toBe(
      'UNIQUE_KEY_UPDATE_ERR',
    );
    expect(((await update({ ...record, id: '00000000-0000-0000-0000-000000000000' })).body as Json)['Errors'][0].code).toBe(
      'INVALID_MASTER_DATA_ID',
    );

    const changed = await update({ ...record, data: { ...record!.data, rate: 12.5 } });
    expect(changed.status).toBe(202);
    const after = (changed.body as Json)['mdms'][0];
    expect(after.data.rate).toBe(12.5);
    expect(after.auditDetails.createdTime).toBe(record!.auditDetails.createdTime);
    expect(after.auditDetails.lastModifiedTime).toBeGreaterThanOrEqual(record!.auditDetails.lastModifiedTime);

    const deleted = await update({ ...after, isActive: false });
    expect(deleted.status).toBe(202);
    const active = (await search({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', isActive: true, limit: 100 })).body[
      'mdms'
    ] as Json[];
    expect(active.map((m) => m.uniqueIdentifier)).not.toContain('Alpha');
    const all = (await search({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', limit: 100 })).body['mdms'] as Json[];
    expect(all.find((m) => m.uniqueIdentifier === 'Alpha')?.isActive).toBe(false);

    // A deactivated key cannot be created again: reactivate it instead.
    const again = await createData('TradeLicense.TradeSubType', { name: 'Alpha', code: 'ALPHA', tradeTypeCode: 'GOODS.MANUFACTURE' });
    expect((again.body as Json)['Errors'][0].code).toBe('DUPLICATE_RECORD');
    expect((again.body as Json)['Errors'][0].message).toContain('deactivated');
  });

  it('reads the envelope case-insensitively (requestInfo, mdmsCriteria)', async () => {
    const response = await post(platform, '/mdms-v2/v2/_search', {
      requestInfo: { apiId: 'lower' },
      mdmsCriteria: { tenantId: 'pb', schemaCode: 'TradeLicense.TradeType' },
    });
    expect(response.status).toBe(200);
    expect((response.body as Json)['ResponseInfo'].apiId).toBe('lower');
    expect((response.body as Json)['mdms'].length).toBeGreaterThan(0);
  });

  it('answers racing creates of one unique key with one record and DUPLICATE_RECORD for the rest, never a 500', async () => {
    // On PostgreSQL the writers pass the existence check together; the unique index decides.
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        createData('TradeLicense.TradeSubType', { name: 'Racing', code: 'RACING', tradeTypeCode: 'GOODS.MANUFACTURE' }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 400, 400, 400, 400, 400]);
    for (const refused of answers.filter((a) => a.status === 400))
      expect((refused.body as Json)['Errors'][0].code).toBe('DUPLICATE_RECORD');
    const stored = (await search({ tenantId: 'pb', schemaCode: 'TradeLicense.TradeSubType', uniqueIdentifiers: ['Racing'] })).body[
      'mdms'
    ] as Json[];
    expect(stored).toHaveLength(1);
  });

  it('announces writes as CloudEvents through the outbox', async () => {
    const seen: Json[] = [];
    platform.dispatcher.subscribe({
      name: 'mdms-test',
      types: ['plinth.mdms.data.created.v1'],
      handle: async (e) => void seen.push(e as Json),
    });
    await createData('TradeLicense.TradeType', { code: 'EVENTS.TEST', name: 'Events' });
    await platform.dispatcher.deliverPending();
    const event = seen.find((e) => e['data'].data.code === 'EVENTS.TEST');
    expect(event).toMatchObject({ specversion: '1.0', type: 'plinth.mdms.data.created.v1', source: '/plinth/mdms', tenantid: 'pb' });
    expect(event!['subject']).toBe(event!['data'].id);
  });
});

describe('MDMS v1 search', () => {
  const v1 = (tenantId: string, moduleDetails: object[]) =>
    post(platform, '/egov-mdms-service/v1/_search', { RequestInfo: requestInfo, MdmsCriteria: { tenantId, moduleDetails } });

  it('returns the seeded tenants, and a JsonPath filter narrows them', async () => {
    const all = await v1('pb', [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants' }] }]);
    expect(all.status).toBe(200);
    const codes = ((all.body as Json)['MdmsRes'].tenant.tenants as Json[]).map((t) => t.code);
    expect(codes).toEqual(expect.arrayContaining(['pb', 'pb.amritsar', 'pb.jalandhar']));

    const filtered = await post(platform, '/mdms-v2/v1/_search', {
      RequestInfo: requestInfo,
      MdmsCriteria: {
        tenantId: 'pb.amritsar',
        moduleDetails: [
          { moduleName: 'tenant', masterDetails: [{ name: 'tenants', filter: "[?(@.code IN ['pb.amritsar','pb.jalandhar'])]" }] },
          { moduleName: 'common-masters', masterDetails: [{ name: 'IdFormat', filter: "[?(@.idname=='pgr.servicerequestid')]" }] },
        ],
      },
    });
    const res = (filtered.body as Json)['MdmsRes'];
    expect((res.tenant.tenants as Json[]).map((t) => t.code).sort()).toEqual(['pb.amritsar', 'pb.jalandhar']);
    expect(res['common-masters'].IdFormat).toEqual([{ idname: 'pgr.servicerequestid', format: expect.stringContaining('PGR') }]);
  });

  it('projects keys, skips inactive records and omits empty masters', async () => {
    const projected = await v1('pb', [
      { moduleName: 'TradeLicense', masterDetails: [{ name: 'TradeSubType', filter: "[*]['code','name']" }, { name: 'Missing' }] },
    ]);
    const rows = (projected.body as Json)['MdmsRes'].TradeLicense.TradeSubType as Json[];
    expect(rows.every((r) => Object.keys(r).sort().join() === 'code,name')).toBe(true);
    expect(rows.map((r) => r.name)).not.toContain('Alpha'); // soft-deleted above
    expect((projected.body as Json)['MdmsRes'].TradeLicense.Missing).toBeUndefined();
  });

  it('refuses a malformed filter with a 400', async () => {
    const response = await v1('pb', [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants', filter: '[?(@.code IN [' }] }]);
    expect(response.status).toBe(400);
    expect((response.body as Json)['Errors'][0].code).toBe('INVALID_FILTER');
  });
});

describe('bounded work (#14 finding 5)', () => {
  it("refuses the finding's 110 KB request of 50 x 50 `$..*..*` filters with a 400, before finishing its work", async () => {
    const moduleDetails = Array.from({ length: 50 }, (_, m) => ({
      moduleName: m % 2 === 0 ? 'tenant' : 'ACCESSCONTROL-ROLES',
      masterDetails: Array.from({ length: 50 }, (_, d) => ({
        name: d % 2 === 0 ? 'tenants' : 'roles',
        filter: `$..*..*${' '.repeat(d % 5)}`,
      })),
    }));
    const body = JSON.stringify({ RequestInfo: requestInfo, MdmsCriteria: { tenantId: 'pb', moduleDetails } });
    expect(body.length).toBeGreaterThan(100_000);
    for (const url of ['/mdms-v2/v1/_search', '/egov-mdms-service/v1/_search']) {
      const { status, body: answer } = await rawPost(platform, url, body);
      expect(status, JSON.stringify(answer)).toBe(400);
      expect((answer['Errors'] as Json[])[0]).toMatchObject({ code: 'FILTER_TOO_EXPENSIVE' });
    }
  });

  it('still answers a search of many masters with cheap filters', async () => {
    const masterDetails = [{ name: 'tenants', filter: "[?(@.code=='pb.amritsar')]" }, { name: 'citymodule' }];
    const { status, body } = await rawPost(platform, '/mdms-v2/v1/_search', {
      RequestInfo: requestInfo,
      MdmsCriteria: { tenantId: 'pb', moduleDetails: [{ moduleName: 'tenant', masterDetails }] },
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect((body['MdmsRes'] as Json)['tenant']['tenants']).toHaveLength(1);
  });

  it.each(['a\\b', 'a"b', 'nested\\'])('answers a v2 filter key %j with a 400, not a 500', async (key) => {
    for (const filters of [{ [key]: 'x' }, { code: { [key]: 1 } }]) {
      const { status, body } = await post(platform, '/mdms-v2/v2/_search', {
        RequestInfo: requestInfo,
        MdmsCriteria: { tenantId: 'pb', schemaCode: 'tenant.tenants', filters },
      });
      expect(status, JSON.stringify(body)).toBe(400);
      expect((body['Errors'] as Json[])[0]).toMatchObject({ code: 'INVALID_FILTERS' });
    }
  });
});

describe('bad input', () => {
  it.each([
    ['malformed JSON', '{"MdmsCriteria":', 'JsonParseException'],
    ['missing criteria', { RequestInfo: {} }, 'INVALID_REQUEST'],
    ['wrong types', { MdmsCriteria: { tenantId: 'pb', limit: 'many' } }, 'INVALID_REQUEST'],
    ['limit too large', { MdmsCriteria: { tenantId: 'pb', limit: 100000 } }, 'INVALID_REQUEST'],
    ['unknown tenant', { MdmsCriteria: { tenantId: 'xx.unknown' } }, 'INVALID_TENANT_ID'],
    ['malformed tenant', { MdmsCriteria: { tenantId: '../../etc' } }, 'INVALID_TENANT_ID'],
  ])('%s gives a 400 in DIGIT error shape', async (_name, body, code) => {
    const response = await rawPost(platform, '/mdms-v2/v2/_search', body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ ResponseInfo: null, Errors: [expect.objectContaining({ code })] });
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('names the missing field', async () => {
    const response = await post(platform, '/mdms-v2/v2/_search', { MdmsCriteria: {} });
    expect((response.body as Json)['Errors'][0].message).toBe('MdmsCriteria.tenantId is required');
  });
});
