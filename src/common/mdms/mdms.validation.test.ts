import { randomUUID } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { checkDefinition, refSchemas, uniqueIdentifierOf, validateData, valuesAt, type SchemaDefinitionBody } from './mdms.validation.js';

/** validateData caches compiled validators by schema id, so every test uses a fresh one. */
function freshId(): string {
  return `test-${randomUUID()}`;
}

const GOOD: SchemaDefinitionBody = {
  type: 'object',
  required: ['code', 'name'],
  'x-unique': ['code'],
  properties: { code: { type: 'string' }, name: { type: 'string' } },
};

function codesOf(definition: unknown): string[] {
  return checkDefinition(definition).map((e) => e.code);
}

describe('checkDefinition', () => {
  it('accepts a good definition', () => {
    expect(checkDefinition(GOOD)).toEqual([]);
  });

  it('accepts a good definition with x-ref-schema and a nested x-unique path', () => {
    const definition = {
      ...GOOD,
      required: ['code', 'address'],
      'x-unique': ['code', 'address.city'],
      'x-ref-schema': [{ fieldPath: 'department', schemaCode: 'common-masters.Department' }],
    };
    expect(checkDefinition(definition)).toEqual([]);
  });

  it.each([null, undefined, 'a string', 42, true, [], [GOOD]])('rejects the non-object %j with INVALID_SCHEMA_DEFINITION', (value) => {
    const errors = checkDefinition(value);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('INVALID_SCHEMA_DEFINITION');
  });

  it('rejects a schema Ajv cannot compile with INVALID_SCHEMA_DEFINITION', () => {
    const errors = checkDefinition({ ...GOOD, type: 'nope' });
    expect(errors.map((e) => e.code)).toEqual(['INVALID_SCHEMA_DEFINITION']);
    expect(errors[0]?.message).toContain('not a valid JSON Schema');
  });

  it('rejects an invalid keyword value nested in properties', () => {
    const definition = { ...GOOD, properties: { code: { type: 'string', minLength: -1 } } };
    expect(codesOf(definition)).toEqual(['INVALID_SCHEMA_DEFINITION']);
  });

  it.each([
    ['missing', undefined],
    ['empty', []],
    ['not an array', 'code'],
    ['holding a non-string', ['code', 7]],
  ])('reports REQUIRED_ATTRIBUTE_LIST_ERR when required is %s', (_label, required) => {
    const codes = codesOf({ ...GOOD, required });
    expect(codes).toContain('REQUIRED_ATTRIBUTE_LIST_ERR');
    expect(codes).not.toContain('INVALID_SCHEMA_DEFINITION');
  });

  it.each([
    ['missing', undefined],
    ['empty', []],
    ['not an array', 'code'],
    ['holding an empty string', ['']],
    ['holding a non-string', [1]],
  ])('reports UNIQUE_ATTRIBUTE_LIST_ERR when x-unique is %s', (_label, unique) => {
    expect(codesOf({ ...GOOD, 'x-unique': unique })).toEqual(['UNIQUE_ATTRIBUTE_LIST_ERR']);
  });

  it('reports UNIQUE_ATTRIBUTE_LIST_INVALID_ERR naming the x-unique attributes that are not required', () => {
    const errors = checkDefinition({ ...GOOD, 'x-unique': ['code', 'tenant', 'address.city'] });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('UNIQUE_ATTRIBUTE_LIST_INVALID_ERR');
    expect(errors[0]?.params).toEqual(['tenant', 'address.city']);
    expect(errors[0]?.message).toContain('tenant, address.city');
  });

  it('judges a nested x-unique path by its first segment', () => {
    expect(codesOf({ ...GOOD, required: ['code', 'address'], 'x-unique': ['address.city'] })).toEqual([]);
  });

  it.each([
    ['not an array', { fieldPath: 'a', schemaCode: 'b' }],
    ['missing schemaCode', [{ fieldPath: 'a' }]],
    ['a non-string fieldPath', [{ fieldPath: 1, schemaCode: 'b' }]],
    ['a null entry', [null]],
  ])('reports INVALID_REF_SCHEMA_ERR when x-ref-schema is %s', (_label, refs) => {
    expect(codesOf({ ...GOOD, 'x-ref-schema': refs })).toEqual(['INVALID_REF_SCHEMA_ERR']);
  });

  it('reports several problems together and skips compiling then', () => {
    const codes = codesOf({ type: 'nope', 'x-ref-schema': 'bad' });
    expect(codes).toEqual(['REQUIRED_ATTRIBUTE_LIST_ERR', 'UNIQUE_ATTRIBUTE_LIST_ERR', 'INVALID_REF_SCHEMA_ERR']);
  });
});

describe('refSchemas', () => {
  it('returns the declared references, or [] when absent or malformed', () => {
    const refs = [{ fieldPath: 'department', schemaCode: 'common-masters.Department' }];
    expect(refSchemas({ ...GOOD, 'x-ref-schema': refs })).toEqual(refs);
    expect(refSchemas(GOOD)).toEqual([]);
    expect(refSchemas({ ...GOOD, 'x-ref-schema': [{ fieldPath: 'x' }] })).toEqual([]);
  });
});

describe('validateData', () => {
  const DEFINITION: SchemaDefinitionBody = {
    type: 'object',
    required: ['code', 'address'],
    'x-unique': ['code'],
    properties: {
      code: { type: 'string' },
      count: { type: 'integer', minimum: 1 },
      kind: { enum: ['X', 'Y'] },
      address: {
        type: 'object',
        required: ['city'],
        properties: { city: { type: 'string' }, pin: { type: 'string' } },
        additionalProperties: false,
      },
      items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
    },
  };

  it('returns [] for valid data', () => {
    expect(validateData(freshId(), DEFINITION, { code: 'A', address: { city: 'Amritsar' } })).toEqual([]);
  });

  it('reports a missing top-level field as data.<field>', () => {
    expect(validateData(freshId(), DEFINITION, { address: { city: 'Amritsar' } })).toEqual([
      { code: 'INVALID_REQUEST_REQUIRED1', message: 'data.code is required', params: ['/'] },
    ]);
  });

  it('reports a wrong type with the field path', () => {
    expect(validateData(freshId(), DEFINITION, { code: 5, address: { city: 'Amritsar' } })).toEqual([
      { code: 'INVALID_REQUEST_TYPE1', message: 'data.code must be string', params: ['/code'] },
    ]);
  });

  it('reports nested paths like data.address.city', () => {
    const missing = validateData(freshId(), DEFINITION, { code: 'A', address: {} });
    expect(missing).toEqual([{ code: 'INVALID_REQUEST_REQUIRED1', message: 'data.address.city is required', params: ['/address'] }]);

    const wrongType = validateData(freshId(), DEFINITION, { code: 'A', address: { city: 7 } });
    expect(wrongType).toEqual([{ code: 'INVALID_REQUEST_TYPE1', message: 'data.address.city must be string', params: ['/address/city'] }]);
  });

  it('reports array elements by index', () => {
    const errors = validateData(freshId(), DEFINITION, { code: 'A', address: { city: 'c' }, items: [{ name: 'ok' }, { name: 3 }] });
    expect(errors).toEqual([{ code: 'INVALID_REQUEST_TYPE1', message: 'data.items.1.name must be string', params: ['/items/1/name'] }]);
  });

  it('numbers every violation in order, with the keyword upper-cased', () => {
    const errors = validateData(freshId(), DEFINITION, { count: 0, kind: 'Z', address: { pin: 5, extra: true } });
    expect(errors.map((e) => e.code)).toEqual([
      'INVALID_REQUEST_REQUIRED1',
      'INVALID_REQUEST_MINIMUM2',
      'INVALID_REQUEST_ENUM3',
      'INVALID_REQUEST_REQUIRED4',
      'INVALID_REQUEST_ADDITIONALPROPERTIES5',
      'INVALID_REQUEST_TYPE6',
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      'data.code is required',
      'data.count must be >= 1',
      'data.kind must be one of ["X","Y"]',
      'data.address.city is required',
      'data.address must not have the property "extra"',
      'data.address.pin must be string',
    ]);
  });

  it('reports a non-object record at the root as data', () => {
    expect(validateData(freshId(), DEFINITION, 'just a string')).toEqual([
      { code: 'INVALID_REQUEST_TYPE1', message: 'data must be object', params: ['/'] },
    ]);
  });

  it('checks formats', () => {
    const definition = { type: 'object', required: ['email'], 'x-unique': ['email'], properties: { email: { type: 'string', format: 'email' } } };
    const errors = validateData(freshId(), definition, { email: 'not-an-email' });
    expect(errors.map((e) => e.code)).toEqual(['INVALID_REQUEST_FORMAT1']);
    expect(errors[0]?.message).toMatch(/^data\.email /);
  });

  it('reports at most 20 violations', () => {
    const properties: Record<string, unknown> = {};
    const data: Record<string, unknown> = {};
    for (let i = 0; i < 30; i++) {
      properties[`f${i}`] = { type: 'string' };
      data[`f${i}`] = i;
    }
    const errors = validateData(freshId(), { type: 'object', properties }, data);
    expect(errors).toHaveLength(20);
    expect(errors[19]?.code).toBe('INVALID_REQUEST_TYPE20');
  });
});

describe('valuesAt', () => {
  const data = {
    code: 'A',
    zero: 0,
    flag: false,
    nothing: null,
    address: { city: 'Amritsar', geo: { lat: 31.6 } },
    tags: ['x', 'y'],
    wards: [
      { code: 'W1', blocks: ['b1', 'b2'] },
      { code: 'W2', blocks: ['b3'] },
      { name: 'no code' },
      { code: null },
    ],
  };

  it('follows dot paths', () => {
    expect(valuesAt(data, 'code')).toEqual(['A']);
    expect(valuesAt(data, 'address.city')).toEqual(['Amritsar']);
    expect(valuesAt(data, 'address.geo.lat')).toEqual([31.6]);
  });

  it('ignores a leading $.', () => {
    expect(valuesAt(data, '$.address.city')).toEqual(['Amritsar']);
  });

  it('keeps falsy values other than null and undefined', () => {
    expect(valuesAt(data, 'zero')).toEqual([0]);
    expect(valuesAt(data, 'flag')).toEqual([false]);
  });

  it('drops null and missing values', () => {
    expect(valuesAt(data, 'nothing')).toEqual([]);
    expect(valuesAt(data, 'missing')).toEqual([]);
    expect(valuesAt(data, 'address.missing.deeper')).toEqual([]);
    expect(valuesAt(data, 'code.length')).toEqual([]);
    expect(valuesAt(null, 'code')).toEqual([]);
    expect(valuesAt(undefined, 'code')).toEqual([]);
  });

  it('walks every array element with *', () => {
    expect(valuesAt(data, 'wards.*.code')).toEqual(['W1', 'W2']);
  });

  it('flattens arrays found at the end of the path', () => {
    expect(valuesAt(data, 'tags')).toEqual(['x', 'y']);
    expect(valuesAt(data, 'wards.*.blocks')).toEqual(['b1', 'b2', 'b3']);
  });

  it('does not walk into an array without *', () => {
    expect(valuesAt(data, 'wards.code')).toEqual([]);
  });

  it('matches * only against arrays', () => {
    expect(valuesAt(data, 'address.*')).toEqual([]);
  });

  // Inherited Object.prototype members (toString, constructor) are not fields of plain JSON data.
  it('does not return inherited Object.prototype members', () => {
    expect(valuesAt({}, 'toString')).toEqual([]);
    expect(uniqueIdentifierOf({ 'x-unique': ['constructor'] }, {})).toBeUndefined();
    const definition = { type: 'object', required: ['constructor'], 'x-unique': ['constructor'] };
    expect(validateData(`proto-${Math.random()}`, definition, {}).map((e) => e.code)).toEqual(['INVALID_REQUEST_REQUIRED1']);
  });
});

describe('uniqueIdentifierOf', () => {
  it('is the single x-unique value', () => {
    expect(uniqueIdentifierOf({ 'x-unique': ['code'] }, { code: 'PT' })).toBe('PT');
  });

  it("joins several x-unique values with '.' in declaration order", () => {
    const definition = { 'x-unique': ['tenant', 'code', 'address.city'] };
    expect(uniqueIdentifierOf(definition, { code: 'PT', tenant: 'pb', address: { city: 'Amritsar' } })).toBe('pb.PT.Amritsar');
  });

  it('stringifies numbers and booleans', () => {
    expect(uniqueIdentifierOf({ 'x-unique': ['code', 'rank', 'active'] }, { code: 'A', rank: 3, active: false })).toBe('A.3.false');
    expect(uniqueIdentifierOf({ 'x-unique': ['rank'] }, { rank: 0 })).toBe('0');
  });

  it('takes the first value when the path yields several', () => {
    expect(uniqueIdentifierOf({ 'x-unique': ['tags'] }, { tags: ['first', 'second'] })).toBe('first');
  });

  it.each([
    ['missing', { other: 'x' }],
    ['null', { code: null }],
    ['an empty string', { code: '' }],
    ['blank', { code: '   ' }],
    ['an object', { code: { nested: 'x' } }],
    ['an empty array', { code: [] }],
  ])('is undefined when a part is %s', (_label, data) => {
    expect(uniqueIdentifierOf({ 'x-unique': ['name', 'code'] }, { name: 'n', ...data })).toBeUndefined();
  });

  it('is undefined when the definition has no x-unique', () => {
    expect(uniqueIdentifierOf({}, { code: 'A' })).toBeUndefined();
    expect(uniqueIdentifierOf({ 'x-unique': [] }, { code: 'A' })).toBeUndefined();
  });
});
