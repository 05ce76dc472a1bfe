import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { DomainError } from '../../kernel/errors.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { createIdgenService } from './idgen.service.js';
import { createIdgenStore } from './idgen.store.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let auth: Record<string, string>;
beforeAll(async () => {
  platform = await testPlatform();
  auth = await adminAuth(platform);
});
afterAll(() => platform.drop());

const generate = (idRequests: object[]) => post(platform, '/egov-idgen/id/_generate', { RequestInfo: requestInfo, idRequests }, auth);
const idsOf = (body: Json) => (body['idResponses'] as Array<{ id: string }>).map((r) => r.id);
const seqOf = (id: string) => Number(/(\d+)$/.exec(id)?.[1]);
const errorCode = (body: Json) => body['Errors']?.[0]?.code as string | undefined;

describe('POST /egov-idgen/id/_generate', () => {
  it("answers DIGIT's shape with consecutive numbers from the MDMS format", async () => {
    const { status, body } = await generate([{ idName: 'pgr.servicerequestid', tenantId: 'pb.amritsar', count: 3 }]);
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['idResponses', 'responseInfo']);
    expect(body['responseInfo']).toMatchObject({ apiId: 'Rainmaker', msgId: requestInfo.msgId, status: 'SUCCESSFUL' });
    const ids = idsOf(body);
    for (const id of ids) expect(id).toMatch(/^PB-PGR-\d{4}-\d{2}-\d{2}-\d{6}$/);
    expect(ids.map(seqOf)).toEqual([0, 1, 2].map((i) => seqOf(ids[0]!) + i));
  });

  it("reads the request leniently: requestInfo, no count, DIGIT's test payload nulls", async () => {
    const { status, body } = await post(
      platform,
      '/egov-idgen/id/_generate',
      {
        requestInfo: { apiId: null, ts: null },
        idRequests: [{ idName: 'pt.receipt.id', tenantId: 'pb.amritsar', format: null, count: null }],
      },
      auth,
    );
    expect(status).toBe(200);
    expect(idsOf(body)).toHaveLength(1);
    expect(idsOf(body)[0]).toMatch(/^PT\/107\/\d{4}-\d{2}\/\d{6}$/);
  });

  it("prefers the MDMS format to the request's, and concatenates every request's ids in order", async () => {
    const { status, body } = await generate([
      { idName: 'pt.assessmentnumber', tenantId: 'pb.amritsar', format: 'IGNORED-[SEQ_EG_PGR_ID]', count: 2 },
      { idName: 'pt.receipt.id', tenantId: 'pb.jalandhar' },
    ]);
    expect(status).toBe(200);
    const ids = idsOf(body);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toMatch(/^PB-AS-\d{4}-\d{2}-\d{2}-000001$/);
    expect(ids[1]).toMatch(/^PB-AS-\d{4}-\d{2}-\d{2}-000002$/);
    expect(ids[2]).toMatch(/^PT\/1013\//);
  });

  it("uses the request's format when the idName has none, with an existing sequence only", async () => {
    const ok = await generate([{ idName: 'not.configured', tenantId: 'pb.amritsar', format: 'REQ-[TENANT_ID]-[SEQ_EGOV_COMMON]' }]);
    expect(ok.status).toBe(200);
    expect(idsOf(ok.body)[0]).toMatch(/^REQ-PB_AMRITSAR-\d{6}$/);
    const empty = await generate([{ idName: '', tenantId: 'pb', format: 'E-[SEQ_EGOV_COMMON]' }]);
    expect(empty.status).toBe(200);
    expect(seqOf(idsOf(empty.body)[0]!)).toBe(seqOf(idsOf(ok.body)[0]!) + 1);

    const missing = await generate([{ idName: 'not.configured', tenantId: 'pb', format: 'X-[SEQ_TYPO_NEVER_CREATED]' }]);
    expect(missing.status).toBe(400);
    expect(errorCode(missing.body)).toBe('SEQ_DOES_NOT_EXIST');
  });

  it('answers ID_NOT_FOUND when neither MDMS nor the request has a format', async () => {
    for (const request of [
      { idName: 'no.such.name', tenantId: 'pb.amritsar' },
      { idName: 'no.such.name', tenantId: 'pb', format: '  ' },
    ]) {
      const { status, body } = await generate([request]);
      expect(status).toBe(400);
      expect(body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'ID_NOT_FOUND' }] });
    }
  });

  it('refuses unknown tenants, bad formats, bad counts and missing fields with 400', async () => {
    expect(errorCode((await generate([{ idName: 'pt.receipt.id', tenantId: 'pb.nowhere' }])).body)).toBe('INVALID_TENANT_ID');
    expect(errorCode((await generate([{ idName: 'x', tenantId: 'pb', format: 'A-[cy:qq]' }])).body)).toBe('INVALID_FORMAT');
    for (const bad of [
      [{ idName: 'x', tenantId: 'pb', count: 0 }],
      [{ idName: 'x', tenantId: 'pb', count: 10_001 }],
      [{ tenantId: 'pb' }],
      [{ idName: 'x' }],
      [],
    ]) {
      expect((await generate(bad)).status, JSON.stringify(bad)).toBe(400);
    }
    const tooMany = await generate([
      { idName: 'pgr.servicerequestid', tenantId: 'pb', count: 6000 },
      { idName: 'pgr.servicerequestid', tenantId: 'pb', count: 6000 },
    ]);
    expect(errorCode(tooMany.body)).toBe('INVALID_COUNT');
  });

  it('draws nothing when any request of the call fails', async () => {
    const before = idsOf((await generate([{ idName: 'pgr.servicerequestid', tenantId: 'pb' }])).body)[0]!;
    for (const second of [
      { idName: 'x', tenantId: 'pb', format: 'X-[SEQ_TYPO_NEVER_CREATED]' },
      { idName: 'no.such.name', tenantId: 'pb' },
    ]) {
      const failed = await generate([{ idName: 'pgr.servicerequestid', tenantId: 'pb', count: 5 }, second]);
      expect(failed.status).toBe(400);
    }
    const after = idsOf((await generate([{ idName: 'pgr.servicerequestid', tenantId: 'pb' }])).body)[0]!;
    expect(seqOf(after)).toBe(seqOf(before) + 1);
  });

  it("falls back per idName from the city's own formats to the state's", async () => {
    const created = await post(
      platform,
      '/mdms-v2/v2/_create/common-masters.IdFormat',
      {
        RequestInfo: requestInfo,
        Mdms: { tenantId: 'pb.amritsar', data: { idname: 'tl.receipt.id', format: 'ASR-TL-[SEQ_ASR_TL]', padding: 4 } },
      },
      auth,
    );
    expect(created.status).toBe(202);
    const { body } = await generate([
      { idName: 'tl.receipt.id', tenantId: 'pb.amritsar' },
      { idName: 'tl.receipt.id', tenantId: 'pb.jalandhar' },
      { idName: 'pt.receipt.id', tenantId: 'pb.amritsar' },
    ]);
    const [own, state, fallback] = idsOf(body);
    expect(own).toBe('ASR-TL-0001');
    expect(state).toMatch(/^TEST\/1013\//);
    expect(fallback).toMatch(/^PT\/107\//);
  });

  it('refuses callers without a token', async () => {
    const { status } = await post(platform, '/egov-idgen/id/_generate', {
      idRequests: [{ idName: 'pgr.servicerequestid', tenantId: 'pb' }],
    });
    expect(status).toBe(401);
  });
});

describe('the service at a fixed time, against the seeded MDMS', () => {
  it('prints the date, financial year and city code of the tenant', async () => {
    // 2024-04-01 01:30 in India, 2024-03-31 in UTC.
    const clock = { now: () => Date.UTC(2024, 2, 31, 20, 0) };
    const service = createIdgenService({
      database: platform.database,
      store: createIdgenStore(platform.database),
      clock,
      mdms: platform.mdms.service,
      timeZone: 'Asia/Kolkata',
    });
    const [receipt, complaint] = await service.generate([
      { idName: 'watercharges.metered.receipt.id', tenantId: 'pb.jalandhar', count: 1 },
      { idName: '', tenantId: 'pb.jalandhar', format: '[cy:dd.MM.yyyy]/[city]' },
    ], SYSTEM_SCOPE);
    expect(receipt).toMatch(/^MP\/1013\/2024-25\/\d{6}$/);
    expect(complaint).toBe('01.04.2024/1013');
  });
});

describe('seed/idgen', () => {
  async function seedDir(content: unknown): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-idgen-seed-'));
    await fs.mkdir(path.join(dir, 'idgen'));
    await fs.writeFile(path.join(dir, 'idgen', 'sequences.json'), JSON.stringify(content));
    return dir;
  }

  it('creates and raises counters, never lowers them, and refuses bad files whole', async () => {
    const raise = await seedDir({
      tenantId: 'pb',
      sequences: [
        { name: 'SEQ_EGOV_COMMON', next: 5000 },
        { name: 'SEQ_NEW_ONE', next: 10 },
      ],
    });
    expect((await platform.seed(raise))['idgen']).toEqual({ sequencesCreated: 1, sequencesRaised: 1, sequencesUnchanged: 0 });
    expect(idsOf((await generate([{ idName: 'x', tenantId: 'pb', format: 'M-[SEQ_EGOV_COMMON]|[SEQ_NEW_ONE]' }])).body)).toEqual([
      'M-005000|000010',
    ]);

    const lower = await seedDir({ tenantId: 'pb', sequences: [{ name: 'seq_egov_common', next: 2 }] });
    expect((await platform.seed(lower))['idgen']).toEqual({ sequencesCreated: 0, sequencesRaised: 0, sequencesUnchanged: 1 });

    const bad = await seedDir({
      tenantId: 'pb',
      sequences: [{ name: 'SEQ_FINE', next: 3 }, { name: 'NOT-A-SEQ' }, { name: 'SEQ_X', next: 0 }],
    });
    const refused = await platform.seed(bad).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    const messages = (refused as DomainError).details.map((d) => d.message).join('\n');
    expect(messages).toContain('idgen/sequences.json: record 2');
    expect(messages).toContain('idgen/sequences.json: record 3');
    const fine = await generate([{ idName: 'x', tenantId: 'pb', format: '[SEQ_FINE]' }]);
    expect(errorCode(fine.body)).toBe('SEQ_DOES_NOT_EXIST');
    expect(idsOf((await generate([{ idName: 'x', tenantId: 'pb', format: '[SEQ_EGOV_COMMON]' }])).body)).toEqual(['005001']);
  });

  it('keeps counters per state tenant', async () => {
    const store = createIdgenStore(platform.database);
    const db = store.runner();
    const a = await store.takeCreating(db, 'pb', 'seq_scoped', 3, 1);
    const b = await store.takeCreating(db, 'hp', 'seq_scoped', 1, 1);
    expect([a, b, await store.takeCreating(db, 'pb', 'seq_scoped', 2, 1)]).toEqual([3, 1, 5]);
  });
});

describe('POST /egov-idgen/id/_reserve and reservation/_search', () => {
  const reserve = (reservation: object) => post(platform, '/egov-idgen/id/_reserve', { RequestInfo: requestInfo, reservation }, auth);
  const search = (criteria: object) => post(platform, '/egov-idgen/id/reservation/_search', { RequestInfo: requestInfo, criteria }, auth);

  it('reserves a block that generated ids never overlap, recorded with who, which device and until when', async () => {
    const before = idsOf((await generate([{ idName: 'pgr.servicerequestid', tenantId: 'pb.amritsar', count: 5 }])).body);
    const reserved = await reserve({
      idName: 'pgr.servicerequestid',
      tenantId: 'pb.amritsar',
      count: 50,
      deviceId: 'tablet-7',
      expiresInDays: 10,
    });
    expect(reserved.status).toBe(200);
    const block = idsOf(reserved.body);
    const after = idsOf((await generate([{ idName: 'pgr.servicerequestid', tenantId: 'pb.amritsar', count: 5 }])).body);
    expect(block).toHaveLength(50);
    expect(new Set([...before, ...block, ...after]).size).toBe(60);
    const numbers = [...before, ...block, ...after].map(seqOf);
    expect(numbers).toEqual([...numbers].sort((x, y) => x - y));

    const reservation = reserved.body['reservation'] as Json;
    const [admin] = await platform.users.service.search({ userName: 'admin', tenantId: 'pb' }, { pageSize: 1 });
    expect(reservation).toMatchObject({ tenantId: 'pb.amritsar', idName: 'pgr.servicerequestid', count: 50, deviceId: 'tablet-7' });
    expect(reservation['auditDetails']['createdBy']).toBe(admin!.uuid);
    expect(reservation['expiresTime'] - reservation['auditDetails']['createdTime']).toBe(10 * 86_400_000);

    const byDevice = await search({ tenantId: 'pb.amritsar', deviceId: 'tablet-7', includeIds: true });
    expect(byDevice.status).toBe(200);
    const found = byDevice.body['reservations'] as Json[];
    expect(found).toHaveLength(1);
    expect(found[0]!['ids']).toEqual(block);
    const byId = await search({ tenantId: 'pb.amritsar', reservedId: block[17] });
    expect((byId.body['reservations'] as Json[]).map((r) => r['id'])).toEqual([reservation['id']]);
    expect((byId.body['reservations'] as Json[])[0]!['ids']).toBeUndefined();
    expect((await search({ tenantId: 'pb.amritsar', reservedId: after[0] })).body['reservations']).toEqual([]);
  });

  it('refuses blocks it could not keep unique, and bad sizes', async () => {
    const random = await reserve({ idName: 'x', tenantId: 'pb', format: 'R-[d{6}]', count: 10 });
    expect(errorCode(random.body)).toBe('IDGEN_RESERVATION_NEEDS_SEQUENCE');
    for (const count of [0, 10_001]) expect((await reserve({ idName: 'pgr.servicerequestid', tenantId: 'pb', count })).status).toBe(400);
    expect(errorCode((await reserve({ idName: 'no.such', tenantId: 'pb', count: 1 })).body)).toBe('ID_NOT_FOUND');
    expect((await search({ tenantId: 'pb', idName: 'x' })).body['reservations']).toEqual([]);
  });
});
