import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, isDigitError, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let auth: Record<string, string>;

beforeAll(async () => {
  platform = await testPlatform();
  auth = await adminAuth(platform);
});
afterAll(() => platform.drop());

let serial = 0;
const ref = (prefix: string) => `${prefix}-${++serial}-${Math.random().toString(36).slice(2, 8)}`;

function household(fields: Json = {}): Json {
  return {
    tenantId: 'pb.amritsar',
    clientReferenceId: ref('hh'),
    memberCount: 3,
    householdType: 'FAMILY',
    address: { doorNo: '4', latitude: 31.67, longitude: 74.82, locality: { code: 'SUN04' } },
    clientAuditDetails: { createdBy: 'device-1', createdTime: 1_760_000_000_000 },
    ...fields,
  };
}

function member(fields: Json): Json {
  return { tenantId: 'pb.amritsar', clientReferenceId: ref('hm'), isHeadOfHousehold: false, ...fields };
}

const bulk = (path: string, key: string, records: Json[]) => post(platform, path, { RequestInfo: requestInfo, [key]: records }, auth);
const households = (op: string, records: Json[]) => bulk(`/household/v1/bulk/${op}`, 'Households', records);
const members = (op: string, records: Json[]) => bulk(`/household/member/v1/bulk/${op}`, 'HouseholdMembers', records);
const query = (params: Json) =>
  new URLSearchParams(
    Object.entries({ tenantId: 'pb.amritsar', limit: 100, offset: 0, ...params }).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
const searchHouseholds = (criteria: Json, params: Json = {}) =>
  post(platform, `/household/v1/_search?${query(params)}`, { RequestInfo: requestInfo, Household: criteria }, auth);
const searchMembers = (criteria: Json, params: Json = {}) =>
  post(platform, `/household/member/v1/_search?${query(params)}`, { RequestInfo: requestInfo, HouseholdMember: criteria }, auth);
const syncStatus = (clientReferenceIds?: string[]) =>
  post(
    platform,
    '/household/v1/sync/_status',
    { RequestInfo: requestInfo, SyncStatusCriteria: { tenantId: 'pb.amritsar', clientReferenceIds } },
    auth,
  );
const downsync = (criteria: Json) =>
  post(
    platform,
    '/household/v1/_downsync',
    { RequestInfo: requestInfo, DownsyncCriteria: { tenantId: 'pb.amritsar', locality: 'SUN04', ...criteria } },
    auth,
  );
const codes = (body: Json) => (body['Errors'] as Json[]).map((e) => [e['index'], e['errorCode']]);

async function createIndividual(clientReferenceId: string): Promise<Json> {
  const { status, body } = await post(
    platform,
    '/individual/v1/_create',
    {
      RequestInfo: requestInfo,
      Individual: { tenantId: 'pb.amritsar', clientReferenceId, name: { givenName: `Given ${clientReferenceId}`, familyName: 'Kaur' } },
    },
    auth,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return body['Individual'] as Json;
}

async function outbox(subject: string) {
  const rows = await platform.database.kysely
    .withTables<{ plinth_outbox: { id: string; type: string; subject: string; data: unknown } }>()
    .selectFrom('plinth_outbox')
    .selectAll()
    .where('subject', '=', subject)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ type: r.type, data: platform.database.fromJson<Json>(r.data) }));
}

describe('households', () => {
  it('answers a bulk create per record: good ones land, bad and duplicate ones are refused with a code', async () => {
    const good = household();
    const second = household({ householdType: 'COMMUNITY', address: null });
    const { status, body } = await households('_create', [
      good,
      household({ memberCount: -1 }),
      household({ address: { locality: { code: 'NOWHERE' } } }),
      { ...good, memberCount: 9 },
      household({ tenantId: 'pb.nowhere' }),
      second,
      household({ clientReferenceId: undefined }),
    ]);
    expect(status, JSON.stringify(body)).toBe(200);
    expect((body['Households'] as Json[]).map((h) => h['clientReferenceId'])).toEqual([
      good['clientReferenceId'],
      second['clientReferenceId'],
    ]);
    expect(codes(body)).toEqual([
      [1, 'INVALID_REQUEST'],
      [2, 'INVALID_BOUNDARY'],
      [3, 'DUPLICATE_ENTITY'],
      [4, 'INVALID_TENANT_ID'],
      [6, 'MISSING_CLIENT_REFERENCE_ID'],
    ]);
    const stored = (body['Households'] as Json[])[0]!;
    expect(stored).toMatchObject({ tenantId: 'pb.amritsar', memberCount: 3, rowVersion: 1, isDeleted: false, householdType: 'FAMILY' });
    expect(stored['id']).toMatch(/^HH-\d{4}-\d{2}-\d{2}-\d+$/);
    expect(stored['address']).toMatchObject({ doorNo: '4', latitude: 31.67, locality: { code: 'SUN04' } });
    // Committed before the answer: a search finds exactly the two.
    const found = await searchHouseholds({ clientReferenceId: [good['clientReferenceId'], second['clientReferenceId']] });
    expect(found.body['TotalCount']).toBe(2);
    // Events carry ids and codes, not the address.
    const events = await outbox(stored['id']);
    expect(events.map((e) => e.type)).toEqual(['plinth.household.created.v1']);
    expect(Object.keys(events[0]!.data).sort()).toEqual([
      'clientReferenceId',
      'householdType',
      'id',
      'isDeleted',
      'localityCode',
      'memberCount',
      'rowVersion',
      'tenantId',
    ]);
  });

  it('answers the stored household when a create is sent again, and stores one', async () => {
    const input = household();
    const first = await post(platform, '/household/v1/_create', { RequestInfo: requestInfo, Household: input }, auth);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const again = await households('_create', [{ ...input, memberCount: 7 }]);
    expect(again.body['Errors']).toEqual([]);
    const [resent] = again.body['Households'] as Json[];
    expect(resent).toEqual(first.body['Household']);
    expect((await searchHouseholds({ clientReferenceId: [input['clientReferenceId']] })).body['TotalCount']).toBe(1);
    expect(await outbox((first.body['Household'] as Json)['id'])).toHaveLength(1);
  });

  it('refuses a stale rowVersion with the current record: per record in bulk, 409 for a single update', async () => {
    const created = ((await households('_create', [household()])).body['Households'] as Json[])[0]!;
    const updated = await households('_update', [{ ...created, memberCount: 5, rowVersion: 1 }]);
    expect(updated.body['Errors']).toEqual([]);
    expect((updated.body['Households'] as Json[])[0]).toMatchObject({ memberCount: 5, rowVersion: 2 });

    const stale = await households('_update', [{ ...created, memberCount: 6, rowVersion: 1 }]);
    expect(stale.body['Households']).toEqual([]);
    const [error] = stale.body['Errors'] as Json[];
    expect(error).toMatchObject({ index: 0, errorCode: 'ROW_VERSION_MISMATCH', id: created['id'] });
    expect(error!['current']).toMatchObject({ id: created['id'], memberCount: 5, rowVersion: 2 });

    const single = await post(
      platform,
      '/household/v1/_update',
      { RequestInfo: requestInfo, Household: { ...created, memberCount: 6, rowVersion: 1 } },
      auth,
    );
    expect(single.status).toBe(409);
    expect(isDigitError(single.body)).toBe(true);
    expect((single.body['Errors'] as Json[])[0]!['code']).toBe('ROW_VERSION_MISMATCH');
    expect(single.body['Household']).toMatchObject({ memberCount: 5, rowVersion: 2 });

    const unknown = await post(
      platform,
      '/household/v1/_update',
      { RequestInfo: requestInfo, Household: { ...created, id: 'HH-none', clientReferenceId: null } },
      auth,
    );
    expect(unknown.status).toBe(400);
    expect((unknown.body['Errors'] as Json[])[0]!['code']).toBe('NON_EXISTENT_ENTITY');
  });

  it('lets only one of two simultaneous updates from the same rowVersion win', async () => {
    const created = ((await households('_create', [household()])).body['Households'] as Json[])[0]!;
    for (let round = 0; round < 5; round++) {
      const base = ((await searchHouseholds({ id: [created['id']] })).body['Households'] as Json[])[0]!;
      const results = await Promise.all([
        post(platform, '/household/v1/_update', { RequestInfo: requestInfo, Household: { ...base, memberCount: 10 + round } }, auth),
        post(platform, '/household/v1/_update', { RequestInfo: requestInfo, Household: { ...base, memberCount: 20 + round } }, auth),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const winner = results.find((r) => r.status === 200)!.body['Household'] as Json;
      const stored = ((await searchHouseholds({ id: [created['id']] })).body['Households'] as Json[])[0]!;
      expect(stored).toMatchObject({ memberCount: winner['memberCount'], rowVersion: Number(base['rowVersion']) + 1 });
    }
  });

  it('soft-deletes, and searches by lastChangedSince and includeDeleted in a stable order', async () => {
    const before = Date.now();
    const made = (await households('_create', [household(), household(), household()])).body['Households'] as Json[];
    const refs = made.map((h) => h['clientReferenceId'] as string);
    const deleted = await households('_delete', [{ ...made[1], rowVersion: 1 }]);
    expect((deleted.body['Households'] as Json[])[0]).toMatchObject({ isDeleted: true, rowVersion: 2 });
    // A re-sent delete answers the deleted record again.
    expect((await households('_delete', [{ ...made[1], rowVersion: 1 }])).body['Errors']).toEqual([]);

    const live = await searchHouseholds({ clientReferenceId: refs });
    expect((live.body['Households'] as Json[]).map((h) => h['id'])).toEqual([made[0]!['id'], made[2]!['id']]);
    const all = await searchHouseholds({ clientReferenceId: refs }, { includeDeleted: true });
    expect(all.body['TotalCount']).toBe(3);
    // Ordered by last change: the deleted one changed last.
    expect((all.body['Households'] as Json[]).map((h) => h['id'])).toEqual([made[0]!['id'], made[2]!['id'], made[1]!['id']]);
    const pageTwo = await searchHouseholds({ clientReferenceId: refs }, { includeDeleted: true, limit: 2, offset: 2 });
    expect((pageTwo.body['Households'] as Json[]).map((h) => h['id'])).toEqual([made[1]!['id']]);

    const deletedAt = ((deleted.body['Households'] as Json[])[0]!['auditDetails'] as Json)['lastModifiedTime'] as number;
    const changed = await searchHouseholds({ clientReferenceId: refs }, { includeDeleted: true, lastChangedSince: deletedAt });
    expect((changed.body['Households'] as Json[]).map((h) => h['id'])).toContain(made[1]!['id']);
    expect((await searchHouseholds({ clientReferenceId: refs }, { lastChangedSince: before })).body['TotalCount']).toBe(2);
    expect((await searchHouseholds({ clientReferenceId: refs }, { lastChangedSince: Date.now() + 60_000 })).body['TotalCount']).toBe(0);
  });
});

describe('members', () => {
  it('refuses a member without a link, a second head and an individual already in a household', async () => {
    const home = ((await households('_create', [household()])).body['Households'] as Json[])[0]!;
    const head = await createIndividual(ref('ind'));
    const other = await createIndividual(ref('ind'));
    const { body } = await members('_create', [
      member({ householdId: home['id'], individualId: head['id'], isHeadOfHousehold: true }),
      member({ householdId: home['id'] }),
      member({ individualClientReferenceId: other['clientReferenceId'] }),
      member({ householdClientReferenceId: home['clientReferenceId'], individualId: other['id'], isHeadOfHousehold: true }),
      member({ householdId: home['id'], individualId: head['id'] }),
      member({ householdId: 'HH-missing', individualId: other['id'] }),
      { ...member({ householdId: home['id'], individualId: other['id'] }), clientReferenceId: 'dup-in-batch' },
      { ...member({ householdId: home['id'], individualId: other['id'] }), clientReferenceId: 'dup-in-batch' },
    ]);
    expect(codes(body)).toEqual([
      [1, 'REQUIRED_LINK_MISSING'],
      [2, 'REQUIRED_LINK_MISSING'],
      [3, 'HOUSEHOLD_ALREADY_HAS_HEAD'],
      [4, 'INDIVIDUAL_ALREADY_MEMBER_OF_HOUSEHOLD'],
      [5, 'NON_EXISTENT_ENTITY'],
      [7, 'DUPLICATE_ENTITY'],
    ]);
    const [stored, first] = body['HouseholdMembers'] as Json[];
    expect(first).toMatchObject({ clientReferenceId: 'dup-in-batch', individualId: other['id'] });
    expect(stored).toMatchObject({
      householdId: home['id'],
      householdClientReferenceId: home['clientReferenceId'],
      individualId: head['id'],
      isHeadOfHousehold: true,
      rowVersion: 1,
    });
    // A later call cannot make another member head by update.
    const promote = await members('_update', [{ ...first, isHeadOfHousehold: true }]);
    expect(codes(promote.body)).toEqual([[0, 'HOUSEHOLD_ALREADY_HAS_HEAD']]);
  });

  it('stores members sent before their household and links them when it arrives in a later call', async () => {
    const home = household();
    const [a, b] = [await createIndividual(ref('ind')), await createIndividual(ref('ind'))];
    const early = await members('_create', [
      member({ householdClientReferenceId: home['clientReferenceId'], individualId: a['id'], isHeadOfHousehold: true }),
      member({ householdClientReferenceId: home['clientReferenceId'], individualId: b['id'] }),
    ]);
    expect(early.body['Errors']).toEqual([]);
    const waiting = early.body['HouseholdMembers'] as Json[];
    expect(waiting.map((m) => m['householdId'])).toEqual([null, null]);
    const status = await syncStatus(waiting.map((m) => m['clientReferenceId'] as string));
    expect((status.body['WaitingLinks'] as Json[]).map((l) => [l['clientReferenceId'], l['link'], l['parentClientReferenceId']])).toEqual(
      waiting.map((m) => [m['clientReferenceId'], 'household', home['clientReferenceId']]),
    );

    const stored = ((await households('_create', [home])).body['Households'] as Json[])[0]!;
    const linked = await searchMembers({ householdClientReferenceId: [home['clientReferenceId']] });
    expect((linked.body['HouseholdMembers'] as Json[]).map((m) => m['householdId'])).toEqual([stored['id'], stored['id']]);
    expect((await syncStatus(waiting.map((m) => m['clientReferenceId'] as string))).body['TotalCount']).toBe(0);
    // Linked in the household's own transaction: the events say so.
    expect((await outbox(waiting[0]!['id'])).map((e) => e.type)).toEqual([
      'plinth.household.member.created.v1',
      'plinth.household.member.linked.v1',
    ]);
  });

  it('links relationships to relatives later in the same batch or in a later call', async () => {
    const home = ((await households('_create', [household()])).body['Households'] as Json[])[0]!;
    const [x, y, z] = [await createIndividual(ref('ind')), await createIndividual(ref('ind')), await createIndividual(ref('ind'))];
    const mother = member({ householdId: home['id'], individualId: y['id'] });
    const grandmother = member({ householdId: home['id'], individualId: z['id'] });
    const child = member({
      householdId: home['id'],
      individualId: x['id'],
      memberRelationships: [
        { relativeClientReferenceId: mother['clientReferenceId'], relationshipType: 'MOTHER' },
        { relativeClientReferenceId: grandmother['clientReferenceId'], relationshipType: 'GRANDMOTHER' },
      ],
    });
    const first = await members('_create', [child, mother]);
    expect(first.body['Errors']).toEqual([]);
    const [storedChild, storedMother] = first.body['HouseholdMembers'] as Json[];
    const rels = storedChild!['memberRelationships'] as Json[];
    expect(rels.map((r) => [r['selfId'], r['relativeId'], r['relationshipType']])).toEqual([
      [storedChild!['id'], storedMother!['id'], 'MOTHER'],
      [storedChild!['id'], null, 'GRANDMOTHER'],
    ]);
    const status = await syncStatus([child['clientReferenceId'] as string]);
    expect((status.body['WaitingLinks'] as Json[]).map((l) => [l['entity'], l['link'], l['parentClientReferenceId']])).toEqual([
      ['Relationship', 'relative', grandmother['clientReferenceId']],
    ]);

    await members('_create', [grandmother]);
    const after = await searchMembers({ clientReferenceId: [child['clientReferenceId']] });
    const relatives = ((after.body['HouseholdMembers'] as Json[])[0]!['memberRelationships'] as Json[]).map((r) => r['relativeId']);
    expect(relatives).not.toContain(null);
    expect((await syncStatus([child['clientReferenceId'] as string])).body['TotalCount']).toBe(0);
  });

  it('stores a member sent before its individual and links it once the individual is registered', async () => {
    const home = ((await households('_create', [household()])).body['Households'] as Json[])[0]!;
    const individualRef = ref('ind');
    const early = await members('_create', [member({ householdId: home['id'], individualClientReferenceId: individualRef })]);
    expect(early.body['Errors']).toEqual([]);
    const waiting = (early.body['HouseholdMembers'] as Json[])[0]!;
    expect(waiting['individualId']).toBeNull();
    const status = await syncStatus([waiting['clientReferenceId'] as string]);
    expect(status.body['WaitingLinks']).toEqual([
      {
        entity: 'HouseholdMember',
        id: waiting['id'],
        clientReferenceId: waiting['clientReferenceId'],
        memberClientReferenceId: null,
        link: 'individual',
        parentClientReferenceId: individualRef,
        waitingSince: (waiting['auditDetails'] as Json)['createdTime'],
        problem: null,
      },
    ]);

    const person = await createIndividual(individualRef);
    // The subscriber links it once the dispatcher delivers the individual's event.
    let linkedBy: string | null = null;
    for (let attempt = 0; attempt < 200 && linkedBy === null; attempt++) {
      await platform.dispatcher.deliverPending();
      const row = await platform.database.kysely
        .withTables<{ household_member: { id: string; individual_id: string | null } }>()
        .selectFrom('household_member')
        .select('individual_id')
        .where('id', '=', waiting['id'])
        .executeTakeFirstOrThrow();
      linkedBy = row.individual_id;
      if (linkedBy === null) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(linkedBy).toBe(person['id']);
    expect((await syncStatus([waiting['clientReferenceId'] as string])).body['TotalCount']).toBe(0);
    const found = await searchMembers({ individualClientReferenceId: [individualRef] });
    expect((found.body['HouseholdMembers'] as Json[])[0]).toMatchObject({ individualId: person['id'], rowVersion: 1 });
  });
});

describe('downsync', () => {
  it("pages a locality's households, members and individuals so that the pages cover each exactly once", async () => {
    const here = Array.from({ length: 7 }, () => household());
    const elsewhere = household({ address: { locality: { code: 'SUN11' } } });
    const made = (await households('_create', [...here, elsewhere])).body['Households'] as Json[];
    const ours = new Set(made.slice(0, 7).map((h) => h['id'] as string));
    const memberIds = new Set<string>();
    const individualIds = new Set<string>();
    for (const h of made.slice(0, 7)) {
      const person = await createIndividual(ref('ind'));
      const created = await members('_create', [member({ householdId: h['id'], individualId: person['id'], isHeadOfHousehold: true })]);
      memberIds.add((created.body['HouseholdMembers'] as Json[])[0]!['id']);
      individualIds.add(person['id']);
    }
    const everything = await downsync({ limit: 0 });
    expect(everything.status, JSON.stringify(everything.body)).toBe(200);
    const total = everything.body['TotalCount'] as number;
    expect(total).toBeGreaterThanOrEqual(7);

    for (const mode of ['cursor', 'offset'] as const) {
      const seen = { households: [] as string[], members: [] as string[], individuals: [] as string[] };
      let cursor: string | null = null;
      let offset = 0;
      for (let page = 0; page < 100; page++) {
        const { status, body } = await downsync(mode === 'cursor' ? { limit: 3, cursor } : { limit: 3, offset });
        expect(status, JSON.stringify(body)).toBe(200);
        expect(body['TotalCount']).toBe(total);
        const d = body['Downsync'] as Json;
        seen.households.push(...(d['Households'] as Json[]).map((h) => h['id'] as string));
        seen.members.push(...(d['HouseholdMembers'] as Json[]).map((m) => m['id'] as string));
        seen.individuals.push(...(d['Individuals'] as Json[]).map((i) => i['id'] as string));
        cursor = d['DownsyncCriteria']['nextCursor'];
        offset = d['DownsyncCriteria']['nextOffset'] ?? offset;
        if ((mode === 'cursor' ? cursor : d['DownsyncCriteria']['nextOffset']) === null) break;
      }
      expect(seen.households).toHaveLength(total);
      expect(new Set(seen.households).size).toBe(total);
      for (const id of ours) expect(seen.households).toContain(id);
      expect(seen.households).not.toContain(made[7]!['id']);
      for (const id of memberIds) expect(seen.members.filter((m) => m === id)).toHaveLength(1);
      for (const id of individualIds) expect(seen.individuals.filter((i) => i === id)).toHaveLength(1);
      expect(new Set(seen.members).size).toBe(seen.members.length);
    }

    // Incremental: only what changed since.
    const since = Date.now() + 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const changed = made[0]!;
    await households('_update', [{ ...changed, memberCount: 4, rowVersion: 1 }]);
    const delta = await downsync({ lastSyncedTime: since });
    expect(((delta.body['Downsync'] as Json)['Households'] as Json[]).map((h) => h['id'])).toEqual([changed['id']]);
  });

  it('refuses an unknown locality, an unknown tenant and a forged cursor', async () => {
    const locality = await downsync({ locality: 'NOWHERE' });
    expect(locality.status).toBe(400);
    expect((locality.body['Errors'] as Json[])[0]!['code']).toBe('INVALID_BOUNDARY');
    const tenant = await downsync({ tenantId: 'pb.nowhere' });
    expect(tenant.status).toBe(400);
    expect(isDigitError(tenant.body)).toBe(true);
    const cursor = await downsync({ cursor: 'bm90LWEtY3Vyc29y' });
    expect(cursor.status).toBe(400);
    expect((cursor.body['Errors'] as Json[])[0]!['code']).toBe('INVALID_CURSOR');
    const search = await post(platform, '/household/v1/_search?tenantId=pb.nowhere', { RequestInfo: requestInfo, Household: {} }, auth);
    expect(search.status).toBe(400);
  });
});
