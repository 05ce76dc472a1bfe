import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePatterns, maskValue, parsePolicy, redactor, visibilitiesFor } from '../../common/encryption/index.js';
import { normalizeIdentifier, normalizeMobile, normalizeName } from './individual.rows.js';
import { dateOfBirthProblem } from './individual.validate.js';

type Seed = { data: unknown[] };
const policies = (JSON.parse(fs.readFileSync('seed/mdms/DataSecurity.SecurityPolicy.json', 'utf8')) as Seed).data;
const patterns = compilePatterns((JSON.parse(fs.readFileSync('seed/mdms/DataSecurity.MaskingPatterns.json', 'utf8')) as Seed).data);
const individual = policies.map(parsePolicy).find((p) => p?.model === 'Individual')!;

const person = () => ({
  id: 'x',
  name: { givenName: 'Rajesh', familyName: 'Kumar Singh', otherNames: null },
  dateOfBirth: '14/03/1985',
  mobileNumber: '9876543210',
  email: 'rajesh@example.org',
  identifiers: [{ identifierType: 'AADHAAR', identifierId: '123456789012' }],
  address: [{ type: 'PERMANENT', doorNo: '12-B', locality: { code: 'SUN04' } }],
});
const grant = (code: string, tenantId = 'pb') => ({ code, tenantId });

describe('the seeded Individual security policy', () => {
  it('shows a registrar everything', () => {
    const record = person();
    redactor(individual, visibilitiesFor(individual, [grant('REGISTRAR')], 'pb.amritsar'), patterns).apply(record);
    expect(record).toEqual(person());
  });

  it('masks everything for an employee, with the seeded patterns', () => {
    const record = person();
    const r = redactor(individual, visibilitiesFor(individual, [grant('EMPLOYEE')], 'pb.amritsar'), patterns);
    r.apply(record);
    expect(record.name).toEqual({ givenName: 'R*****', familyName: 'K**** S****', otherNames: null });
    expect(record.mobileNumber).toBe('******3210');
    expect(record.dateOfBirth).toBe('******1985');
    expect(record.identifiers[0]!.identifierId).toBe('********9012');
    expect(record.address[0]!.doorNo).toBe('****');
    expect(record.address[0]!.locality).toEqual({ code: 'SUN04' });
    expect(record.email).toBe('r**************org');
    expect(r.shown).toContain('mobileNumber');
  });

  it('shows a distributor names and dates of birth, masks the rest', () => {
    const record = person();
    redactor(individual, visibilitiesFor(individual, [grant('DISTRIBUTOR')], 'pb.amritsar'), patterns).apply(record);
    expect(record.name.givenName).toBe('Rajesh');
    expect(record.dateOfBirth).toBe('14/03/1985');
    expect(record.mobileNumber).toBe('******3210');
  });

  it('counts a role only on its own tenant or a parent', () => {
    const record = person();
    redactor(individual, visibilitiesFor(individual, [grant('REGISTRAR', 'pb.jalandhar')], 'pb.amritsar'), patterns).apply(record);
    expect(record.name.givenName).toBe('R*****');
  });

  it('hides NONE and masks whole values when a pattern cannot run in JavaScript', () => {
    expect(maskValue('secret', undefined)).toBe('******');
    const policy = parsePolicy({ model: 'M', attributes: [{ name: 'a', jsonPath: 'a', defaultVisibility: 'NONE' }] })!;
    const record: Record<string, unknown> = { a: 'x' };
    redactor(policy, visibilitiesFor(policy, [], 'pb'), patterns).apply(record);
    expect(record['a']).toBeNull();
  });

  it('recognises a masked value sent back', () => {
    const r = redactor(individual, visibilitiesFor(individual, [grant('EMPLOYEE')], 'pb'), patterns);
    expect(r.seen('name.givenName', 'Rajesh')).toBe('R*****');
    expect(r.seen('identifiers.*.identifierId', '123456789012')).toBe('********9012');
  });
});

describe('normalization and dates', () => {
  it('normalizes names, numbers and identifiers for the blind indexes', () => {
    expect(normalizeName('  RAJESH   kumar ')).toBe(normalizeName('rajesh kumar'));
    expect(normalizeMobile('98765 43210')).toBe('9876543210');
    expect(normalizeIdentifier('aadhaar ', '1234-5678 9012')).toBe(normalizeIdentifier('AADHAAR', '123456789012'));
    expect(normalizeIdentifier('PAN', '123456789012')).not.toBe(normalizeIdentifier('AADHAAR', '123456789012'));
  });

  it('accepts real past dates only', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(dateOfBirthProblem('29/02/2024', now)).toBeUndefined();
    expect(dateOfBirthProblem('29/02/2023', now)).toMatch(/real date/);
    expect(dateOfBirthProblem('31/04/2000', now)).toMatch(/real date/);
    expect(dateOfBirthProblem('02/01/2026', now)).toMatch(/future/);
    expect(dateOfBirthProblem('2000-01-01', now)).toMatch(/dd\/MM\/yyyy/);
  });
});
