import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import type { SeedFile, SeededLogin } from '../../kernel/module.js';
import { assertKnownTenant, type TenantDirectory } from '../../kernel/tenancy.js';
import type { UserInput } from './user.schema.js';
import type { SeededEmployee, UserService } from './user.service.js';

export type EmployeeSeedResult = {
  readonly counts: { readonly employeesCreated: number; readonly employeesExisting: number };
  readonly logins: readonly SeededLogin[];
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const FILE_FIELDS = new Set(['tenantId', 'description', 'employees']);
const RECORD_FIELDS = new Set(['userName', 'name', 'mobileNumber', 'emailId', 'locale', 'roles']);
// The sizes of egov-user's contract (user.schema.ts).
const SIZES: Record<string, number> = { userName: 180, name: 50, mobileNumber: 20, emailId: 128, locale: 16 };
const LOCALE = /^[a-z]{2}_[A-Z]{2}$/;

/**
 * `seed/user/*.json`: `{ "tenantId": "pb.amritsar", "employees": [{ "userName", "name",
 * "mobileNumber", "emailId"?, "locale"?, "roles": ["GRO"] }] }`. Creates each employee that does
 * not exist yet (roles on the file's tenant, EMPLOYEE always) with a generated password, answered
 * once; never changes an existing user. Checks every record with the API's rules first and
 * refuses the whole folder, naming file and record, if any fails.
 */
export async function seedEmployees(
  service: UserService,
  tenants: TenantDirectory,
  files: readonly SeedFile[],
  actor: { uuid: string | null },
): Promise<EmployeeSeedResult> {
  const errors: ErrorDetail[] = [];
  const fail = (file: string, message: string, code = 'INVALID_SEED_FILE') =>
    errors.push({ code, message: `${file}: ${message}`, params: [file] });
  const wanted: SeededEmployee[] = [];
  const seen = new Map<string, string>();
  for (const { file, content } of files) {
    if (!isRecord(content)) {
      fail(file, 'must be a JSON object');
      continue;
    }
    const extra = Object.keys(content).filter((k) => !FILE_FIELDS.has(k));
    if (extra.length > 0) fail(file, `unknown field(s) ${extra.join(', ')} (expected tenantId, description, employees)`);
    const tenantId = content['tenantId'];
    if (typeof tenantId !== 'string') {
      fail(file, '"tenantId" must be a string, e.g. "pb.amritsar"');
      continue;
    }
    try {
      await assertKnownTenant(tenants, tenantId);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      fail(file, error.details.map((d) => d.message).join('; '), 'INVALID_TENANT_ID');
      continue;
    }
    const employees = content['employees'];
    if (!Array.isArray(employees)) {
      fail(file, '"employees" must be a list of {userName, name, mobileNumber, emailId?, locale?, roles}');
      continue;
    }
    for (const [i, entry] of employees.entries()) {
      const where = `record ${i + 1}`;
      if (!isRecord(entry)) {
        fail(file, `${where}: must be an object`);
        continue;
      }
      const problems: string[] = [];
      const unknown = Object.keys(entry).filter((k) => !RECORD_FIELDS.has(k));
      if (unknown.length > 0) problems.push(`unknown field(s) ${unknown.join(', ')}`);
      for (const [field, max] of Object.entries(SIZES)) {
        const value = entry[field];
        const required = field === 'userName' || field === 'name' || field === 'mobileNumber';
        if (value === undefined && !required) continue;
        if (typeof value !== 'string' || value.trim() === '') problems.push(`${field} must be a non-empty string`);
        else if (value.length > max) problems.push(`${field} must be at most ${max} characters`);
      }
      if (typeof entry['locale'] === 'string' && !LOCALE.test(entry['locale'])) problems.push('locale must look like en_IN');
      const roles = entry['roles'];
      if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => typeof r === 'string' && r !== '')) {
        problems.push('roles must be a non-empty list of role codes');
      }
      const label = typeof entry['userName'] === 'string' ? `${where} (${entry['userName']})` : where;
      if (problems.length > 0) {
        for (const p of problems) fail(file, `${label}: ${p}`);
        continue;
      }
      const userName = entry['userName'] as string;
      const key = `${tenantId}\u0000${userName}`;
      const other = seen.get(key);
      if (other !== undefined) {
        fail(file, `${label}: userName "${userName}" of ${tenantId} is already listed in ${other}`, 'DUPLICATE_USER_NAME');
        continue;
      }
      seen.set(key, `${file} ${where}`);
      const input: UserInput = {
        userName,
        name: entry['name'] as string,
        mobileNumber: entry['mobileNumber'] as string,
        type: 'EMPLOYEE',
        tenantId,
        roles: [...new Set(['EMPLOYEE', ...(roles as string[])])].map((code) => ({ code, tenantId })),
        ...(entry['emailId'] !== undefined ? { emailId: entry['emailId'] as string } : {}),
        ...(entry['locale'] !== undefined ? { locale: entry['locale'] as string } : {}),
      };
      // The API's own rules: the tenant exists, name, e-mail and mobile number (the state's
      // MobileNumberValidation), and every role exists in ACCESSCONTROL-ROLES.
      try {
        await service.checkEmployee(input, tenantId);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        for (const d of error.details) fail(file, `${label}: ${d.message}`, d.code);
        continue;
      }
      wanted.push({ tenantId, input });
    }
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);
  const { created, existing } = await service.createSeededEmployees(wanted, actor.uuid);
  return { counts: { employeesCreated: created.length, employeesExisting: existing }, logins: created };
}
