import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/errors.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { SEED_DIR, adminAuth, login, post as rawPost, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let admin: Record<string, string> = {};
beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
});
afterAll(async () => {
  await platform.drop();
});

async function post(url: string, body: unknown, headers: Record<string, string> = admin): Promise<{ status: number; body: Json }> {
  const response = await rawPost(platform, url, body, headers);
  return { status: response.status, body: response.body as Json };
}
const errorCodes = (response: { body: Json }) => ((response.body['Errors'] ?? []) as Json[]).map((e) => e['code']);

const B = '/boundary-service/boundary';
const H = '/boundary-service/boundary-hierarchy-definition';
const R = '/boundary-service/boundary-relationships';

const square = (x: number, y: number, size = 0.01) => ({
  type: 'Polygon',
  coordinates: [
    [
      [x, y],
      [x + size, y],
      [x + size, y + size],
      [x, y + size],
      [x, y],
    ],
  ],
});

async function tree(query: string, headers: Record<string, string> = admin): Promise<Json[]> {
  const response = await post(`${R}/_search?${query}`, { RequestInfo: requestInfo }, headers);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  const [tenantBoundary] = response.body['TenantBoundary'] as Json[];
  return tenantBoundary!['boundary'];
}
/** `[{code: [children…]}]`, to compare tree shapes at a glance. */
const shape = (nodes: Json[]): unknown => nodes.map((n) => ({ [n['code']]: shape(n['children']) }));
const count = (nodes: Json[]): number => nodes.reduce((n, b) => n + 1 + count(b['children']), 0);

const createEntities = (tenantId: string, codes: string[]) =>
  post(`${B}/_create`, {
    RequestInfo: requestInfo,
    Boundary: codes.map((code, i) => ({ tenantId, code, geometry: square(75.5 + i / 100, 31.3) })),
  });
const define = (tenantId: string, hierarchyType: string, levels: Array<[string, string | null]>) =>
  post(`${H}/_create`, {
    RequestInfo: requestInfo,
    BoundaryHierarchy: {
      tenantId,
      hierarchyType,
      boundaryHierarchy: levels.map(([boundaryType, parentBoundaryType]) => ({ boundaryType, parentBoundaryType, active: true })),
    },
  });
const relate = (tenantId: string, hierarchyType: string, code: string, boundaryType: string, parent: string | null, verb = '_create') =>
  post(`${R}/${verb}`, { RequestInfo: requestInfo, BoundaryRelationship: { tenantId, hierarchyType, code, boundaryType, parent } });

describe('the demo seed (pb.amritsar, as DIGIT demo)', () => {
  it('answers the roots by default and the whole tree with includeChildren', async () => {
    expect(shape(await tree('tenantId=pb.amritsar&hierarchyType=ADMIN'))).toEqual([{ 'pb.amritsar': [] }]);
    const full = await tree('tenantId=pb.amritsar&hierarchyType=REVENUE&includeChildren=true');
    expect(count(full)).toBe(57);
    const [city] = full;
    expect(city).toMatchObject({ code: 'pb.amritsar', boundaryType: 'City' });
    expect(city!['id']).toBeTypeOf('string');
    const zone = city!['children'][0];
    expect(zone).toMatchObject({ code: 'Z1', boundaryType: 'Zone' });
    expect(zone['children']).toHaveLength(11);
    expect(zone['children'].every((block: Json) => block['boundaryType'] === 'Block' && block['children'].length === 4)).toBe(true);
  });

  it('answers a flat list for a boundary type, a branch with includeChildren, and a chain with includeParents', async () => {
    const localities = await tree('tenantId=pb.amritsar&hierarchyType=ADMIN&boundaryType=Locality');
    expect(localities).toHaveLength(44);
    expect(localities.every((l) => l['boundaryType'] === 'Locality' && l['children'].length === 0)).toBe(true);

    const b1 = await tree('tenantId=pb.amritsar&hierarchyType=ADMIN&codes=B1&includeChildren=true');
    expect(shape(b1)).toEqual([{ B1: expect.arrayContaining([{ SUN04: [] }, { SUN11: [] }, { SUN12: [] }, { SUN13: [] }]) }]);
    expect(b1[0]!['children']).toHaveLength(4);

    expect(shape(await tree('tenantId=pb.amritsar&hierarchyType=ADMIN&codes=SUN04&includeParents=true'))).toEqual([
      { 'pb.amritsar': [{ Z1: [{ B1: [{ SUN04: [] }] }] }] },
    ]);
    // Two codes, comma-separated as DIGIT clients send them, under different blocks.
    expect(shape(await tree('tenantId=pb.amritsar&hierarchyType=ADMIN&codes=SUN04,SU166&includeParents=true'))).toEqual([
      { 'pb.amritsar': [{ Z1: expect.arrayContaining([{ B1: [{ SUN04: [] }] }, { B8: [{ SU166: [] }] }]) }] },
    ]);
    expect(shape(await tree('tenantId=pb.amritsar&hierarchyType=ADMIN&parent=B2'))).toHaveLength(4);
  });

  it('holds the state hierarchy of pb and the entities with their shapes', async () => {
    expect(shape(await tree('tenantId=pb&hierarchyType=ADMIN&codes=pb.amritsar&includeParents=true'))).toEqual([
      { pb: [{ PB_ASR: [{ 'pb.amritsar': [] }] }] },
    ]);
    const found = await post(`${B}/_search?tenantId=pb.amritsar&codes=SUN04,B1,NOPE`, { RequestInfo: requestInfo });
    expect(found.status).toBe(200);
    const boundaries = found.body['Boundary'] as Json[];
    expect(boundaries.map((b) => b['code']).sort()).toEqual(['B1', 'SUN04']);
    const sun04 = boundaries.find((b) => b['code'] === 'SUN04')!;
    expect(sun04).toMatchObject({ tenantId: 'pb.amritsar', geometry: { type: 'Polygon' }, additionalDetails: { name: 'Ajit Nagar' } });
    expect(sun04['auditDetails']['createdTime']).toBeTypeOf('number');
    const hierarchies = await post(`${H}/_search`, {
      RequestInfo: requestInfo,
      BoundaryTypeHierarchySearchCriteria: { tenantId: 'pb.amritsar' },
    });
    expect(hierarchies.body['totalCount']).toBe(2);
    const admin = (hierarchies.body['BoundaryHierarchy'] as Json[]).find((h) => h['hierarchyType'] === 'ADMIN')!;
    expect(admin['boundaryHierarchy'].map((l: Json) => l['boundaryType'])).toEqual(['City', 'Zone', 'Block', 'Locality']);
  });

  it('reloads without change, and applies an edit to the files', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-boundary-seed-'));
    await fs.cp(path.join(SEED_DIR, 'boundary'), path.join(dir, 'boundary'), { recursive: true });
    expect((await platform.seed(dir))['boundary']).toEqual({
      hierarchiesCreated: 0,
      hierarchiesUnchanged: 3,
      boundariesCreated: 0,
      boundariesUpdated: 0,
      boundariesUnchanged: 66,
      relationshipsCreated: 0,
      relationshipsUpdated: 0,
      relationshipsUnchanged: 123,
    });

    const file = path.join(dir, 'boundary', 'pb.amritsar.json');
    const content = JSON.parse(await fs.readFile(file, 'utf8')) as Json;
    content['boundaries'].find((b: Json) => b['code'] === 'SUN04')['additionalDetails'] = { name: 'Ajit Nagar (renamed)' };
    content['boundaries'].push({ code: 'SUN999', geometry: { type: 'Point', coordinates: [74.83, 31.67] } });
    content['hierarchies'][0]['relationships'].push({ code: 'SUN999', boundaryType: 'Locality', parent: 'B1' });
    // Move SUN11 from B1 to B2 in ADMIN only.
    content['hierarchies'][0]['relationships'].find((r: Json) => r['code'] === 'SUN11')['parent'] = 'B2';
    await fs.writeFile(file, JSON.stringify(content));
    expect((await platform.seed(dir))['boundary']).toMatchObject({
      boundariesCreated: 1,
      boundariesUpdated: 1,
      relationshipsCreated: 1,
      relationshipsUpdated: 1,
    });
    expect(shape(await tree('tenantId=pb.amritsar&hierarchyType=ADMIN&codes=SUN11&includeParents=true'))).toEqual([
      { 'pb.amritsar': [{ Z1: [{ B2: [{ SUN11: [] }] }] }] },
    ]);
    expect(shape(await tree('tenantId=pb.amritsar&hierarchyType=REVENUE&codes=SUN11&includeParents=true'))).toEqual([
      { 'pb.amritsar': [{ Z1: [{ B1: [{ SUN11: [] }] }] }] },
    ]);
    expect((await platform.seed(dir))['boundary']).toMatchObject({
      boundariesCreated: 0,
      boundariesUpdated: 0,
      relationshipsCreated: 0,
      relationshipsUpdated: 0,
      relationshipsUnchanged: 124,
    });
  });

  it('refuses a bad seed naming every file and record, and writes nothing', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-boundary-bad-'));
    await fs.mkdir(path.join(dir, 'boundary'));
    const good = { code: 'GOOD1', geometry: { type: 'Point', coordinates: [75.57, 31.32] } };
    await fs.writeFile(
      path.join(dir, 'boundary', 'a.json'),
      JSON.stringify({
        tenantId: 'pb.jalandhar',
        boundaries: [
          good,
          {
            code: 'BAD1',
            geometry: {
              type: 'Polygon',
              coordinates: [
                [
                  [75, 31],
                  [75.1, 31],
                  [75.1, 31.1],
                  [75, 31.1],
                ],
              ],
            },
          },
        ],
        hierarchies: [
          {
            hierarchyType: 'SEEDTEST',
            boundaryHierarchy: [
              { boundaryType: 'City', parentBoundaryType: null },
              { boundaryType: 'Ward', parentBoundaryType: 'Zone' },
            ],
            relationships: [],
          },
          {
            hierarchyType: 'ADMIN',
            boundaryHierarchy: [{ boundaryType: 'City', parentBoundaryType: null }],
            relationships: [{ code: 'GOOD1', boundaryType: 'Ward', parent: null }],
          },
        ],
      }),
    );
    await fs.writeFile(path.join(dir, 'boundary', 'b.json'), JSON.stringify({ tenantId: 'pb.jalandhar', boundaries: 'nope' }));
    const shapeError = await platform.seed(dir).catch((e: unknown) => e);
    expect(shapeError).toBeInstanceOf(DomainError);
    expect((shapeError as DomainError).details.map((d) => d.message)).toEqual([
      expect.stringContaining('b.json: "boundaries" must be a list'),
    ]);

    await fs.rm(path.join(dir, 'boundary', 'b.json'));
    const error = await platform.seed(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    const messages = (error as DomainError).details.map((d) => `${d.code}: ${d.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^INVALID_HIERARCHY_DEFINITION: boundary.a\.json hierarchy SEEDTEST: .*Zone/),
        expect.stringMatching(/^INVALID_POLYGON_COORDINATES_DEFINITION|^INVALID_POLYGON_DEFINITION: boundary.a\.json boundary 2 \(BAD1\)/),
        expect.stringMatching(/^BOUNDARY_TYPE_ERROR: boundary.a\.json ADMIN relationship 1 \(GOOD1\)/),
      ]),
    );
    const found = await post(`${B}/_search?tenantId=pb.jalandhar&codes=GOOD1`, { RequestInfo: requestInfo });
    expect(found.body['Boundary']).toEqual([]);
  });
});

describe('hierarchy definitions', () => {
  it('creates one with 202 and refuses it again', async () => {
    const created = await define('pb.jalandhar', 'ELECTORAL', [
      ['City', null],
      ['Ward', 'City'],
    ]);
    expect(created.status).toBe(202);
    expect(created.body['BoundaryHierarchy'][0]).toMatchObject({
      tenantId: 'pb.jalandhar',
      hierarchyType: 'ELECTORAL',
      boundaryHierarchy: [
        { boundaryType: 'City', parentBoundaryType: null, active: true },
        { boundaryType: 'Ward', parentBoundaryType: 'City', active: true },
      ],
    });
    expect(errorCodes(await define('pb.jalandhar', 'ELECTORAL', [['City', null]]))).toEqual(['DUPLICATE_RECORD']);
  });

  it('refuses dangling parents, two roots, cycles and branches, and unknown tenants', async () => {
    expect(
      errorCodes(
        await define('pb.jalandhar', 'H1', [
          ['City', null],
          ['Ward', 'Zone'],
        ]),
      ),
    ).toEqual(['INVALID_HIERARCHY_DEFINITION']);
    expect(
      errorCodes(
        await define('pb.jalandhar', 'H2', [
          ['City', null],
          ['Village', null],
        ]),
      ),
    ).toEqual(['MULTIPLE_ROOT_NODES_ERR']);
    expect(
      errorCodes(
        await define('pb.jalandhar', 'H3', [
          ['City', null],
          ['A', 'B'],
          ['B', 'A'],
        ]),
      ),
    ).toEqual(['INVALID_HIERARCHY_DEFINITION']);
    expect(
      errorCodes(
        await define('pb.jalandhar', 'H4', [
          ['City', null],
          ['Ward', 'City'],
          ['Zone', 'City'],
        ]),
      ),
    ).toEqual(['INVALID_HIERARCHY_DEFINITION']);
    expect(errorCodes(await define('pb.nowhere', 'H5', [['City', null]]))).toEqual(['INVALID_TENANT_ID']);
    expect(errorCodes(await define('pb.jalandhar', 'H|6', [['City', null]]))).toEqual(['INVALID_HIERARCHY_TYPE']);
    const searched = await post(`${H}/_search`, {
      RequestInfo: requestInfo,
      BoundaryTypeHierarchySearchCriteria: { tenantId: 'pb.jalandhar' },
    });
    expect((searched.body['BoundaryHierarchy'] as Json[]).map((h) => h['hierarchyType'])).toEqual(['ELECTORAL']);
  });
});

describe('relationships', () => {
  const T = 'pb.phagwara';
  beforeAll(async () => {
    expect(
      (
        await define(T, 'WARDS', [
          ['City', null],
          ['Zone', 'City'],
          ['Ward', 'Zone'],
          ['Locality', 'Ward'],
        ])
      ).status,
    ).toBe(202);
    expect((await createEntities(T, ['C', 'Z1', 'Z2', 'W1', 'W2', 'L1', 'L2', 'LONE'])).status).toBe(202);
    for (const [code, type, parent] of [
      ['C', 'City', null],
      ['Z1', 'Zone', 'C'],
      ['Z2', 'Zone', 'C'],
      ['W1', 'Ward', 'Z1'],
      ['W2', 'Ward', 'Z2'],
      ['L1', 'Locality', 'W1'],
    ] as const) {
      const response = await relate(T, 'WARDS', code, type, parent);
      expect(response.status, JSON.stringify(response.body)).toBe(202);
    }
  });

  it('answers the created relationship as DIGIT does', async () => {
    const created = await relate(T, 'WARDS', 'L2', 'Locality', 'W2');
    expect(created.body['TenantBoundary'][0]).toMatchObject({
      tenantId: T,
      code: 'L2',
      hierarchyType: 'WARDS',
      boundaryType: 'Locality',
      parent: 'W2',
    });
    expect(created.body['TenantBoundary'][0]['auditDetails']['createdBy']).toBeTypeOf('string');
    expect(shape(await tree(`tenantId=${T}&hierarchyType=WARDS&codes=W2&includeChildren=true`))).toEqual([{ W2: [{ L2: [] }] }]);
  });

  it("refuses a child that is not the parent type's direct child type, and a root of the wrong type", async () => {
    const skip = await relate(T, 'WARDS', 'LONE', 'Locality', 'Z1');
    expect(errorCodes(skip)).toEqual(['HIERARCHY_ERROR']);
    expect(skip.body['Errors'][0]['message']).toContain('the child type of Zone is Ward');
    expect(errorCodes(await relate(T, 'WARDS', 'LONE', 'Ward', null))).toEqual(['HIERARCHY_ERROR']);
    expect(errorCodes(await relate(T, 'WARDS', 'LONE', 'Village', 'W1'))).toEqual(['BOUNDARY_TYPE_ERROR']);
  });

  it('refuses a parent not in the hierarchy, a second parent, a missing entity or hierarchy', async () => {
    expect(errorCodes(await relate(T, 'WARDS', 'LONE', 'Locality', 'W9'))).toEqual(['PARENT_NOT_FOUND']);
    const second = await relate(T, 'WARDS', 'L1', 'Locality', 'W2');
    expect(errorCodes(second)).toEqual(['DUPLICATE_RECORD']);
    expect(second.body['Errors'][0]['message']).toContain('under W1');
    expect(errorCodes(await relate(T, 'WARDS', 'NOSUCH', 'Locality', 'W1'))).toEqual(['BOUNDARY_ENTITY_DOES_NOT_EXIST']);
    expect(errorCodes(await relate(T, 'NOSUCH', 'LONE', 'City', null))).toEqual(['HIERARCHY_DEFINITION_DOES_NOT_EXIST_ERR']);
    // Nothing of the refused ones was written.
    expect(count(await tree(`tenantId=${T}&hierarchyType=WARDS&includeChildren=true`))).toBe(7);
  });

  it('moves a ward with its localities to another zone, and refuses moves that break the hierarchy', async () => {
    expect(shape(await tree(`tenantId=${T}&hierarchyType=WARDS&codes=L1&includeParents=true`))).toEqual([
      { C: [{ Z1: [{ W1: [{ L1: [] }] }] }] },
    ]);
    const moved = await relate(T, 'WARDS', 'W1', 'Ward', 'Z2', '_update');
    expect(moved.status, JSON.stringify(moved.body)).toBe(202);
    expect(moved.body['TenantBoundary'][0]).toMatchObject({ code: 'W1', parent: 'Z2' });
    // The locality's ancestry moved with it (cache dropped, path rewritten).
    expect(shape(await tree(`tenantId=${T}&hierarchyType=WARDS&codes=L1&includeParents=true`))).toEqual([
      { C: [{ Z2: [{ W1: [{ L1: [] }] }] }] },
    ]);

    expect(errorCodes(await relate(T, 'WARDS', 'W1', 'Ward', 'W2', '_update'))).toEqual(['HIERARCHY_ERROR']);
    expect(errorCodes(await relate(T, 'WARDS', 'W1', 'Zone', 'C', '_update'))).toEqual(['HIERARCHY_DISTURBED_ERR']);
    expect(errorCodes(await relate(T, 'WARDS', 'C', 'City', 'Z1', '_update'))).toEqual(['HIERARCHY_DISTURBED_ERR']);
    expect(errorCodes(await relate(T, 'WARDS', 'W1', 'Ward', null, '_update'))).toEqual(['HIERARCHY_DISTURBED_ERR']);
    expect(errorCodes(await relate(T, 'WARDS', 'LONE', 'Locality', 'W1', '_update'))).toEqual(['BOUNDARY_RELATIONSHIP_DOES_NOT_EXIST']);
    expect(errorCodes(await relate(T, 'WARDS', 'L1', 'Locality', 'W9', '_update'))).toEqual(['BOUNDARY_RELATIONSHIP_DOES_NOT_EXIST']);
  });

  it('serves other modules from memory: findNode', async () => {
    expect(await platform.boundary.service.findNode('pb.amritsar', 'ADMIN', 'SUN04', SYSTEM_SCOPE)).toEqual({
      code: 'SUN04',
      boundaryType: 'Locality',
      parent: 'B1',
      ancestors: ['pb.amritsar', 'Z1', 'B1'],
    });
    expect(await platform.boundary.service.findNode('pb.amritsar', 'ADMIN', 'NOPE', SYSTEM_SCOPE)).toBeUndefined();
    expect(await platform.boundary.service.findNode('pb.amritsar', 'NOSUCH', 'SUN04', SYSTEM_SCOPE)).toBeUndefined();
  });
});

describe('boundary entities', () => {
  const T = 'pb.nawanshahr';

  it('creates with 202, refuses duplicates and bad geometry, writing nothing then', async () => {
    const created = await post(`${B}/_create`, {
      RequestInfo: requestInfo,
      Boundary: [
        {
          tenantId: T,
          code: 'NSR_W1',
          geometry: { type: 'MultiPolygon', coordinates: [square(76.03, 31.09).coordinates] },
          additionalDetails: { name: 'Ward 1' },
        },
        { tenantId: T, code: 'NSR_W2' },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.body['Boundary']).toEqual([
      expect.objectContaining({
        tenantId: T,
        code: 'NSR_W1',
        geometry: { type: 'MultiPolygon', coordinates: [square(76.03, 31.09).coordinates] },
        additionalDetails: { name: 'Ward 1' },
      }),
      expect.objectContaining({ code: 'NSR_W2', geometry: null, additionalDetails: null }),
    ]);
    expect(errorCodes(await createEntities(T, ['NSR_W1']))).toEqual(['DUPLICATE_CODE']);
    expect(errorCodes(await createEntities(T, ['NSR_W3', 'NSR_W3']))).toEqual(['DUPLICATE_BOUNDARY']);

    const open = {
      type: 'Polygon',
      coordinates: [
        [
          [76, 31],
          [76.1, 31],
          [76.1, 31.1],
          [76, 31.1],
          [76, 31.2],
        ],
      ],
    };
    const refused = await post(`${B}/_create`, {
      RequestInfo: requestInfo,
      Boundary: [
        { tenantId: T, code: 'NSR_W4', geometry: square(76, 31) },
        { tenantId: T, code: 'NSR_W5', geometry: open },
        { tenantId: T, code: 'NSR|W6', geometry: { type: 'Point', coordinates: [76, 91] } },
      ],
    });
    expect(refused.status).toBe(400);
    expect(errorCodes(refused)).toEqual(['INVALID_POLYGON_DEFINITION', 'INVALID_BOUNDARY_CODE', 'INVALID_POSITION']);
    expect(refused.body['Errors'][0]['message']).toContain('Boundary[1].geometry');
    const search = await post(`${B}/_search?tenantId=${T}`, { RequestInfo: requestInfo });
    expect((search.body['Boundary'] as Json[]).map((b) => b['code']).sort()).toEqual(['NSR_W1', 'NSR_W2']);
  });

  it('updates geometry and details by tenant and code; the next search sees it', async () => {
    const before = await post(`${B}/_search?tenantId=${T}&codes=NSR_W2`, { RequestInfo: requestInfo });
    expect(before.body['Boundary'][0]['geometry']).toBeNull();
    const updated = await post(`${B}/_update`, {
      RequestInfo: requestInfo,
      Boundary: [{ tenantId: T, code: 'NSR_W2', geometry: { type: 'Point', coordinates: [76.04, 31.09] } }],
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(202);
    const after = await post(`${B}/_search?tenantId=${T}&codes=NSR_W2`, { RequestInfo: requestInfo });
    expect(after.body['Boundary'][0]).toMatchObject({ geometry: { type: 'Point', coordinates: [76.04, 31.09] }, additionalDetails: null });
    expect(after.body['Boundary'][0]['auditDetails']['lastModifiedTime']).toBeGreaterThanOrEqual(
      after.body['Boundary'][0]['auditDetails']['createdTime'],
    );
    expect(errorCodes(await post(`${B}/_update`, { RequestInfo: requestInfo, Boundary: [{ tenantId: T, code: 'NSR_NONE' }] }))).toEqual([
      'NOT_FOUND_CODE_AND_TENANT_ID_CODE',
    ]);
    expect(
      errorCodes(
        await post(`${B}/_update`, { RequestInfo: requestInfo, Boundary: [{ tenantId: T, code: 'NSR_W2', geometry: { type: 'Circle' } }] }),
      ),
    ).toEqual(['INVALID_GEOMETRY_TYPE']);
  });

  it('pages a tenant without codes, newest first', async () => {
    const page = await post(`${B}/_search?tenantId=pb.amritsar&limit=5&offset=0`, { RequestInfo: requestInfo });
    expect(page.body['Boundary']).toHaveLength(5);
    const next = await post(`${B}/_search?tenantId=pb.amritsar&limit=5&offset=5`, { RequestInfo: requestInfo });
    const codes = [...page.body['Boundary'], ...next.body['Boundary']].map((b: Json) => b['code']);
    expect(new Set(codes).size).toBe(10);
  });
});

describe('read caches', () => {
  it('answer searches from memory until the change feed says the data changed', async () => {
    const search = async () =>
      (await post(`${B}/_search?tenantId=pb.amritsar&codes=SUN13`, { RequestInfo: requestInfo }, {})).body['Boundary'][0][
        'additionalDetails'
      ];
    const relations = async () => shape(await tree('tenantId=pb.amritsar&hierarchyType=REVENUE&codes=SUN13&includeParents=true', {}));
    expect(await search()).toEqual({ name: 'Back Side Civil Courts Colony' });
    expect(await relations()).toEqual([{ 'pb.amritsar': [{ Z1: [{ B1: [{ SUN13: [] }] }] }] }]);
    // As another process would: change the rows behind this process's back.
    const db = platform.database.kysely.withTables<{
      boundary_entity: { tenant_id: string; code: string; additional_details: unknown };
      boundary_relationship: { tenant_id: string; hierarchy_type: string; code: string; parent: string | null; ancestral_path: string };
    }>();
    await db
      .updateTable('boundary_entity')
      .set({ additional_details: platform.database.toJson({ name: 'Changed elsewhere' }) })
      .where('tenant_id', '=', 'pb.amritsar')
      .where('code', '=', 'SUN13')
      .execute();
    await db
      .updateTable('boundary_relationship')
      .set({ parent: 'B3', ancestral_path: 'pb.amritsar|Z1|B3' })
      .where('tenant_id', '=', 'pb.amritsar')
      .where('hierarchy_type', '=', 'REVENUE')
      .where('code', '=', 'SUN13')
      .execute();
    expect(await search()).toEqual({ name: 'Back Side Civil Courts Colony' });
    expect(await relations()).toEqual([{ 'pb.amritsar': [{ Z1: [{ B1: [{ SUN13: [] }] }] }] }]);
    await platform.database.transaction((tx) => platform.changes.publish(tx, 'boundary'));
    await expect.poll(search).toEqual({ name: 'Changed elsewhere' });
    expect(await relations()).toEqual([{ 'pb.amritsar': [{ Z1: [{ B3: [{ SUN13: [] }] }] }] }]);
  });
});

describe('who may call', () => {
  it('serves searches without a token (mixed mode), refuses anonymous writes', async () => {
    expect(count(await tree('tenantId=pb.amritsar&hierarchyType=REVENUE&boundaryType=Locality', {}))).toBe(44);
    expect((await post(`${B}/_search?tenantId=pb.amritsar&codes=SUN04`, { RequestInfo: requestInfo }, {})).body['Boundary']).toHaveLength(
      1,
    );
    expect(
      (await post(`${H}/_search`, { RequestInfo: requestInfo, BoundaryTypeHierarchySearchCriteria: { tenantId: 'pb' } }, {})).status,
    ).toBe(200);
    for (const [url, body] of [
      [`${B}/_create`, { RequestInfo: requestInfo, Boundary: [{ tenantId: 'pb.amritsar', code: 'ANON1' }] }],
      [`${B}/_update`, { RequestInfo: requestInfo, Boundary: [{ tenantId: 'pb.amritsar', code: 'SUN04' }] }],
      [
        `${H}/_create`,
        {
          RequestInfo: requestInfo,
          BoundaryHierarchy: { tenantId: 'pb.amritsar', hierarchyType: 'ANON', boundaryHierarchy: [{ boundaryType: 'City' }] },
        },
      ],
      [
        `${R}/_create`,
        {
          RequestInfo: requestInfo,
          BoundaryRelationship: { tenantId: 'pb.amritsar', hierarchyType: 'ADMIN', code: 'SUN04', boundaryType: 'Locality', parent: 'B2' },
        },
      ],
      [
        `${R}/_update`,
        {
          RequestInfo: requestInfo,
          BoundaryRelationship: { tenantId: 'pb.amritsar', hierarchyType: 'ADMIN', code: 'SUN04', boundaryType: 'Locality', parent: 'B2' },
        },
      ],
    ] as const) {
      expect((await post(url, body, {})).status, url).toBe(401);
    }
  });

  it('lets an employee search but not write, and an MDMS administrator write', async () => {
    const createUser = (userName: string, roles: string[]) =>
      post('/user/users/_createnovalidate', {
        RequestInfo: {},
        user: {
          userName,
          name: userName,
          password: 'Clerk@123',
          type: 'EMPLOYEE',
          tenantId: 'pb.amritsar',
          mobileNumber: '9812345678',
          roles: roles.map((code) => ({ code, tenantId: 'pb.amritsar' })),
        },
      });
    expect((await createUser('bnd.clerk', ['EMPLOYEE'])).status).toBe(200);
    expect((await createUser('bnd.admin', ['EMPLOYEE', 'MDMS_ADMIN'])).status).toBe(200);
    const bearer = async (userName: string) => ({
      authorization: `Bearer ${String((await login(platform, userName, 'Clerk@123', 'pb.amritsar')).body['access_token'])}`,
    });
    const clerk = await bearer('bnd.clerk');
    const boundaryAdmin = await bearer('bnd.admin');
    expect(count(await tree('tenantId=pb.amritsar&hierarchyType=ADMIN&codes=B3&includeChildren=true', clerk))).toBe(5);
    const body = { RequestInfo: requestInfo, Boundary: [{ tenantId: 'pb.amritsar', code: 'CLERK1' }] };
    expect((await post(`${B}/_create`, body, clerk)).status).toBe(403);
    expect((await post(`${B}/_create`, body, boundaryAdmin)).status).toBe(202);
  });

  it('answers bad search criteria with 400 in DIGIT shape', async () => {
    const noTenant = await post(`${R}/_search?hierarchyType=ADMIN`, { RequestInfo: requestInfo }, {});
    expect(noTenant.status).toBe(400);
    expect(noTenant.body['ResponseInfo']).toBeNull();
    expect(errorCodes(await post(`${R}/_search?tenantId=pb.amritsar&hierarchyType=NOSUCH`, { RequestInfo: requestInfo }, {}))).toEqual([
      'HIERARCHY_DEFINITION_DOES_NOT_EXIST_ERR',
    ]);
    expect(errorCodes(await post(`${B}/_search?tenantId=xx.yy`, { RequestInfo: requestInfo }, {}))).toEqual(['INVALID_TENANT_ID']);
  });
});
