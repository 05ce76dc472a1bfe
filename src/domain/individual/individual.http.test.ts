import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let admin: Record<string, string>;
const as: Record<string, Record<string, string>> = {};

const user = (userName: string, roles: string[]) => employeeAuth(platform, admin, userName, roles);

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  as['registrar'] = await user('registrar.one', ['REGISTRAR']);
  as['employee'] = await user('clerk.one', ['EMPLOYEE']);
  as['distributor'] = await user('distributor.one', ['DISTRIBUTOR']);
});
afterAll(() => platform.drop());

let serial = 0;
/** A valid person; every call a different one unless fields are given. */
function person(fields: Json = {}): Json {
  serial += 1;
  return {
    tenantId: 'pb.amritsar',
    clientReferenceId: `crf-${serial}-${Math.random().toString(36).slice(2, 8)}`,
    name: { givenName: `Given${serial}`, familyName: 'Sharma' },
    dateOfBirth: '14/03/1985',
    gender: 'FEMALE',
    mobileNumber: `98${String(10_000_000 + serial).padStart(8, '0')}`,
    address: [{ type: 'PERMANENT', doorNo: '12-B', addressLine1: 'Near the water tank', locality: { code: 'SUN04' } }],
    identifiers: [{ identifierType: 'AADHAAR', identifierId: `4000${String(serial).padStart(8, '0')}` }],
    skills: [{ type: 'HEALTH_WORKER', level: 'BASIC' }],
    clientAuditDetails: { createdBy: 'device-7', createdTime: 1_760_000_000_000 },
    ...fields,
  };
}

const createOne = (individual: Json, headers = as['registrar']!) =>
  post(platform, '/individual/v1/_create', { RequestInfo: requestInfo, Individual: individual }, headers);
const bulk = (op: '_create' | '_update' | '_delete', individuals: Json[], headers = as['registrar']!) =>
  post(platform, `/individual/v1/bulk/${op}`, { RequestInfo: requestInfo, Individuals: individuals }, headers);
const search = (criteria: Json, params: Record<string, string | number | boolean> = {}, headers = as['registrar']!) => {
  const query = new URLSearchParams(
    Object.entries({ tenantId: 'pb.amritsar', limit: 100, offset: 0, ...params }).map(([k, v]): [string, string] => [k, String(v)]),
  );
  return post(platform, `/individual/v1/_search?${query.toString()}`, { RequestInfo: requestInfo, Individual: criteria }, headers);
};
const codes = (body: Json) => (body['Errors'] as Json[]).map((e) => [e['index'], e['errorCode']]);

describe('create', () => {
  it("stores a person, answers DIGIT's shape with an idgen number, and announces ids only", async () => {
    const input = person();
    const { status, body } = await createOne(input);
    expect(status, JSON.stringify(body)).toBe(200);
    const stored = body['Individual'] as Json;
    expect(stored).toMatchObject({
      tenantId: 'pb.amritsar',
      clientReferenceId: input['clientReferenceId'],
      name: input['name'],
      dateOfBirth: '14/03/1985',
      mobileNumber: input['mobileNumber'],
      rowVersion: 1,
      isDeleted: false,
      clientAuditDetails: { createdBy: 'device-7', createdTime: 1_760_000_000_000 },
    });
    expect(stored['individualId']).toMatch(/^IND-\d{4}-\d{2}-\d{2}-\d+$/);
    expect(stored['address'][0]).toMatchObject({ doorNo: '12-B', locality: { code: 'SUN04' }, individualId: stored['id'] });
    expect(stored['identifiers'][0]).toMatchObject({ identifierType: 'AADHAAR', identifierId: input['identifiers'][0].identifierId });
    expect(Array.isArray(body['PotentialDuplicates'])).toBe(true);

    const events = await platform.database.kysely
      .withTables<{ plinth_outbox: { type: string; subject: string; data: unknown } }>()
      .selectFrom('plinth_outbox')
      .selectAll()
      .where('subject', '=', stored['id'])
      .execute();
    expect(events.map((e) => e.type)).toEqual(['plinth.individual.created.v1']);
    const data = platform.database.fromJson<Json>(events[0]!.data);
    expect(data).toEqual({
      id: stored['id'],
      individualId: stored['individualId'],
      clientReferenceId: input['clientReferenceId'],
      tenantId: 'pb.amritsar',
      rowVersion: 1,
    });
  });

  it('answers the stored record when a create is sent again, single or in bulk, and stores one', async () => {
    const input = person();
    const first = await createOne(input);
    const again = await createOne({ ...input, name: { givenName: 'Changed', familyName: 'Name' } });
    expect(again.status).toBe(200);
    expect((again.body['Individual'] as Json)['id']).toBe((first.body['Individual'] as Json)['id']);
    expect((again.body['Individual'] as Json)['name']).toMatchObject(input['name']);
    const viaBulk = await bulk('_create', [input]);
    expect(viaBulk.status).toBe(200);
    expect((viaBulk.body['Individuals'] as Json[]).map((i) => i['id'])).toEqual([(first.body['Individual'] as Json)['id']]);
    const found = await search({ clientReferenceId: [input['clientReferenceId']] });
    expect(found.body['TotalCount']).toBe(1);
  });

  it('answers per record in bulk: good ones land, bad and repeated ones are refused with a code', async () => {
    const good1 = person();
    const good2 = person();
    const batch: Json[] = [
      good1,
      person({ dateOfBirth: '31/02/1990' }),
      person({ mobileNumber: '12345' }),
      { ...good1, name: { givenName: 'Other', familyName: 'Person' } },
      person({ address: [{ type: 'PERMANENT', locality: { code: 'NOWHERE' } }] }),
      person({ tenantId: 'pb.atlantis' }),
      person({ name: undefined }),
      good2,
      person({ dateOfBirth: '01/01/2999' }),
      person({
        identifiers: [
          { identifierType: 'AADHAAR', identifierId: '111111111111' },
          { identifierType: 'aadhaar', identifierId: '222222222222' },
        ],
      }),
      person({ address: [{ type: 'PERMANENT' }, { type: 'PERMANENT' }] }),
      'not even an object' as unknown as Json,
    ];
    // As the superuser of pb: a registrar of pb.amritsar may not even name another tenant (403 at the gateway).
    const { status, body } = await bulk('_create', batch, admin);
    expect(status, JSON.stringify(body)).toBe(200);
    expect((body['Individuals'] as Json[]).map((i) => i['clientReferenceId'])).toEqual([
      good1['clientReferenceId'],
      good2['clientReferenceId'],
    ]);
    expect(codes(body)).toEqual([
      [1, 'INVALID_DATE_OF_BIRTH'],
      [2, 'INVALID_MOBILE_NUMBER'],
      [3, 'DUPLICATE_CLIENT_REFERENCE_ID'],
      [4, 'INVALID_BOUNDARY'],
      [5, 'INVALID_TENANT_ID'],
      [6, 'INVALID_RECORD'],
      [8, 'INVALID_DATE_OF_BIRTH'],
      [9, 'DUPLICATE_IDENTIFIER_TYPE'],
      [10, 'DUPLICATE_ADDRESS_TYPE'],
      [11, 'INVALID_RECORD'],
    ]);
    expect((body['Errors'] as Json[])[0]).toMatchObject({
      clientReferenceId: batch[1]!['clientReferenceId'],
      errorMessage: expect.stringContaining('real date'),
    });
    const landed = await search({ clientReferenceId: batch.filter((b) => typeof b === 'object').map((b) => b['clientReferenceId']) });
    expect(landed.body['TotalCount']).toBe(2);
  });

  it("refuses a bad single create in DIGIT's error shape", async () => {
    const { status, body } = await createOne(person({ mobileNumber: '0000' }));
    expect(status).toBe(400);
    expect(isDigitError(body)).toBe(true);
    expect((body['Errors'] as Json[])[0]!['code']).toBe('INVALID_MOBILE_NUMBER');
  });

  it('returns potential duplicates and still registers the person', async () => {
    const first = await createOne(person({ name: { givenName: 'Harpreet', familyName: 'Kaur' }, dateOfBirth: '02/02/1992' }));
    const second = await createOne(person({ name: { givenName: 'Harpreet', familyName: 'Kaur' }, dateOfBirth: '02/02/1992' }));
    expect(second.status).toBe(200);
    const firstId = (first.body['Individual'] as Json)['id'];
    expect((second.body['PotentialDuplicates'] as Json[]).map((c) => c['recordId'])).toContain(firstId);
    const third = await bulk('_create', [person({ name: { givenName: 'Harpreet', familyName: 'Kaur' }, dateOfBirth: '02/02/1992' })]);
    const dupes = third.body['PotentialDuplicates'] as Json[];
    expect(dupes).toHaveLength(1);
    expect(dupes[0]).toMatchObject({ index: 0, id: (third.body['Individuals'] as Json[])[0]!['id'] });
    expect((dupes[0]!['candidates'] as Json[]).map((c) => c['recordId'])).toContain(firstId);
  });
  it('commits a batch whole or not at all: a failure mid-batch leaves nothing half-written, and the resend lands', async () => {
    const batch = [person(), person(), person()];
    const service = platform.dedup.service;
    const register = service.register.bind(service);
    // The failure comes after the rows and identifier indexes are written in the transaction.
    service.register = () => Promise.reject(new Error('simulated crash in the middle of the batch'));
    try {
      const failed = await bulk('_create', batch);
      expect(failed.status).toBe(500);
    } finally {
      service.register = register;
    }
    const refs = batch.map((b) => b['clientReferenceId']);
    expect((await search({ clientReferenceId: refs }, { includeDeleted: true })).body['TotalCount']).toBe(0);
    const resent = await bulk('_create', batch);
    expect((resent.body['Individuals'] as Json[]).map((i) => i['clientReferenceId'])).toEqual(refs);
    expect((await search({ clientReferenceId: refs })).body['TotalCount']).toBe(3);
  });
});

describe('update and delete', () => {
  it('needs the current rowVersion: a stale single update is 409 with the current record', async () => {
    const created = (await createOne(person())).body['Individual'] as Json;
    const v2 = await post(
      platform,
      '/individual/v1/_update',
      { RequestInfo: requestInfo, Individual: { ...created, gender: 'MALE' } },
      as['registrar'],
    );
    expect(v2.status, JSON.stringify(v2.body)).toBe(200);
    expect(v2.body['Individual']).toMatchObject({
      rowVersion: 2,
      gender: 'MALE',
      clientReferenceId: created['clientReferenceId'],
      individualId: created['individualId'],
    });
    const stale = await post(
      platform,
      '/individual/v1/_update',
      { RequestInfo: requestInfo, Individual: { ...created, gender: 'OTHER' } },
      as['registrar'],
    );
    expect(stale.status).toBe(409);
    expect(isDigitError(stale.body)).toBe(true);
    expect((stale.body['Errors'] as Json[])[0]!['code']).toBe('ROW_VERSION_MISMATCH');
    expect(stale.body['Individual']).toMatchObject({ id: created['id'], rowVersion: 2, gender: 'MALE' });
  });

  it('refuses stale records per record in bulk, with the current one, and lands the rest', async () => {
    const a = (await createOne(person())).body['Individual'] as Json;
    const b = (await createOne(person())).body['Individual'] as Json;
    const { status, body } = await bulk('_update', [
      { ...a, gender: 'OTHER' },
      { ...b, rowVersion: 7 },
      { ...a, gender: 'MALE' },
      { ...b, id: 'no-such-id' },
      { ...b, id: undefined },
    ]);
    expect(status).toBe(200);
    expect((body['Individuals'] as Json[]).map((i) => [i['id'], i['rowVersion'], i['gender']])).toEqual([[a['id'], 2, 'OTHER']]);
    expect(codes(body)).toEqual([
      [1, 'ROW_VERSION_MISMATCH'],
      [2, 'DUPLICATE_ENTITY'],
      [3, 'NON_EXISTENT_ENTITY'],
      [4, 'NULL_ID'],
    ]);
    expect((body['Errors'] as Json[])[0]!['current']).toMatchObject({ id: b['id'], rowVersion: 1 });
  });

  it('soft-deletes: a tombstone that searches show only with includeDeleted, and that refuses updates', async () => {
    const created = (await createOne(person())).body['Individual'] as Json;
    const stale = await post(
      platform,
      '/individual/v1/_delete',
      { RequestInfo: requestInfo, Individual: { ...created, rowVersion: 5 } },
      as['registrar'],
    );
    expect(stale.status).toBe(409);
    const gone = await post(platform, '/individual/v1/_delete', { RequestInfo: requestInfo, Individual: created }, as['registrar']);
    expect(gone.status, JSON.stringify(gone.body)).toBe(200);
    expect(gone.body['Individual']).toMatchObject({ id: created['id'], isDeleted: true, rowVersion: 2 });
    expect((await search({ id: [created['id']] })).body['TotalCount']).toBe(0);
    const tomb = await search({ id: [created['id']] }, { includeDeleted: true });
    expect(tomb.body['Individual']).toMatchObject([{ id: created['id'], isDeleted: true, rowVersion: 2 }]);
    const afterwards = await bulk('_update', [{ ...created, rowVersion: 2 }]);
    expect(codes(afterwards.body)).toEqual([[0, 'IS_DELETED']]);
    const again = await bulk('_delete', [{ ...created, rowVersion: 2 }]);
    expect(codes(again.body)).toEqual([[0, 'IS_DELETED']]);
  });

  it('keeps a stored value that a caller sends back masked', async () => {
    const created = (await createOne(person({ name: { givenName: 'Gurpreet', familyName: 'Sandhu' } }))).body['Individual'] as Json;
    const seen = (await search({ id: [created['id']] }, {}, as['employee'])).body['Individual'] as Json[];
    expect(seen[0]!['name']['givenName']).toBe('G*******');
    const changed = await post(
      platform,
      '/individual/v1/_update',
      { RequestInfo: requestInfo, Individual: { ...seen[0], gender: 'OTHER' } },
      as['employee'],
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const plain = (await search({ id: [created['id']] })).body['Individual'] as Json[];
    expect(plain[0]).toMatchObject({
      name: { givenName: 'Gurpreet', familyName: 'Sandhu' },
      mobileNumber: created['mobileNumber'],
      gender: 'OTHER',
      rowVersion: 2,
    });
    expect(plain[0]!['identifiers'][0]['identifierId']).toBe(created['identifiers'][0].identifierId);
    expect(plain[0]!['address'][0]['doorNo']).toBe('12-B');
  });

  it('does not let a caller link a record to their own account to see it in full', async () => {
    const created = (await createOne(person({ name: { givenName: 'Harbans', familyName: 'Bhullar' } }))).body['Individual'] as Json;
    const { body } = await login(platform, 'clerk.one', 'Field@2026x', 'pb.amritsar');
    const clerkUuid = (body['UserRequest'] as Json)['uuid'] as string;
    const seen = (await search({ id: [created['id']] }, {}, as['employee'])).body['Individual'] as Json[];
    const linked = await post(
      platform,
      '/individual/v1/_update',
      { RequestInfo: requestInfo, Individual: { ...seen[0], userUuid: clerkUuid } },
      as['employee'],
    );
    expect(linked.status, JSON.stringify(linked.body)).toBe(200);
    const after = (await search({ id: [created['id']] }, {}, as['employee'])).body['Individual'] as Json[];
    expect(after[0]!['userUuid']).toBeNull();
    expect(after[0]!['name']['givenName']).toBe('H******');
  });
});

describe('search', () => {
  it('finds people by name, mobile number and identifier through blind indexes', async () => {
    const input = person({
      name: { givenName: 'Manpreet', familyName: 'Gill', otherNames: 'Singh' },
      mobileNumber: '9876501234',
      identifiers: [{ identifierType: 'AADHAAR', identifierId: '5555 6666 7777' }],
    });
    const id = ((await createOne(input)).body['Individual'] as Json)['id'];
    const ids = async (criteria: Json) => ((await search(criteria)).body['Individual'] as Json[]).map((i) => i['id']);
    expect(await ids({ name: { givenName: 'manpreet ' } })).toEqual([id]);
    expect(await ids({ name: { givenName: 'Manpreet', familyName: 'GILL' } })).toEqual([id]);
    expect(await ids({ individualName: 'gill' })).toEqual([id]);
    expect(await ids({ mobileNumber: ['98765 01234'] })).toEqual([id]);
    expect(await ids({ identifier: { identifierType: 'aadhaar', identifierId: '555566667777' } })).toEqual([id]);
    expect(await ids({ name: { givenName: 'Manpree' } })).toEqual([]);
    expect(await ids({ identifier: { identifierType: 'PAN', identifierId: '555566667777' } })).toEqual([]);
    expect(await ids({ mobileNumber: ['9876501235'] })).toEqual([]);
    expect(await ids({ boundaryCode: 'SUN04', name: { givenName: 'Manpreet' } })).toEqual([id]);
  });

  it('masks by role and audits each person decrypted', async () => {
    const input = person({ name: { givenName: 'Rajinder', familyName: 'Bains' }, mobileNumber: '9876543210' });
    const id = ((await createOne(input)).body['Individual'] as Json)['id'];
    const view = async (who: string) => ((await search({ id: [id] }, {}, as[who])).body['Individual'] as Json[])[0]!;
    expect(await view('registrar')).toMatchObject({
      name: { givenName: 'Rajinder', familyName: 'Bains' },
      mobileNumber: '9876543210',
      dateOfBirth: '14/03/1985',
    });
    const employee = await view('employee');
    expect(employee).toMatchObject({
      name: { givenName: 'R*******', familyName: 'B****' },
      mobileNumber: '******3210',
      dateOfBirth: '******1985',
    });
    expect(employee['identifiers'][0]['identifierId']).toMatch(/^\*{8}\d{4}$/);
    expect(employee['address'][0]['doorNo']).toBe('****');
    expect(employee['address'][0]['locality']).toMatchObject({ code: 'SUN04' });
    expect(await view('distributor')).toMatchObject({ name: { givenName: 'Rajinder' }, mobileNumber: '******3210' });
    const entries = await platform.audit.log.search({
      tenantId: 'pb.amritsar',
      subject: id,
      actions: ['pii.decrypted'],
      offset: 0,
      limit: 100,
    });
    expect(entries).toHaveLength(3);
    expect(entries.every((e) => e.details['model'] === 'Individual' && e.details['purpose'] === 'search')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('Rajinder');
    expect(JSON.stringify(entries)).not.toContain('9876543210');
  });

  it('downloads changes since a time, in stable pages, tombstones with includeDeleted', async () => {
    const before = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    const made = (await bulk('_create', [person(), person(), person(), person(), person()])).body['Individuals'] as Json[];
    expect(made).toHaveLength(5);
    const since = { lastChangedSince: before };
    const all = await search({}, { ...since, limit: 100 });
    const order = (all.body['Individual'] as Json[]).map((i) => i['id']);
    expect(order).toEqual(expect.arrayContaining(made.map((m) => m['id'])));
    const pages: string[] = [];
    for (let offset = 0; offset < order.length; offset += 2) {
      const page = await search({}, { ...since, limit: 2, offset });
      expect(page.body['TotalCount']).toBe(order.length);
      pages.push(...(page.body['Individual'] as Json[]).map((i) => i['id']));
    }
    expect(pages).toEqual(order);
    const deleted = made[2]!;
    await bulk('_delete', [deleted]);
    expect(((await search({}, since)).body['Individual'] as Json[]).map((i) => i['id'])).not.toContain(deleted['id']);
    const withTombs = (await search({}, { ...since, includeDeleted: true })).body['Individual'] as Json[];
    expect(withTombs.at(-1)).toMatchObject({ id: deleted['id'], isDeleted: true });
    const count = await search({}, { ...since, limit: 0 });
    expect(count.body).toMatchObject({ TotalCount: order.length - 1, Individual: [] });
  });

  it('answers a record whose stored ciphertext is damaged with hasErrors, without failing the search', async () => {
    const damaged = ((await createOne(person({ name: { givenName: 'Paramjit', familyName: 'Randhawa' } }))).body['Individual'] as Json)[
      'id'
    ];
    const intact = ((await createOne(person({ name: { givenName: 'Paramjit', familyName: 'Randhawa' } }))).body['Individual'] as Json)[
      'id'
    ];
    await platform.database.kysely
      .withTables<{ individual: { id: string; given_name: string } }>()
      .updateTable('individual')
      .set({ given_name: 'pb:data:1|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })
      .where('id', '=', damaged)
      .execute();
    const { status, body } = await search({ id: [damaged, intact] });
    expect(status).toBe(200);
    const byId = new Map((body['Individual'] as Json[]).map((i) => [i['id'], i]));
    expect(byId.get(damaged)).toMatchObject({ hasErrors: true, name: { givenName: null, familyName: 'Randhawa' } });
    expect(byId.get(intact)).toMatchObject({ hasErrors: false, name: { givenName: 'Paramjit', familyName: 'Randhawa' } });
  });

  it("does not let a city's registrar read another city by naming its own tenant in the body", async () => {
    const created = await post(
      platform,
      '/user/users/_createnovalidate',
      {
        RequestInfo: {},
        user: {
          userName: 'registrar.jalandhar',
          name: 'Field registrar',
          password: 'Field@2026x',
          type: 'EMPLOYEE',
          tenantId: 'pb.jalandhar',
          mobileNumber: '9812345679',
          roles: [{ code: 'REGISTRAR', tenantId: 'pb.jalandhar' }],
        },
      },
      admin,
    );
    expect(created.status).toBe(200);
    const token = await login(platform, 'registrar.jalandhar', 'Field@2026x', 'pb.jalandhar');
    const jalandhar = { authorization: `Bearer ${String(token.body['access_token'])}` };
    expect((await createOne(person())).status).toBe(200); // someone in pb.amritsar
    const across = await search({ tenantId: 'pb.jalandhar' }, { tenantId: 'pb.amritsar' }, jalandhar);
    expect(across.status).toBe(403);
    expect(JSON.stringify(across.body)).not.toContain('pb.amritsar');
    const own = await search({ tenantId: 'pb.jalandhar' }, { tenantId: 'pb.jalandhar' }, jalandhar);
    expect(own.status).toBe(200);
  });

  it('refuses an unknown tenant', async () => {
    const { status, body } = await search({}, { tenantId: 'pb.atlantis' }, admin);
    expect(status).toBe(400);
    expect(isDigitError(body)).toBe(true);
  });
});

describe('lookup for households', () => {
  it('maps client reference ids, checks ids, and views people masked for the viewer', async () => {
    const input = person({ name: { givenName: 'Simran', familyName: 'Dhillon' } });
    const id = ((await createOne(input)).body['Individual'] as Json)['id'] as string;
    const { lookup } = platform.individual;
    expect(await lookup.idsByClientReferenceId('pb.amritsar', [input['clientReferenceId'], 'unknown'])).toEqual(
      new Map([[input['clientReferenceId'], id]]),
    );
    expect(await lookup.existingIds('pb.amritsar', [id, 'nope'])).toEqual(new Set([id]));
    expect(await lookup.existingIds('pb.jalandhar', [id])).toEqual(new Set());
    const viewer = {
      id: 1,
      uuid: 'viewer-uuid',
      userName: 'v',
      name: null,
      mobileNumber: null,
      emailId: null,
      type: 'EMPLOYEE' as const,
      tenantId: 'pb.amritsar',
      roles: [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }],
    };
    const [seen] = (await lookup.view('pb.amritsar', [id], viewer)) as Json[];
    expect(seen).toMatchObject({ id, name: { givenName: 'S*****' } });
    const entries = await platform.audit.log.search({
      tenantId: 'pb.amritsar',
      subject: id,
      actions: ['pii.decrypted'],
      offset: 0,
      limit: 10,
    });
    expect(entries.map((e) => [e.actorUuid, e.details['purpose']])).toEqual([['viewer-uuid', 'view']]);
  });
});
