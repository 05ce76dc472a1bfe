import type { RoleGrant, UserInfo } from '../../kernel/auth.js';
import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import { DomainError } from '../../kernel/errors.js';
import { stateTenantOf, tenantCovers } from '../../kernel/tenancy.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { MdmsService } from '../mdms/index.js';

/** MDMS master of the role-grant policy: which granter role may create or change users holding which roles. */
export const GRANTS_MODULE = 'ACCESSCONTROL-ROLES';
export const GRANTS_MASTER = 'rolegrants';

/**
 * One rule of a state's policy. A caller holding `granterRole` on tenant T may create or change a
 * user of one of `userTypes` whose record and every role (before and after the change) are on T or
 * below it, and whose roles are all in `roles` (`*`: any role). `stateWide` also lets the rule reach
 * the state tenant of T: citizens live at the state (`pb`), so a city CSR needs it to create one.
 */
export type GrantRule = { granterRole: string; roles: ReadonlySet<string>; userTypes: ReadonlySet<string>; stateWide: boolean };

/** The user a grant is about: its record's tenant and type, and the roles it would hold. */
export type GrantTarget = { tenantId: string; type: string; roles: readonly RoleGrant[] };

export type GrantPolicy = {
  /** Undefined when `caller` may create or change `target`; else the first thing it may not do. */
  refusal(caller: UserInfo, target: GrantTarget): Promise<string | undefined>;
  /** Throws 403 ROLE_GRANT_NOT_ALLOWED unless `refusal` answers undefined. */
  assertMayGrant(caller: UserInfo, target: GrantTarget): Promise<void>;
  close(): void;
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Records that do not read as a rule grant nothing (MDMS validated them, but a city override may not be). */
export function ruleOf(record: unknown): GrantRule | undefined {
  if (!isRecord(record) || typeof record['granterRole'] !== 'string') return undefined;
  return {
    granterRole: record['granterRole'],
    roles: new Set(strings(record['roles'])),
    userTypes: new Set(strings(record['userTypes'])),
    stateWide: record['stateWide'] === true,
  };
}

/** Without a policy in MDMS (a state seeded before it existed), only SUPERUSER grants, within its own tenant. */
const FALLBACK: readonly GrantRule[] = [{ granterRole: 'SUPERUSER', roles: new Set(['*']), userTypes: new Set(['*']), stateWide: false }];

const allows = (set: ReadonlySet<string>, value: string) => set.has('*') || set.has(value);
const reaches = (granterTenant: string, rule: GrantRule, tenantId: string) =>
  tenantCovers(granterTenant, tenantId) || (rule.stateWide && tenantId === stateTenantOf(granterTenant));

/** The pure decision, for tests and for `createGrantPolicy`: `rulesOf` answers a state's rules. */
export function grantRefusal(callerRoles: readonly RoleGrant[], target: GrantTarget, rulesOf: (state: string) => readonly GrantRule[]): string | undefined {
  // A granter role: a role of the caller with a rule in its own state's policy.
  const granters = callerRoles.flatMap((role) => {
    if (typeof role.tenantId !== 'string') return [];
    return rulesOf(stateTenantOf(role.tenantId))
      .filter((rule) => rule.granterRole === role.code)
      .map((rule) => ({ tenantId: role.tenantId, rule }));
  });
  // The record itself must be within reach of a rule for its type; so must each of its roles.
  const usable = granters.filter((g) => allows(g.rule.userTypes, target.type) && reaches(g.tenantId, g.rule, target.tenantId));
  if (usable.length === 0) return `users of type ${target.type} on ${target.tenantId}`;
  for (const grant of target.roles) {
    if (!usable.some((g) => allows(g.rule.roles, grant.code) && reaches(g.tenantId, g.rule, grant.tenantId))) return `${grant.code} on ${grant.tenantId}`;
  }
  return undefined;
}

/** The role-grant policy of each state, read from MDMS and kept until MDMS changes. */
export function createGrantPolicy({ mdms, changes }: { mdms: MdmsService; changes: ChangeFeed }): GrantPolicy {
  const cache = createReadCache<{ rules: readonly GrantRule[] }>(changes, 'mdms', { maxSize: 1_000 });

  async function load(state: string): Promise<{ rules: readonly GrantRule[] }> {
    let records: unknown[];
    try {
      const result = await mdms.searchV1({ tenantId: state, moduleDetails: [{ moduleName: GRANTS_MODULE, masterDetails: [{ name: GRANTS_MASTER }] }] }, SYSTEM_SCOPE);
      records = result[GRANTS_MODULE]?.[GRANTS_MASTER] ?? [];
    } catch (error) {
      // An unknown or malformed tenant has no policy: nothing can be granted there.
      if (error instanceof DomainError && error.kind === 'invalid') return { rules: [] };
      throw error;
    }
    const rules = records.flatMap((r) => ruleOf(r) ?? []);
    return { rules: rules.length > 0 ? rules : FALLBACK };
  }

  async function refusal(caller: UserInfo, target: GrantTarget): Promise<string | undefined> {
    const states = new Set(caller.roles.filter((r) => typeof r.tenantId === 'string').map((r) => stateTenantOf(r.tenantId)));
    const byState = new Map<string, readonly GrantRule[]>();
    for (const state of states) byState.set(state, (await cache.get(state, () => load(state))).rules);
    return grantRefusal(caller.roles, target, (state) => byState.get(state) ?? []);
  }

  return {
    refusal,
    async assertMayGrant(caller, target) {
      const refused = await refusal(caller, target);
      if (refused !== undefined) {
        throw new DomainError('forbidden', { code: 'ROLE_GRANT_NOT_ALLOWED', message: `Your roles may not create or change ${refused}` });
      }
    },
    close() {
      cache.clear();
      cache.close();
    },
  };
}
