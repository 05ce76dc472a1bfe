import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkMessage } from './localization.rules.js';

/** The demo translations in seed/localization/: complete, consistent, and covering the demo masters. */

type SeedMessages = { tenantId: string; locale: string; module: string; messages: Array<{ code: string; message: string }> };
const SEED = path.resolve('seed');

const problems: string[] = [];

function load(locale: string): Map<string, string> {
  const dir = path.join(SEED, 'localization', locale);
  const byKey = new Map<string, string>();
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const file = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as SeedMessages;
    if (file.tenantId !== 'pb' || file.locale !== locale)
      problems.push(`${locale}/${name}: tenant ${file.tenantId}, locale ${file.locale}`);
    for (const m of file.messages) {
      problems.push(...checkMessage({ ...m, module: file.module, locale }, `${locale}/${name} ${m.code}`).map((d) => d.message));
      byKey.set(`${file.module} ${m.code}`, m.message);
    }
  }
  return byKey;
}
const english = load('en_IN');
const hindi = load('hi_IN');
const masters = (schemaCode: string) =>
  (JSON.parse(fs.readFileSync(path.join(SEED, 'mdms', `${schemaCode}.json`), 'utf8')) as { data: Array<Record<string, string>> }).data;
const upper = (code: string) => code.toUpperCase().replace(/[.\-\s/:]/g, '_');
const placeholders = (text: string) => (text.match(/\{[a-z_]+\}|%s/g) ?? []).sort();

describe('the demo translations', () => {
  it('are well-formed messages of tenant pb, in the locale of their folder', () => {
    expect(problems).toEqual([]);
    expect(english.size).toBeGreaterThan(300);
  });

  it('give every English message a Hindi one and the reverse', () => {
    expect([...hindi.keys()].sort()).toEqual([...english.keys()].sort());
  });

  it('are Hindi in Devanagari, with the same placeholders as the English', () => {
    for (const [key, text] of hindi) {
      expect(text, key).toMatch(/[\u0900-\u097f]/);
      expect(placeholders(text), key).toEqual(placeholders(english.get(key)!));
    }
  });

  it('label every tenant, department, designation, role and complaint type of the demo masters', () => {
    const wanted = [
      ...masters('tenant.tenants').map((t) => `rainmaker-common TENANT_TENANTS_${upper(t['code']!)}`),
      ...masters('common-masters.Department').map((d) => `rainmaker-common COMMON_MASTERS_DEPARTMENT_${upper(d['code']!)}`),
      ...masters('common-masters.Designation').map((d) => `rainmaker-common COMMON_MASTERS_DESIGNATION_${upper(d['code']!)}`),
      ...masters('ACCESSCONTROL-ROLES.roles').map((r) => `rainmaker-common ACCESSCONTROL_ROLES_ROLES_${upper(r['code']!)}`),
      ...masters('RAINMAKER-PGR.ServiceDefs').flatMap((s) =>
        [s['serviceCode']!, s['menuPath']!].filter(Boolean).map((c) => `rainmaker-pgr SERVICEDEFS.${c.toUpperCase()}`),
      ),
    ];
    expect(wanted.length).toBeGreaterThan(100);
    expect(wanted.filter((key) => !english.has(key))).toEqual([]);
  });
});
