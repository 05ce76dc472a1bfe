import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { DomainError } from '../../kernel/errors.js';
import type { Parsed, Refused } from '../../kernel/offline.batch.js';
import { assertKnownTenant, stateTenantOf } from '../../kernel/tenancy.js';
import { individualValidator, schemaProblems, type IndividualInput } from './individual.schema.js';
import { isRecord, nonEmpty, type IndividualServiceDeps } from './individual.types.js';
import type { IndividualViewer } from './individual.viewer.js';

/** `dd/MM/yyyy` that names a real day, not in the future; the problem otherwise. */
export function dateOfBirthProblem(value: string, now: number): string | undefined {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/u.exec(value);
  if (!m) return `dateOfBirth "${value}" is not dd/MM/yyyy`;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || year < 1850) {
    return `dateOfBirth "${value}" is not a real date`;
  }
  if (time > now) return `dateOfBirth "${value}" is in the future`;
  return undefined;
}

/**
 * DIGIT's Individual rules (§1.1), per record: the schema, a known tenant, a name, a real date of
 * birth, the state's mobile number pattern, one address and identifier per type, and localities
 * and wards that are boundaries of the record's tenant.
 */
export function individualValidation(
  { clock, mdms, boundary }: Pick<IndividualServiceDeps, 'clock' | 'mdms' | 'boundary'>,
  viewer: Pick<IndividualViewer, 'master'>,
) {
  const { master } = viewer;

  async function mobilePattern(tenantId: string): Promise<RegExp | undefined> {
    type Rule = { pattern?: string; mobileNumberRegex?: string; rules?: { pattern?: string }; default?: boolean; isDefault?: boolean };
    const rules = (await master(stateTenantOf(tenantId), 'common-masters', 'MobileNumberValidation')) as Rule[];
    const rule = rules.find((r) => r.default === true || r.isDefault === true) ?? rules[0];
    const pattern = rule?.rules?.pattern ?? rule?.mobileNumberRegex ?? rule?.pattern;
    if (typeof pattern !== 'string') return undefined;
    try {
      return new RegExp(pattern, 'u');
    } catch {
      return undefined;
    }
  }

  /** Schema and rules of §1.1 per record; refusals per record, the rest goes on. */
  async function validate(
    records: readonly unknown[],
    indexes: readonly number[],
    prepare: (index: number, input: IndividualInput) => IndividualInput = (_index, input) => input,
  ): Promise<{ ok: Array<Parsed<IndividualInput>>; refused: Refused[] }> {
    const ok: Array<Parsed<IndividualInput>> = [];
    const refused: Refused[] = [];
    const refuse = (index: number, record: Refused['record'], code: string, message: string) =>
      refused.push({ index, record, refusal: { code, message } });
    const now = clock.now();
    const known = new Map<string, Promise<DomainError | undefined>>();
    const knownTenant = (tenantId: string) => {
      let p = known.get(tenantId);
      if (!p) {
        p = assertKnownTenant(mdms.tenants, tenantId).then(
          () => undefined,
          (error: unknown) => (error instanceof DomainError ? error : Promise.reject(error)),
        );
        known.set(tenantId, p);
      }
      return p;
    };
    const patterns = new Map<string, Promise<RegExp | undefined>>();
    const candidates: Array<Parsed<IndividualInput>> = [];
    for (const index of indexes) {
      const record = records[index];
      const asRef = isRecord(record)
        ? {
            clientReferenceId: typeof record['clientReferenceId'] === 'string' ? record['clientReferenceId'] : null,
            id: typeof record['id'] === 'string' ? record['id'] : null,
          }
        : undefined;
      if (!individualValidator.Check(record)) {
        refuse(index, asRef, 'INVALID_RECORD', schemaProblems(record).join('; ') || 'the record does not match the Individual schema');
        continue;
      }
      const input = prepare(index, record);
      const tenantError = await knownTenant(input.tenantId);
      if (tenantError) {
        refuse(index, input, tenantError.code, tenantError.details[0]?.message ?? 'unknown tenant');
        continue;
      }
      const problems: Array<[string, string]> = [];
      if (!nonEmpty(input.name.givenName) && !nonEmpty(input.name.familyName))
        problems.push(['INVALID_NAME', 'name needs a givenName or a familyName']);
      if (nonEmpty(input.dateOfBirth)) {
        const p = dateOfBirthProblem(input.dateOfBirth, now);
        if (p) problems.push(['INVALID_DATE_OF_BIRTH', p]);
      }
      if (nonEmpty(input.mobileNumber)) {
        let p = patterns.get(input.tenantId);
        if (!p) patterns.set(input.tenantId, (p = mobilePattern(input.tenantId)));
        const pattern = await p;
        if (pattern && !pattern.test(input.mobileNumber))
          problems.push(['INVALID_MOBILE_NUMBER', `mobileNumber does not match the pattern ${pattern.source}`]);
      }
      const types = (input.address ?? []).map((a) => a.type);
      if (new Set(types).size !== types.length) problems.push(['DUPLICATE_ADDRESS_TYPE', 'at most one address of each type']);
      const idTypes = (input.identifiers ?? []).map((i) => i.identifierType.trim().toUpperCase());
      if (new Set(idTypes).size !== idTypes.length)
        problems.push(['DUPLICATE_IDENTIFIER_TYPE', 'at most one identifier of each identifierType']);
      if (problems.length > 0) {
        refuse(index, input, problems[0]![0], problems.map((p) => p[1]).join('; '));
        continue;
      }
      candidates.push({ index, record: input });
    }
    // Localities and wards must be boundaries of the record's tenant: one search per tenant.
    const codesByTenant = new Map<string, Set<string>>();
    for (const { record: input } of candidates) {
      for (const a of input.address ?? []) {
        for (const ref of [a.locality, a.ward]) {
          if (ref) {
            const set = codesByTenant.get(input.tenantId) ?? new Set<string>();
            set.add(ref.code);
            codesByTenant.set(input.tenantId, set);
          }
        }
      }
    }
    const existing = new Map<string, Set<string>>();
    for (const [tenantId, codes] of codesByTenant) {
      const found = new Set<string>();
      const list = [...codes];
      for (let i = 0; i < list.length; i += 500) {
        const part = list.slice(i, i + 500);
        for (const b of await boundary.searchBoundaries({ tenantId, codes: part, limit: part.length }, SYSTEM_SCOPE)) found.add(b.code);
      }
      existing.set(tenantId, found);
    }
    for (const c of candidates) {
      const found = existing.get(c.record.tenantId);
      const missing = (c.record.address ?? [])
        .flatMap((a) => [a.locality?.code, a.ward?.code])
        .filter((code): code is string => code !== undefined && !found?.has(code));
      if (missing.length > 0) {
        const codes = [...new Set(missing)].join(', ');
        refuse(c.index, c.record, 'INVALID_BOUNDARY', `boundary code(s) ${codes} are not boundaries of tenant ${c.record.tenantId}`);
      } else {
        ok.push(c);
      }
    }
    return { ok, refused };
  }

  return validate;
}

export type IndividualValidate = ReturnType<typeof individualValidation>;
