import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { expectOutOfScope } from '../../../test/scope.helpers.js';
import { scopeFor, SYSTEM_SCOPE } from '../../kernel/scope.js';

// Issue #14 Build 1: id reservations are read only inside the caller's Scope, and no id is drawn
// or reserved for a tenant outside it. The kernel refuses requests naming such tenants; these tests
// call the service directly, so the service and store must hold on their own.

const AMRITSAR = scopeFor(null, ['pb.amritsar']);
const JALANDHAR = scopeFor(null, ['pb.jalandhar']);
const FORMAT = 'SCOPE-[SEQ_EGOV_COMMON]';

let platform: TestPlatform;
let reserved: string[];

beforeAll(async () => {
  platform = await testPlatform();
  const { ids } = await platform.idgen.service.reserve(
    { tenantId: 'pb.jalandhar', idName: 'scope.test', format: FORMAT, count: 3, deviceId: 'scope-device' },
    { uuid: null },
    SYSTEM_SCOPE,
  );
  reserved = ids;
});
afterAll(() => platform.drop());

describe('reservation search reads only rows inside the scope', () => {
  it("answers another city's reservations to no one outside it, by device or by a reserved id", async () => {
    const { service } = platform.idgen;
    const byDevice = { tenantId: 'pb.jalandhar', deviceId: 'scope-device', includeIds: true };
    const [own] = await service.searchReservations(byDevice, JALANDHAR);
    expect(own?.ids).toEqual(reserved);
    expect(await service.searchReservations({ tenantId: 'pb.jalandhar', reservedId: reserved[0]! }, scopeFor(null, ['pb']))).toHaveLength(
      1,
    );
    expect(await service.searchReservations(byDevice, AMRITSAR)).toEqual([]);
    expect(await service.searchReservations({ tenantId: 'pb.jalandhar', reservedId: reserved[0]! }, AMRITSAR)).toEqual([]);
    expect(await service.searchReservations(byDevice, scopeFor(null, []))).toEqual([]);
  });
});

describe('no id is drawn or reserved outside the scope', () => {
  it('refuses generate and reserve for another city (403) and draws no number', async () => {
    const { service } = platform.idgen;
    const next = async () =>
      Number((await service.generate([{ idName: 'scope.test', tenantId: 'pb.amritsar', format: FORMAT }], AMRITSAR))[0]!.slice(6));
    const before = await next();
    await expectOutOfScope(service.generate([{ idName: 'scope.test', tenantId: 'pb.jalandhar', format: FORMAT, count: 5 }], AMRITSAR));
    // One request outside the scope refuses the whole call, the others included.
    await expectOutOfScope(
      service.generate(
        [
          { idName: 'scope.test', tenantId: 'pb.amritsar', format: FORMAT },
          { idName: 'scope.test', tenantId: 'pb.jalandhar', format: FORMAT },
        ],
        AMRITSAR,
      ),
    );
    await expectOutOfScope(
      service.reserve(
        { tenantId: 'pb.jalandhar', idName: 'scope.test', format: FORMAT, count: 2, deviceId: 'other' },
        { uuid: null },
        AMRITSAR,
      ),
    );
    expect(await next()).toBe(before + 1);
    expect(await service.searchReservations({ tenantId: 'pb.jalandhar', deviceId: 'other' }, SYSTEM_SCOPE)).toEqual([]);
  });
});
