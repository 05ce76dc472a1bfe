import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { expectOutOfScope, expectRefusal } from '../../../test/scope.helpers.js';
import { scopeFor, SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { BoundaryApi } from './index.js';
import { readableFrom } from './boundary.service.js';

// Issue #14 Build 1: boundary reads take a Scope and reach only rows inside it; writes refuse a
// tenant outside it. The kernel refuses requests naming such tenants; these tests call the
// service directly, so the store must hold on its own.

const AMRITSAR = scopeFor(null, ['pb.amritsar']);
const JALANDHAR = scopeFor(null, ['pb.jalandhar']);
const T = 'pb.jalandhar';
const H = 'SCOPE_H';
const system = { uuid: null };
const point = { type: 'Point', coordinates: [75.57, 31.32] };

let platform: TestPlatform;
let service: BoundaryApi['service'];

beforeAll(async () => {
  platform = await testPlatform();
  service = platform.boundary.service;
  await service.createBoundaries(
    [
      { tenantId: T, code: 'SCOPE_CITY', geometry: point },
      { tenantId: T, code: 'SCOPE_WARD', geometry: point },
    ],
    system,
    SYSTEM_SCOPE,
  );
  await service.createHierarchy(
    {
      tenantId: T,
      hierarchyType: H,
      boundaryHierarchy: [
        { boundaryType: 'City', parentBoundaryType: null },
        { boundaryType: 'Ward', parentBoundaryType: 'City' },
      ],
    },
    system,
    SYSTEM_SCOPE,
  );
  await service.createRelationship(
    { tenantId: T, hierarchyType: H, code: 'SCOPE_CITY', boundaryType: 'City', parent: null },
    system,
    SYSTEM_SCOPE,
  );
});
afterAll(() => platform.drop());

describe('boundary searches read only rows inside the scope', () => {
  it("another city's entities, hierarchies and trees are out of a city scope", async () => {
    const entities = { tenantId: T, codes: ['SCOPE_CITY', 'SCOPE_WARD'] };
    expect((await service.searchBoundaries(entities, readableFrom(T))).map((b) => b.code).sort()).toEqual(['SCOPE_CITY', 'SCOPE_WARD']);
    expect(await service.searchBoundaries(entities, JALANDHAR)).toHaveLength(2);
    expect(await service.searchBoundaries(entities, AMRITSAR)).toEqual([]);
    expect(await service.searchBoundaries(entities, scopeFor(null, []))).toEqual([]);

    expect((await service.searchHierarchies({ tenantId: T, hierarchyType: H }, readableFrom(T))).totalCount).toBe(1);
    expect(await service.searchHierarchies({ tenantId: T, hierarchyType: H }, AMRITSAR)).toEqual({ totalCount: 0, hierarchies: [] });

    const tree = await service.searchRelationships({ tenantId: T, hierarchyType: H }, readableFrom(T));
    expect((tree.boundary as Array<{ code: string }>).map((b) => b.code)).toEqual(['SCOPE_CITY']);
    // Outside the scope the hierarchy is not there at all (DIGIT's 400 for an unknown hierarchy).
    expect(await expectRefusal(service.searchRelationships({ tenantId: T, hierarchyType: H }, AMRITSAR), 'invalid')).toBe(
      'HIERARCHY_DEFINITION_DOES_NOT_EXIST_ERR',
    );
    expect(await service.findNode(T, H, 'SCOPE_CITY', SYSTEM_SCOPE)).toMatchObject({ code: 'SCOPE_CITY', parent: null });
    expect(await service.findNode(T, H, 'SCOPE_CITY', AMRITSAR)).toBeUndefined();
  });
});

describe('boundary writes are checked against the scope', () => {
  it("refuses to create or change another city's boundaries, hierarchies and relationships (403, nothing changed)", async () => {
    const moved = { type: 'Point', coordinates: [74.87, 31.63] };
    await expectOutOfScope(service.updateBoundaries([{ tenantId: T, code: 'SCOPE_CITY', geometry: moved }], system, AMRITSAR));
    await expectOutOfScope(service.createBoundaries([{ tenantId: T, code: 'SCOPE_NEW', geometry: point }], system, AMRITSAR));
    await expectOutOfScope(
      service.createHierarchy(
        { tenantId: T, hierarchyType: 'SCOPE_H2', boundaryHierarchy: [{ boundaryType: 'City', parentBoundaryType: null }] },
        system,
        AMRITSAR,
      ),
    );
    await expectOutOfScope(
      service.createRelationship(
        { tenantId: T, hierarchyType: H, code: 'SCOPE_WARD', boundaryType: 'Ward', parent: 'SCOPE_CITY' },
        system,
        AMRITSAR,
      ),
    );
    await expectOutOfScope(
      service.updateRelationship(
        { tenantId: T, hierarchyType: H, code: 'SCOPE_CITY', boundaryType: 'City', parent: null },
        system,
        AMRITSAR,
      ),
    );

    const [city] = await service.searchBoundaries({ tenantId: T, codes: ['SCOPE_CITY'] }, SYSTEM_SCOPE);
    expect(city?.geometry).toEqual(point);
    expect(await service.searchBoundaries({ tenantId: T, codes: ['SCOPE_NEW'] }, SYSTEM_SCOPE)).toEqual([]);
    expect((await service.searchHierarchies({ tenantId: T, hierarchyType: 'SCOPE_H2' }, SYSTEM_SCOPE)).totalCount).toBe(0);
    expect(await service.findNode(T, H, 'SCOPE_WARD', SYSTEM_SCOPE)).toBeUndefined();

    // Inside its scope the city writes as before.
    const [updated] = await service.updateBoundaries([{ tenantId: T, code: 'SCOPE_CITY', geometry: moved }], system, JALANDHAR);
    expect(updated?.geometry).toEqual(moved);
    await service.createRelationship(
      { tenantId: T, hierarchyType: H, code: 'SCOPE_WARD', boundaryType: 'Ward', parent: 'SCOPE_CITY' },
      system,
      JALANDHAR,
    );
    expect(await service.findNode(T, H, 'SCOPE_WARD', SYSTEM_SCOPE)).toMatchObject({ parent: 'SCOPE_CITY', ancestors: ['SCOPE_CITY'] });
  });
});
