import { describe, it, expect } from 'vitest';
import { DomainError } from './errors.js';
import { assertKnownTenant, isTenantIdSyntax, stateTenantOf, tenantCovers, tenantLineage, type TenantDirectory } from './tenancy.js';

/** A directory that knows `tenants` and counts how often it is asked. */
function directoryOf(...tenants: string[]): TenantDirectory & { calls: number } {
  const directory = {
    calls: 0,
    knownTenants(): Promise<ReadonlySet<string>> {
      directory.calls += 1;
      return Promise.resolve(new Set(tenants));
    },
  };
  return directory;
}

async function rejectionOf(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError, but the promise resolved');
}

describe('isTenantIdSyntax', () => {
  it.each(['pb', 'pb.amritsar', 'in.statea.citya', 'p', 'pb.1city', 'pb.new_city-2', 'a'.repeat(64), `pb.${'c'.repeat(64)}`])(
    'accepts %j',
    (tenantId) => {
      expect(isTenantIdSyntax(tenantId)).toBe(true);
    },
  );

  it.each([
    '',
    'PB',
    'pb.Amritsar',
    '../x',
    'pb/../x',
    'pb..x',
    'a.b.c.d',
    'pb.',
    '.pb',
    '1pb',
    'pb amritsar',
    ' pb',
    'pb\n',
    'pb.amritsar;drop',
    'a'.repeat(65),
    `pb.${'c'.repeat(65)}`,
    'x'.repeat(10_000),
  ])('rejects %j', (tenantId) => {
    expect(isTenantIdSyntax(tenantId)).toBe(false);
  });
});

describe('stateTenantOf', () => {
  it('returns the first level', () => {
    expect(stateTenantOf('pb.amritsar')).toBe('pb');
    expect(stateTenantOf('in.statea.citya')).toBe('in');
  });

  it('returns a state tenant unchanged', () => {
    expect(stateTenantOf('pb')).toBe('pb');
  });
});

describe('tenantLineage', () => {
  it('lists the tenant and its ancestors, most specific first', () => {
    expect(tenantLineage('pb.amritsar')).toEqual(['pb.amritsar', 'pb']);
    expect(tenantLineage('in.statea.citya')).toEqual(['in.statea.citya', 'in.statea', 'in']);
  });

  it('is just the tenant for a state', () => {
    expect(tenantLineage('pb')).toEqual(['pb']);
  });
});

describe('tenantCovers', () => {
  it('a tenant covers itself', () => {
    expect(tenantCovers('pb', 'pb')).toBe(true);
    expect(tenantCovers('pb.amritsar', 'pb.amritsar')).toBe(true);
  });

  it('a state covers its cities and deeper levels', () => {
    expect(tenantCovers('pb', 'pb.amritsar')).toBe(true);
    expect(tenantCovers('in', 'in.statea.citya')).toBe(true);
    expect(tenantCovers('in.statea', 'in.statea.citya')).toBe(true);
  });

  it('a city does not cover its siblings or its parent', () => {
    expect(tenantCovers('pb.amritsar', 'pb.jalandhar')).toBe(false);
    expect(tenantCovers('pb.amritsar', 'pb')).toBe(false);
  });

  it('a prefix that is not a whole level does not cover', () => {
    expect(tenantCovers('pb', 'pbx.y')).toBe(false);
    expect(tenantCovers('pb', 'pbx')).toBe(false);
    expect(tenantCovers('pb.amrit', 'pb.amritsar')).toBe(false);
  });
});

describe('assertKnownTenant', () => {
  it('accepts a known tenant', async () => {
    await expect(assertKnownTenant(directoryOf('pb', 'pb.amritsar'), 'pb.amritsar')).resolves.toBeUndefined();
  });

  it.each(['', 'PB', '../x', 'pb..x', 'a.b.c.d'])('rejects the malformed id %j with INVALID_TENANT_ID', async (tenantId) => {
    const directory = directoryOf('pb');
    const error = await rejectionOf(assertKnownTenant(directory, tenantId));
    expect(error.kind).toBe('invalid');
    expect(error.code).toBe('INVALID_TENANT_ID');
    expect(error.details[0]?.params).toEqual([tenantId]);
    expect(error.message).toContain('not a valid tenant id');
    expect(directory.calls).toBe(0);
  });

  it('rejects a well-formed tenant the directory does not know', async () => {
    const error = await rejectionOf(assertKnownTenant(directoryOf('pb', 'pb.amritsar'), 'pb.jalandhar'));
    expect(error.kind).toBe('invalid');
    expect(error.code).toBe('INVALID_TENANT_ID');
    expect(error.details[0]?.params).toEqual(['pb.jalandhar']);
    expect(error.message).toContain('not a tenant of this platform');
  });

  it('does not treat a known city as making its unknown state known', async () => {
    const error = await rejectionOf(assertKnownTenant(directoryOf('pb.amritsar'), 'pb'));
    expect(error.code).toBe('INVALID_TENANT_ID');
  });

  it('accepts any well-formed id while the directory is empty', async () => {
    const directory = directoryOf();
    await expect(assertKnownTenant(directory, 'xy.anything')).resolves.toBeUndefined();
    expect(directory.calls).toBe(1);
  });

  it('still rejects a malformed id while the directory is empty', async () => {
    const error = await rejectionOf(assertKnownTenant(directoryOf(), 'Not/A/Tenant'));
    expect(error.code).toBe('INVALID_TENANT_ID');
  });
});
