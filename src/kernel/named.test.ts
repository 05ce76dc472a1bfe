import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import { namedTenants } from './named.js';

function refusal(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError');
}

describe('namedTenants: every shape a tenant can be sent in', () => {
  it('reads a string, a one-element array, a longer array and a comma list', () => {
    expect(namedTenants({ tenantId: 'pb.amritsar' }, {})).toEqual(['pb.amritsar']);
    expect(namedTenants({ tenantId: ['pb.amritsar'] }, {})).toEqual(['pb.amritsar']);
    expect(namedTenants({ tenantId: ['pb.amritsar', 'pb.jalandhar'] }, {})).toEqual(['pb.amritsar', 'pb.jalandhar']);
    expect(namedTenants({ tenantId: 'pb.amritsar, pb.jalandhar' }, {})).toEqual(['pb.amritsar', 'pb.jalandhar']);
  });

  it('reads tenants nested at any depth, in objects and arrays, and the plural tenantIds', () => {
    const body = {
      Mdms: { tenantId: ['pb'], data: { tenantId: 'pb.amritsar' } },
      events: [{ tenantId: 'pb.jalandhar', actions: { tenantId: ['pb.mohali'] } }],
      Subscription: { tenantIds: ['pb.patiala', 'pb.ludhiana'] },
    };
    expect(namedTenants(body, {}).sort()).toEqual(['pb', 'pb.amritsar', 'pb.jalandhar', 'pb.ludhiana', 'pb.mohali', 'pb.patiala']);
  });

  it('reads the keys in any case (DIGIT clients vary)', () => {
    expect(namedTenants({ x: { TenantId: 'pb.a', TENANTIDS: ['pb.b'] } }, {}).sort()).toEqual(['pb.a', 'pb.b']);
  });

  it('reads the query: a comma list, repeated parameters, and tenantIds', () => {
    expect(namedTenants(undefined, { tenantId: 'pb.amritsar,pb.jalandhar' })).toEqual(['pb.amritsar', 'pb.jalandhar']);
    expect(namedTenants(undefined, { tenantId: ['pb.amritsar', 'pb.jalandhar'] })).toEqual(['pb.amritsar', 'pb.jalandhar']);
    expect(namedTenants({ tenantId: 'pb' }, { tenantIds: 'pb.amritsar' }).sort()).toEqual(['pb', 'pb.amritsar']);
  });

  it('skips the top-level RequestInfo only (its userInfo is the caller, not a target)', () => {
    const body = { RequestInfo: { userInfo: { tenantId: 'pb.jalandhar' } }, requestinfo: { tenantId: 'x' }, nested: { RequestInfo: { tenantId: 'pb.mohali' } } };
    expect(namedTenants(body, {})).toEqual(['pb.mohali']);
  });

  it('names nothing for missing, null, empty and blank values', () => {
    expect(namedTenants({}, {})).toEqual([]);
    expect(namedTenants(undefined, undefined)).toEqual([]);
    expect(namedTenants({ tenantId: null, a: { tenantId: '' }, b: { tenantIds: [] }, c: { tenantId: [null, ' '] } }, { tenantId: ' , ' })).toEqual([]);
  });

  it('refuses a tenant of any other type with 400 INVALID_TENANT_ID', () => {
    for (const bad of [{ tenantId: 7 }, { tenantId: true }, { tenantId: { $ne: 'x' } }, { x: [{ tenantId: ['pb', 3] }] }, { tenantIds: [['pb']] }]) {
      const error = refusal(() => namedTenants(bad, {}));
      expect(error.kind).toBe('invalid');
      expect(error.code).toBe('INVALID_TENANT_ID');
    }
  });

  it('does not read opaque documents (a JSON Schema describing a tenantId field)', () => {
    const body = { SchemaDefinition: { tenantId: 'pb', definition: { properties: { tenantId: { type: 'string' } } } } };
    expect(namedTenants(body, {}, ['SchemaDefinition.definition'])).toEqual(['pb']);
    expect(refusal(() => namedTenants(body, {})).code).toBe('INVALID_TENANT_ID');
  });

  it('refuses bodies nested beyond the walk instead of missing a tenant hidden below', () => {
    let deep: Record<string, unknown> = { tenantId: 'pb.jalandhar' };
    for (let i = 0; i < 100; i++) deep = { x: deep };
    expect(refusal(() => namedTenants(deep, {})).kind).toBe('invalid');
  });
});
