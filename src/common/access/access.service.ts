import type { Authorizer } from '../../kernel/auth.js';
import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import { stateTenantOf, tenantCovers } from '../../kernel/tenancy.js';
import { SYSTEM_SCOPE, type Scope } from '../../kernel/scope.js';
import type { Actor, MdmsService } from '../mdms/index.js';
import type { Action, Role, RoleInput } from './access.schema.js';

export const ROLES_SCHEMA = 'ACCESSCONTROL-ROLES.roles';
const ROLES_MODULE = 'ACCESSCONTROL-ROLES';
const ROLES_MASTER = 'roles';
const ACTIONS_MODULE = 'ACCESSCONTROL-ACTIONS-TEST';
/** DIGIT's default `actionMaster`; a state may keep its menu in another master of the same module. */
export const DEFAULT_ACTION_MASTER = 'actions-test';
const ROLE_ACTIONS_MODULE = 'ACCESSCONTROL-ROLEACTIONS';
const ROLE_ACTIONS_MASTER = 'roleactions';
const CHANGE_TOPIC = 'mdms';

/** Per-URI answers kept per state; bounded because URIs carry ids (`/user/users/42/_update…`). */
const MAX_MEMOISED_URIS = 10_000;
/** States are few; the bound only stops made-up tenant ids from growing the cache. */
const MAX_STATES = 1_000;

export type AccessServiceDeps = { mdms: MdmsService; changes: ChangeFeed };

export type ActionCriteria = { roleCodes: readonly string[]; tenantId: string; enabled?: boolean | null; actionMaster?: string | null };
export type RoleCriteria = { codes?: readonly string[] | null; tenantId: string };

/** The role → URL mapping of one state, compiled for the per-request check. */
type CompiledMapping = {
  /** Role codes that may call `uri`: exact URLs first, then templated ones; memoised. */
  rolesFor(uri: string): ReadonlySet<string>;
};

type Template = { pattern: RegExp; roles: Set<string> };

const NO_ROLES: ReadonlySet<string> = new Set();
const EMPTY_MAPPING: CompiledMapping = { rolesFor: () => NO_ROLES };

const PLACEHOLDER = /\{[^/{}]+\}/g;

/**
 * `/mdms-v2/v2/_create/{schemaCode}` → `^/mdms-v2/v2/_create/[^/]+$`. DIGIT substitutes `\w+`, which
 * misses codes such as `common-masters.Department`; one whole path segment is what the URL means.
 */
export function templatePattern(url: string): RegExp {
  const escape = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const literals = url.split(PLACEHOLDER).map(escape);
  return new RegExp(`^${literals.join('[^/]+')}$`);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** MDMS validates records against their schema, but a city override or a loosened schema may not; skip what cannot be read. */
function actionOf(record: unknown): Action | undefined {
  if (!isRecord(record)) return undefined;
  const { id, url, name } = record;
  if (typeof id !== 'number' || typeof url !== 'string' || url === '') return undefined;
  return {
    ...record,
    id,
    name: typeof name === 'string' ? name : url,
    url,
    displayName: stringOrNull(record['displayName']),
    orderNumber: numberOrNull(record['orderNumber']),
    queryParams: stringOrNull(record['queryParams']),
    parentModule: stringOrNull(record['parentModule']),
    enabled: record['enabled'] === true,
    serviceCode: stringOrNull(record['serviceCode']),
    code: stringOrNull(record['code']),
    path: stringOrNull(record['path']),
    navigationURL: stringOrNull(record['navigationURL']),
    leftIcon: stringOrNull(record['leftIcon']),
    rightIcon: stringOrNull(record['rightIcon']),
    createdDate: numberOrNull(record['createdDate']),
    createdBy: stringOrNull(record['createdBy']),
    lastModifiedDate: numberOrNull(record['lastModifiedDate']),
    lastModifiedBy: stringOrNull(record['lastModifiedBy']),
  };
}

function roleActionOf(record: unknown): { rolecode: string; actionid: number } | undefined {
  if (!isRecord(record)) return undefined;
  const { rolecode, actionid } = record;
  return typeof rolecode === 'string' && typeof actionid === 'number' ? { rolecode, actionid } : undefined;
}

function roleOf(record: unknown): Role | undefined {
  if (!isRecord(record) || typeof record['code'] !== 'string') return undefined;
  const name = record['name'];
  return { name: typeof name === 'string' ? name : record['code'], code: record['code'], description: stringOrNull(record['description']) };
}

function compile(actions: readonly Action[], roleActions: readonly { rolecode: string; actionid: number }[]): CompiledMapping {
  const urlById = new Map(actions.map((a) => [a.id, a.url]));
  const exact = new Map<string, Set<string>>();
  const templates = new Map<string, Template>();
  for (const { rolecode, actionid } of roleActions) {
    // A mapping to an action that is missing or deactivated grants nothing.
    const url = urlById.get(actionid);
    if (url === undefined) continue;
    if (url.includes('{')) {
      let template = templates.get(url);
      if (!template) templates.set(url, (template = { pattern: templatePattern(url), roles: new Set() }));
      template.roles.add(rolecode);
    } else {
      let roles = exact.get(url);
      if (!roles) exact.set(url, (roles = new Set()));
      roles.add(rolecode);
    }
  }
  const compiledTemplates = [...templates.values()];
  const memo = new Map<string, ReadonlySet<string>>();
  return {
    rolesFor(uri) {
      const known = memo.get(uri);
      if (known) return known;
      const matching = compiledTemplates.filter((t) => t.pattern.test(uri));
      let roles: ReadonlySet<string> = exact.get(uri) ?? NO_ROLES;
      if (matching.length > 0) roles = new Set([...roles, ...matching.flatMap((t) => [...t.roles])]);
      if (memo.size >= MAX_MEMOISED_URIS) memo.clear();
      memo.set(uri, roles);
      return roles;
    },
  };
}

/**
 * DIGIT's egov-accesscontrol over MDMS: roles, actions and role-actions are masters kept at the
 * state tenant; `isAuthorized` is the gateway's per-request question and runs from memory.
 */
export function createAccessService({ mdms, changes }: AccessServiceDeps) {
  // Unknown tenants are not kept, so made-up ids cannot push real states out.
  const compiled = createReadCache<CompiledMapping>(changes, CHANGE_TOPIC, { maxSize: MAX_STATES, keep: (mapping) => mapping !== EMPTY_MAPPING });

  async function masters(tenantId: string, wanted: readonly { module: string; master: string }[]) {
    const result = await mdms.searchV1({
      tenantId,
      moduleDetails: wanted.map(({ module, master }) => ({ moduleName: module, masterDetails: [{ name: master }] })),
    }, SYSTEM_SCOPE);
    return (module: string, master: string): unknown[] => result[module]?.[master] ?? [];
  }

  async function load(stateTenant: string): Promise<CompiledMapping> {
    let read;
    try {
      read = await masters(stateTenant, [
        { module: ACTIONS_MODULE, master: DEFAULT_ACTION_MASTER },
        { module: ROLE_ACTIONS_MODULE, master: ROLE_ACTIONS_MASTER },
      ]);
    } catch (error) {
      // An unknown or malformed tenant has no role-actions, so nothing is allowed there.
      if (error instanceof DomainError && error.kind === 'invalid') return EMPTY_MAPPING;
      throw error;
    }
    const actions = read(ACTIONS_MODULE, DEFAULT_ACTION_MASTER).flatMap((r) => actionOf(r) ?? []);
    const roleActions = read(ROLE_ACTIONS_MODULE, ROLE_ACTIONS_MASTER).flatMap((r) => roleActionOf(r) ?? []);
    return compile(actions, roleActions);
  }

  /** Synchronous when cached: authorization runs on every request. */
  function mappingOf(stateTenant: string): CompiledMapping | Promise<CompiledMapping> {
    return compiled.peek(stateTenant) ?? compiled.get(stateTenant, () => load(stateTenant));
  }

  /**
   * The tenants where one of `roles` allows `uri`: each grant counts on its own tenant (and every
   * tenant below it) when its state's role-action mapping gives its role the URI. Runs per request,
   * from the compiled mappings in memory.
   */
  const scopeFor: Authorizer['scopeFor'] = async (roles, uri) => {
    const path = uri.split('?', 1)[0] ?? uri;
    const tenants = new Set<string>();
    for (const role of roles) {
      if (typeof role.tenantId !== 'string' || role.tenantId === '' || typeof role.code !== 'string') continue;
      if (tenants.has(role.tenantId)) continue;
      const mapping = await mappingOf(stateTenantOf(role.tenantId));
      if (mapping.rolesFor(path).has(role.code)) tenants.add(role.tenantId);
    }
    return [...tenants];
  };

  // Stricter than DIGIT, which lets one covered tenant open the whole request: every tenant
  // the request touches needs a role of its own, or a city role would reach into other cities.
  const isAuthorized: Authorizer['isAuthorized'] = async (roles, uri, tenantIds) => {
    if (tenantIds.length === 0 || roles.length === 0) return false;
    const scope = await scopeFor(roles, uri);
    return tenantIds.every((tenantId) => scope.some((root) => tenantCovers(root, tenantId)));
  };

  async function rolesAt(tenantId: string): Promise<Role[]> {
    const read = await masters(tenantId, [{ module: ROLES_MODULE, master: ROLES_MASTER }]);
    return read(ROLES_MODULE, ROLES_MASTER).flatMap((r) => roleOf(r) ?? []);
  }

  /** The master record of each role code at `tenantId`, active or not, for updates and duplicate checks. */
  async function roleRecords(tenantId: string, codes: readonly string[]) {
    const records = await mdms.searchData({ tenantId, schemaCode: ROLES_SCHEMA, uniqueIdentifiers: [...codes], limit: 1000 }, SYSTEM_SCOPE);
    // searchData falls back to the state's records; only the tenant's own can be updated here.
    return new Map(records.filter((r) => r.tenantId === tenantId).map((r) => [r.uniqueIdentifier, r]));
  }

  function assertDistinct(roles: readonly RoleInput[]): void {
    const seen = new Set<string>();
    for (const { code } of roles) {
      if (seen.has(code)) throw invalid('DUPLICATE_ROLE_CODE', `Role code "${code}" appears more than once in the request`, [code]);
      seen.add(code);
    }
  }

  const roleData = (role: RoleInput, previous: Record<string, unknown> = {}) => {
    const data: Record<string, unknown> = { ...previous, code: role.code, name: role.name };
    if (role.description !== undefined && role.description !== null) data['description'] = role.description;
    else if (role.description === null) delete data['description'];
    return data;
  };

  return {
    /** The kernel's Authorizer: may these roles call `uri` on every one of these tenants? */
    isAuthorized,
    /** The kernel's Authorizer: the tenants these roles may call `uri` on (the caller's Scope). */
    scopeFor,

    /** Actions mapped to any of `roleCodes` at the tenant (MDMS fallback applies), by id; the UI builds its menu from them. */
    async searchActions(criteria: ActionCriteria): Promise<Action[]> {
      const master = criteria.actionMaster || DEFAULT_ACTION_MASTER;
      const read = await masters(criteria.tenantId, [
        { module: ACTIONS_MODULE, master },
        { module: ROLE_ACTIONS_MODULE, master: ROLE_ACTIONS_MASTER },
      ]);
      const roleCodes = new Set(criteria.roleCodes);
      const actionIds = new Set(
        read(ROLE_ACTIONS_MODULE, ROLE_ACTIONS_MASTER)
          .flatMap((r) => roleActionOf(r) ?? [])
          .filter((ra) => roleCodes.has(ra.rolecode))
          .map((ra) => ra.actionid),
      );
      const enabled = criteria.enabled ?? undefined;
      return read(ACTIONS_MODULE, master)
        .flatMap((r) => actionOf(r) ?? [])
        .filter((a) => actionIds.has(a.id) && (enabled === undefined || a.enabled === enabled))
        .sort((a, b) => a.id - b.id);
    },

    /** Roles defined at the tenant (MDMS fallback applies); every role when `codes` is empty. */
    async searchRoles(criteria: RoleCriteria): Promise<Role[]> {
      const roles = await rolesAt(criteria.tenantId);
      const codes = criteria.codes && criteria.codes.length > 0 ? new Set(criteria.codes) : undefined;
      return codes ? roles.filter((r) => codes.has(r.code)) : roles;
    },

    /**
     * Adds roles to the state's roles master. All are checked before the first write; the writes
     * themselves are one MDMS transaction each (MdmsApi offers no batch).
     */
    async createRoles(roles: readonly RoleInput[], tenantId: string, actor: Actor, scope: Scope): Promise<Role[]> {
      assertDistinct(roles);
      const state = stateTenantOf(tenantId);
      const existing = await roleRecords(
        state,
        roles.map((r) => r.code),
      );
      const taken = roles.filter((r) => existing.has(r.code)).map((r) => r.code);
      if (taken.length > 0) throw invalid('DUPLICATE_ROLE_CODE', `Role code(s) ${taken.join(', ')} already exist at ${state}`, taken);
      const created: Role[] = [];
      for (const role of roles) {
        const record = await mdms.createData(
          ROLES_SCHEMA,
          { tenantId: state, schemaCode: ROLES_SCHEMA, data: roleData(role), isActive: true },
          actor,
          scope,
        );
        created.push(roleOf(record.data) ?? { code: role.code, name: role.name, description: role.description ?? null });
      }
      return created;
    },

    /** Changes the name and description of existing roles; the code is the key and cannot change. */
    async updateRoles(roles: readonly RoleInput[], tenantId: string, actor: Actor, scope: Scope): Promise<Role[]> {
      assertDistinct(roles);
      const state = stateTenantOf(tenantId);
      const existing = await roleRecords(
        state,
        roles.map((r) => r.code),
      );
      const missing = roles.filter((r) => !existing.has(r.code)).map((r) => r.code);
      if (missing.length > 0) throw invalid('INVALID_ROLE_CODE', `Role code(s) ${missing.join(', ')} do not exist at ${state}`, missing);
      const updated: Role[] = [];
      for (const role of roles) {
        const record = existing.get(role.code)!;
        const previous = isRecord(record.data) ? record.data : {};
        const saved = await mdms.updateData(
          ROLES_SCHEMA,
          {
            id: record.id,
            tenantId: state,
            schemaCode: ROLES_SCHEMA,
            data: roleData(role, previous),
            isActive: record.isActive,
            auditDetails: record.auditDetails,
          },
          actor,
          scope,
        );
        updated.push(roleOf(saved.data) ?? { code: role.code, name: role.name, description: role.description ?? null });
      }
      return updated;
    },

    /** Stops listening to the change feed (module stop). */
    close(): void {
      compiled.clear();
      compiled.close();
    },
  };
}

export type AccessService = ReturnType<typeof createAccessService>;
