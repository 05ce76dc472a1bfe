import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { expectOutOfScope } from '../../../test/scope.helpers.js';
import { scopeFor, SYSTEM_SCOPE } from '../../kernel/scope.js';
import { readableFrom } from './localization.service.js';

// Issue #14 Build 1: localization reads take a Scope and reach only rows inside it; a write or a
// delete is refused outside it. The kernel refuses requests naming such tenants; these tests call
// the service directly, so the store must hold on its own.

const MODULE = 'test-scope';
const AMRITSAR = scopeFor(null, ['pb.amritsar']);
const JALANDHAR = scopeFor(null, ['pb.jalandhar']);
const system = { uuid: null };
const msg = (code: string, message: string) => ({ code, message, module: MODULE, locale: 'en_IN' });

let platform: TestPlatform;

beforeAll(async () => {
  platform = await testPlatform();
  const { service } = platform.localization;
  await service.upsert('pb', [msg('S_STATE', 'from the state')], system, SYSTEM_SCOPE);
  await service.upsert('pb.jalandhar', [msg('S_JAL', 'from Jalandhar')], system, SYSTEM_SCOPE);
});
afterAll(() => platform.drop());

const search = (tenantId: string, scope = readableFrom(tenantId)) =>
  platform.localization.service
    .search({ tenantId, locale: 'en_IN', modules: [MODULE] }, scope)
    .then((found) => found.map((m) => m.code).sort());

describe('localization search reads only rows inside the scope', () => {
  it("merges the lineage for anyone (public text), but a city's scope reaches neither another city nor the state", async () => {
    expect(await search('pb.jalandhar')).toEqual(['S_JAL', 'S_STATE']);
    expect(await search('pb.jalandhar', JALANDHAR)).toEqual(['S_JAL']);
    expect(await search('pb.jalandhar', AMRITSAR)).toEqual([]);
    expect(await search('pb.jalandhar', scopeFor(null, []))).toEqual([]);
    expect(await search('pb.amritsar')).toEqual(['S_STATE']);
  });
});

describe('localization writes are checked against the scope', () => {
  it("refuses to create, change or delete another city's messages (403, nothing changed)", async () => {
    const { service } = platform.localization;
    await expectOutOfScope(service.upsert('pb.jalandhar', [msg('S_JAL', 'changed from Amritsar')], system, AMRITSAR));
    await expectOutOfScope(service.create('pb.jalandhar', [msg('S_NEW', 'new from Amritsar')], system, AMRITSAR));
    await expectOutOfScope(
      service.update(
        { tenantId: 'pb.jalandhar', locale: 'en_IN', module: MODULE, messages: [{ code: 'S_JAL', message: 'x' }] },
        system,
        AMRITSAR,
      ),
    );
    await expectOutOfScope(service.delete('pb.jalandhar', [{ code: 'S_JAL', module: MODULE, locale: 'en_IN' }], AMRITSAR));
    const kept = await platform.localization.service.search({ tenantId: 'pb.jalandhar', locale: 'en_IN', modules: [MODULE] }, SYSTEM_SCOPE);
    expect(kept.map((m) => [m.code, m.message])).toEqual([
      ['S_JAL', 'from Jalandhar'],
      ['S_STATE', 'from the state'],
    ]);
    // Inside its scope the city writes as before.
    expect(await service.upsert('pb.jalandhar', [msg('S_JAL', 'changed by Jalandhar')], system, JALANDHAR)).toEqual({
      created: 0,
      updated: 1,
      unchanged: 0,
    });
    expect(await service.delete('pb.jalandhar', [{ code: 'S_JAL', module: MODULE, locale: 'en_IN' }], JALANDHAR)).toBe(1);
  });
});
