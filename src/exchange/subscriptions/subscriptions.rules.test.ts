import { describe, expect, it } from 'vitest';
import { conditionHolds, exponentialBackoff, isPath, matches, PATH_PATTERN, project, valuesAt } from './subscriptions.rules.js';

const child = {
  id: 'ind-1',
  dateOfBirth: '01/11/2025',
  gender: 'FEMALE',
  name: { givenName: 'Asha', familyName: 'Kaur' },
  mobileNumber: '9800000001',
  identifiers: [
    { identifierType: 'AADHAAR', identifierId: '1234' },
    { identifierType: 'BIRTH_REGISTRATION', identifierId: 'BR-2025-1' },
  ],
  address: [{ locality: { code: 'SUN04' }, doorNo: '12' }],
  isDeleted: false,
  rowVersion: 1,
  missing: null,
};

describe('valuesAt', () => {
  it('walks dot paths and every element of the arrays on the way', () => {
    expect(valuesAt(child, 'name.givenName')).toEqual(['Asha']);
    expect(valuesAt(child, 'identifiers.identifierType')).toEqual(['AADHAAR', 'BIRTH_REGISTRATION']);
    expect(valuesAt(child, 'address.locality.code')).toEqual(['SUN04']);
    expect(valuesAt(child, 'nothing.here')).toEqual([]);
    expect(valuesAt(child, 'missing')).toEqual([]);
    expect(valuesAt({ tags: ['a', 'b'] }, 'tags')).toEqual(['a', 'b']);
  });
  it('does not read inherited properties', () => {
    expect(valuesAt({}, 'constructor')).toEqual([]);
    expect(valuesAt(child, 'name.toString')).toEqual([]);
  });
});

describe('conditions', () => {
  it('eq holds when any element on the path matches', () => {
    expect(conditionHolds(child, { path: 'identifiers.identifierType', op: 'eq', value: 'BIRTH_REGISTRATION' })).toBe(true);
    expect(conditionHolds(child, { path: 'identifiers.identifierType', op: 'eq', value: 'PASSPORT' })).toBe(false);
    expect(conditionHolds(child, { path: 'rowVersion', op: 'eq', value: 1 })).toBe(true);
    expect(conditionHolds(child, { path: 'rowVersion', op: 'eq', value: '1' })).toBe(false);
    expect(conditionHolds(child, { path: 'isDeleted', op: 'eq', value: false })).toBe(true);
  });
  it('ne is the negation of eq (a missing field is ne anything)', () => {
    expect(conditionHolds(child, { path: 'identifiers.identifierType', op: 'ne', value: 'AADHAAR' })).toBe(false);
    expect(conditionHolds(child, { path: 'identifiers.identifierType', op: 'ne', value: 'PASSPORT' })).toBe(true);
    expect(conditionHolds(child, { path: 'nothing', op: 'ne', value: 'x' })).toBe(true);
  });
  it('in holds when any value is in the list', () => {
    expect(conditionHolds(child, { path: 'gender', op: 'in', value: ['MALE', 'FEMALE'] })).toBe(true);
    expect(conditionHolds(child, { path: 'gender', op: 'in', value: ['MALE', 'OTHER'] })).toBe(false);
  });
  it('exists (true by default) and exists false', () => {
    expect(conditionHolds(child, { path: 'dateOfBirth', op: 'exists' })).toBe(true);
    expect(conditionHolds(child, { path: 'missing', op: 'exists', value: true })).toBe(false);
    expect(conditionHolds(child, { path: 'missing', op: 'exists', value: false })).toBe(true);
    expect(conditionHolds(child, { path: 'dateOfBirth', op: 'exists', value: false })).toBe(false);
  });
  it('all conditions must hold; none matches everything', () => {
    expect(matches(child, [])).toBe(true);
    expect(
      matches(child, [
        { path: 'identifiers.identifierType', op: 'eq', value: 'BIRTH_REGISTRATION' },
        { path: 'dateOfBirth', op: 'exists' },
      ]),
    ).toBe(true);
    expect(
      matches(child, [
        { path: 'identifiers.identifierType', op: 'eq', value: 'BIRTH_REGISTRATION' },
        { path: 'gender', op: 'eq', value: 'MALE' },
      ]),
    ).toBe(false);
  });
});

describe('project', () => {
  it('keeps only the listed paths, cutting array elements to their sub-paths', () => {
    expect(project(child, ['id', 'dateOfBirth', 'identifiers.identifierType', 'identifiers.identifierId', 'name.givenName'])).toEqual({
      id: 'ind-1',
      dateOfBirth: '01/11/2025',
      name: { givenName: 'Asha' },
      identifiers: [
        { identifierType: 'AADHAAR', identifierId: '1234' },
        { identifierType: 'BIRTH_REGISTRATION', identifierId: 'BR-2025-1' },
      ],
    });
  });
  it('a parent path takes the whole subtree; absent paths are left out', () => {
    expect(project(child, ['name', 'name.givenName', 'nothing.here'])).toEqual({ name: { givenName: 'Asha', familyName: 'Kaur' } });
    expect(project(child, ['name.givenName', 'name'])).toEqual({ name: { givenName: 'Asha', familyName: 'Kaur' } });
  });
  it('no fields: no data at all; the result never shares objects with the input', () => {
    expect(project(child, [])).toEqual({});
    expect(project('not an object', ['a'])).toEqual({});
    const out = project(child, ['name']);
    (out['name'] as Record<string, string>)['givenName'] = 'changed';
    expect(child.name.givenName).toBe('Asha');
  });
  it('never carries a field outside the list', () => {
    const out = JSON.stringify(project(child, ['dateOfBirth', 'identifiers.identifierType']));
    for (const secret of ['Asha', 'Kaur', '9800000001', '1234', 'BR-2025-1', 'SUN04']) expect(out).not.toContain(secret);
  });
});

describe('prototypes', () => {
  const polluted = () => ({}) as Record<string, unknown>;
  const clean = () => {
    for (const name of ['open', 'x', 'y']) {
      // Undoes what a broken `project` would have done, so one failure does not spread to other tests.
      for (const target of [Object.prototype, Object.prototype.toString, Object]) Reflect.deleteProperty(target, name);
    }
  };

  it('project never writes to a prototype, whatever the fields say', () => {
    try {
      for (const fields of [['__proto__.open'], ['constructor.prototype.x'], ['toString.y'], ['constructor.x']]) {
        expect(() => project({ a: 1 }, fields)).not.toThrow();
      }
      expect(polluted()['open']).toBeUndefined();
      expect(polluted()['x']).toBeUndefined();
      expect(Object.hasOwn(Object.prototype.toString, 'y')).toBe(false);
      expect(Object.hasOwn(Object, 'x')).toBe(false);
    } finally {
      clean();
    }
  });

  it('project and matches read own properties only', () => {
    // Inherited names are absent unless the data has them as its own.
    expect(project({ a: 1 }, ['toString', 'hasOwnProperty', 'valueOf.x'])).toEqual({});
    expect(project({ toString: { x: 1, y: 2 } }, ['toString.x'])).toEqual({ toString: { x: 1 } });
    expect(project({ name: 'n' }, ['name.toString'])).toEqual({});
    expect(matches({}, [{ path: 'toString', op: 'exists' }])).toBe(false);
    expect(matches({ name: {} }, [{ path: 'name.valueOf', op: 'exists' }])).toBe(false);
    expect(matches({ a: 1 }, [{ path: 'constructor', op: 'exists', value: false }])).toBe(true);
    // Data holding a key named like a prototype member is data, nothing more.
    const data = JSON.parse('{"constructor": {"prototype": {"open": true}}, "__proto__": {"open": true}, "a": 1}') as unknown;
    expect(project(data, ['a', 'constructor.prototype.open', '__proto__.open'])).toEqual({ a: 1 });
    expect(polluted()['open']).toBeUndefined();
  });
});

describe('paths and backoff', () => {
  it('accepts dot paths only', () => {
    for (const ok of ['a', 'identifiers.identifierType', 'additionalFields.fields', 'a_b.c-d']) expect(PATH_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', '.a', 'a.', 'a..b', 'a[0]', 'a.*', '$.a', 'a b', '1a']) expect(PATH_PATTERN.test(bad)).toBe(false);
  });
  it('refuses segments that name a prototype', () => {
    for (const ok of ['a', 'name.givenName', 'constructorName', 'proto', 'a.prototypes']) expect(isPath(ok)).toBe(true);
    for (const bad of ['__proto__', '__proto__.open', 'constructor', 'constructor.prototype.x', 'a.prototype', 'a.__proto__.b', 'a..b']) {
      expect(isPath(bad)).toBe(false);
    }
  });
  it('doubles from the base and stops at the cap', () => {
    const backoff = exponentialBackoff(1000, 10_000);
    expect([1, 2, 3, 4, 5, 6, 100, 10_000].map(backoff)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]);
    expect(backoff(0)).toBe(1000);
  });
});
