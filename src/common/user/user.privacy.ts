import type { RoleGrant, UserInfo } from '../../kernel/auth.js';
import { stateTenantOf, tenantCovers } from '../../kernel/tenancy.js';

/**
 * DIGIT's enc-client security policy for users (MDMS `DataSecurity.SecurityPolicy`, models `User`
 * and `UserSelf`, patterns in `DataSecurity.MaskingPatterns`), applied to user answers before they
 * leave: each personal attribute is PLAIN, MASKED or NONE (null) by the viewer's roles on the
 * user's tenant, the most open of its default and every role entry naming one of them. The same
 * rules as the individual registry's (src/domain/individual/individual.policy.ts), for the flat
 * fields of a DIGIT user. A tenant without a usable `User` policy masks every personal attribute.
 */

type Visibility = 'PLAIN' | 'MASKED' | 'NONE';
type Attribute = { name: string; field: string; patternId: string | null; visibility: Visibility };
type Policy = { attributes: Attribute[]; roles: Array<{ roles: Set<string>; access: Map<string, Visibility> }> };

/** The personal fields of a DIGIT user, masked whole when a tenant has no policy. */
const PERSONAL_FIELDS = [
  'name', 'mobileNumber', 'emailId', 'userName', 'altContactNumber', 'alternatemobilenumber', 'pan', 'aadhaarNumber',
  'permanentAddress', 'correspondenceAddress', 'fatherOrHusbandName', 'guardian', 'dob', 'identificationMark',
] as const;

const RANK: Record<Visibility, number> = { NONE: 0, MASKED: 1, PLAIN: 2 };
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const visibilityOf = (value: unknown): Visibility | undefined => (value === 'PLAIN' || value === 'MASKED' || value === 'NONE' ? value : undefined);

/** DIGIT writes `username` where the user object says `userName`: policy paths match field names case-insensitively. */
const FIELD_BY_LOWER = new Map<string, string>(PERSONAL_FIELDS.map((f) => [f.toLowerCase(), f]));
const fieldOf = (jsonPath: string) => {
  const bare = jsonPath.replace(/^\$?[./]?/, '');
  return FIELD_BY_LOWER.get(bare.toLowerCase()) ?? bare;
};

function parse(record: unknown): Policy | undefined {
  if (!isRecord(record) || !Array.isArray(record['attributes'])) return undefined;
  const attributes = record['attributes'].filter(isRecord).flatMap((a): Attribute[] =>
    typeof a['name'] === 'string' && typeof a['jsonPath'] === 'string'
      ? [{ name: a['name'], field: fieldOf(a['jsonPath']), patternId: typeof a['patternId'] === 'string' ? a['patternId'] : null, visibility: visibilityOf(a['defaultVisibility']) ?? 'MASKED' }]
      : [],
  );
  const roles = (Array.isArray(record['roleBasedDecryptionPolicy']) ? record['roleBasedDecryptionPolicy'] : []).filter(isRecord).map((entry) => ({
    roles: new Set((Array.isArray(entry['roles']) ? entry['roles'] : []).filter((r): r is string => typeof r === 'string')),
    access: new Map(
      (Array.isArray(entry['attributeAccessList']) ? entry['attributeAccessList'] : [])
        .filter(isRecord)
        .flatMap((e): Array<[string, Visibility]> => {
          const v = visibilityOf(e['firstLevelVisibility']);
          return typeof e['attribute'] === 'string' && v ? [[e['attribute'], v]] : [];
        }),
    ),
  }));
  return { attributes, roles };
}

const MASK_ALL: Policy = { attributes: PERSONAL_FIELDS.map((field) => ({ name: field, field, patternId: null, visibility: 'MASKED' })), roles: [] };

function compile(records: readonly unknown[]): Map<string, RegExp | undefined> {
  const patterns = new Map<string, RegExp | undefined>();
  for (const r of records) {
    if (!isRecord(r) || typeof r['patternId'] !== 'string' || typeof r['pattern'] !== 'string') continue;
    try {
      patterns.set(r['patternId'], new RegExp(r['pattern'], 'gu'));
    } catch {
      // A pattern JavaScript cannot run (DIGIT's 004 uses Java's `\G`) masks the whole value.
      patterns.set(r['patternId'], undefined);
    }
  }
  return patterns;
}

export function maskValue(value: string, pattern: RegExp | undefined): string {
  return pattern ? value.replace(pattern, '*') : '*'.repeat([...value].length);
}

/** Where the policy records come from: MDMS `DataSecurity` at the state tenant. */
export type DataSecurityMasters = (stateTenantId: string) => Promise<{ policies: readonly unknown[]; patterns: readonly unknown[] }>;

export type UserRedactor = <U extends { uuid: string; tenantId: string }>(viewer: UserInfo | null, users: U[]) => Promise<U[]>;

/**
 * Answers copies of `users` as `viewer` may see them. No viewer: the platform itself, which sees
 * everything (services calling the user module directly). A user always sees their own record
 * through `UserSelf` (plain by default).
 */
export function createUserRedactor(masters: DataSecurityMasters): UserRedactor {
  const cache = new WeakMap<readonly unknown[], { other: Policy; self: Policy | undefined; patterns: Map<string, RegExp | undefined> }>();
  async function policiesOf(state: string) {
    const { policies, patterns } = await masters(state);
    const cached = cache.get(policies);
    if (cached) return cached;
    const byModel = (model: string) => parse(policies.find((p) => isRecord(p) && p['model'] === model));
    const built = { other: byModel('User') ?? MASK_ALL, self: byModel('UserSelf'), patterns: compile(patterns) };
    cache.set(policies, built);
    return built;
  }

  const visibilities = (policy: Policy, roles: readonly RoleGrant[], tenantId: string) => {
    const held = new Set(roles.filter((r) => typeof r.tenantId === 'string' && tenantCovers(r.tenantId, tenantId)).map((r) => r.code));
    const result = new Map(policy.attributes.map((a) => [a.name, a.visibility]));
    for (const entry of policy.roles) {
      if (![...entry.roles].some((r) => held.has(r))) continue;
      for (const [attribute, v] of entry.access) {
        const now = result.get(attribute);
        if (now === undefined || RANK[v] > RANK[now]) result.set(attribute, v);
      }
    }
    return result;
  };

  return async (viewer, users) => {
    if (!viewer) return users;
    const answers: typeof users = [];
    for (const user of users) {
      const { other, self, patterns } = await policiesOf(stateTenantOf(user.tenantId));
      const policy = user.uuid === viewer.uuid ? (self ?? { attributes: [], roles: [] }) : other;
      const seen = visibilities(policy, viewer.roles, user.tenantId);
      const copy: Record<string, unknown> = { ...user };
      for (const attribute of policy.attributes) {
        const visibility = seen.get(attribute.name) ?? attribute.visibility;
        const value = copy[attribute.field];
        if (visibility === 'PLAIN' || typeof value !== 'string') continue;
        copy[attribute.field] = visibility === 'NONE' ? null : maskValue(value, patterns.get(attribute.patternId ?? ''));
      }
      answers.push(copy as typeof user);
    }
    return answers;
  };
}
