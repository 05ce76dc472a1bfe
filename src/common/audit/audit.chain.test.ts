import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, GENESIS_HASH, storable, storableDetails } from './audit.chain.js';

const fields = {
  id: '0190a000-0000-7000-8000-000000000000',
  tenantId: 'pb',
  seq: 1,
  time: 1_700_000_000_000,
  actorUuid: null,
  action: 'user.login',
  subject: 'u1',
  outcome: 'success',
  details: { b: 1, a: [1, { d: 2, c: 3 }] },
  ip: null,
  correlationId: null,
  prevHash: GENESIS_HASH,
};

describe('canonical serialization and hashing', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: null, c: 'x' }] })).toBe('{"a":[2,{"c":"x","d":null}],"b":1}');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it('hashes equal content equally whatever the key order, and any changed field differently', () => {
    const base = entryHash(fields);
    expect(entryHash({ ...fields, details: { a: [1, { c: 3, d: 2 }], b: 1 } })).toBe(base);
    for (const change of [
      { seq: 2 },
      { time: 1 },
      { actorUuid: 'x' },
      { subject: 'u2' },
      { details: { b: 2, a: [1, { d: 2, c: 3 }] } },
      { ip: '' },
      { prevHash: 'f'.repeat(64) },
      { id: 'other' },
    ]) {
      expect(entryHash({ ...fields, ...change })).not.toBe(base);
    }
  });

  it('cannot be fooled by moving text between neighbouring fields', () => {
    expect(entryHash({ ...fields, action: 'user.login', subject: 'x' })).not.toBe(
      entryHash({ ...fields, action: 'user.loginx', subject: '' }),
    );
  });

  it('makes strings and details storable as they will read back', () => {
    expect(storable('a\u0000b\ud800')).toBe('a\uFFFDb\uFFFD');
    expect(storable('😀')).toBe('😀');
    expect(storableDetails(undefined)).toEqual({});
    expect(storableDetails({ n: Number.NaN, f: () => 1, d: new Date(0) } as Record<string, unknown>)).toEqual({
      n: null,
      d: '1970-01-01T00:00:00.000Z',
    });
  });
});
